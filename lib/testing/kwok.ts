/**
 * kwok: fake Nodes and fake pod lifecycles, so the scheduler binds pods and Jobs finish without
 * a kubelet or containers. kwok v0.8.0 has no built-in stages; hack/binaries.sh copies its stock
 * ones next to the binary, and this module adds Steward's own pod-completion stages.
 *
 * Pod lifecycle under kwok here: Pending → (pod-ready) Running → (steward-pod-*) Succeeded or
 * Failed; a pod with a deletionTimestamp is deleted at once (pod-delete).
 */
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { BinaryNotFoundError } from './errors.js';

/**
 * Set on a pod (template) to end it with this exit code: `"0"` succeeds, anything else fails the
 * pod with reason `Error` and the code in `status.containerStatuses[].state.terminated.exitCode`.
 * Works on any pod, not only a Job's. The stage models `restartPolicy: Never`.
 */
export const FAKE_EXIT_CODE_ANNOTATION = 'steward.dev/fake-exit-code';

/**
 * A comma-separated `FAKE_EXIT_CODE_ANNOTATION` gives one code per attempt, by this pod label
 * (Steward's Session pods carry it): `"3,0"` fails attempt 1 with 3 and succeeds from attempt 2
 * on (the last code repeats).
 */
export const FAKE_ATTEMPT_LABEL = 'steward.dev/attempt';

/**
 * Set on a pod (template) to keep it Running for this many seconds (a decimal number) before it
 * completes. Applies to Job pods and to pods with `FAKE_EXIT_CODE_ANNOTATION`; other pods (say a
 * Deployment's) run until deleted.
 */
export const FAKE_RUN_SECONDS_ANNOTATION = 'steward.dev/fake-run-seconds';

/**
 * Set on a pod (template) to give its container this termination message when it ends, as if it
 * had written it to /dev/termination-log: a Session records it as its `status.result`.
 */
export const FAKE_RESULT_ANNOTATION = 'steward.dev/fake-result';

/**
 * Set on a pod (template) to make it fail the way infrastructure or the runtime fails pods,
 * one comma-separated value per attempt by `FAKE_ATTEMPT_LABEL` (the last repeats), each one of
 * `FAKE_FAILURES` or `none` (behave as the other annotations say). `"Evicted,none"` evicts
 * attempt 1's pod and lets attempt 2's run normally.
 * - `OOMKilled`: once Running (after `FAKE_RUN_SECONDS_ANNOTATION`), the container is killed:
 *   exit code 137, reason OOMKilled, pod Failed.
 * - `Evicted`: once Running, the kubelet evicts the pod: pod Failed with reason Evicted and a
 *   `DisruptionTarget` condition (reason TerminationByKubelet), container exit code 137.
 * - `Preempted`: likewise with `DisruptionTarget` reason PreemptionByScheduler.
 * - `ImagePull`: the pod never runs: it stays Pending with its container waiting in
 *   ErrImagePull.
 */
export const FAKE_FAILURE_ANNOTATION = 'steward.dev/fake-failure';
/** The values `FAKE_FAILURE_ANNOTATION` takes. */
export const FAKE_FAILURES = ['OOMKilled', 'Evicted', 'Preempted', 'ImagePull'] as const;

/** kwok's stock stages that the harness loads; its pod-complete is replaced by the ones below. */
const STOCK_STAGES = [
  'node-initialize.yaml',
  'node-heartbeat-with-lease.yaml',
  'pod-ready.yaml',
  'pod-delete.yaml',
];

// A missing annotation yields no value (`empty`), which kwok reads as "no delay".
const RUN_DELAY = `
  delay:
    durationFrom:
      jq:
        expression: '.metadata.annotations["${FAKE_RUN_SECONDS_ANNOTATION}"] // empty | . + "s"'`;

const RUNNING_NOT_DELETING = `
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Running'`;

/** `codeTemplate` is Go template text that sets `$code` (a string). */
function terminatedTemplate(codeTemplate: string, reason: string, phase: string): string {
  return `
  next:
    statusTemplate: |
      {{ $now := Now }}
      ${codeTemplate}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: {{ $code }}
            finishedAt: {{ $now | Quote }}
            reason: ${reason}
            startedAt: {{ $now | Quote }}
            {{ with $.metadata.annotations }}{{ with index . "${FAKE_RESULT_ANNOTATION}" }}message: {{ . | Quote }}{{ end }}{{ end }}
      {{ end }}
      phase: ${phase}`;
}

// The annotation's codes, comma-separated, indexed by the pod's steward.dev/attempt label (1-based;
// the last code repeats; no label means the first).
const EXIT_CODE_BY_ATTEMPT = [
  `{{ $codes := splitList "," (index .metadata.annotations "${FAKE_EXIT_CODE_ANNOTATION}") }}`,
  '{{ $i := 0 }}',
  `{{ with .metadata.labels }}{{ with index . "${FAKE_ATTEMPT_LABEL}" }}{{ $i = sub (atoi .) 1 }}{{ end }}{{ end }}`,
  '{{ $i = max 0 (min $i (sub (len $codes) 1)) }}',
  '{{ $code := trim (index $codes $i) }}',
].join('\n      ');

// This attempt's fake failure (jq): the annotation's value at the pod's attempt, or null.
const FAILURE = [
  `(.metadata.annotations["${FAKE_FAILURE_ANNOTATION}"] // "" | split(",")) as $f`,
  `| ((.metadata.labels["${FAKE_ATTEMPT_LABEL}"] // "1") | tonumber) as $a`,
  '| ($f[([$a, ($f | length)] | min) - 1] // "" | gsub(" "; ""))',
  '| if . == "" or . == "none" then null else . end',
].join(' ');

const failureIs = (op: 'In' | 'NotIn', values: string[]) => `
    - key: '${FAILURE}'
      operator: '${op}'
      values:${values
        .map(
          (v) => `
      - '${v}'`,
        )
        .join('')}`;

const NO_FAILURE = `
    - key: '${FAILURE}'
      operator: 'DoesNotExist'`;

/** A Running pod failed by the infrastructure or the runtime, after its run delay. */
function failureStage(name: string, failure: string, next: string): string {
  return `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:${RUNNING_NOT_DELETING}${failureIs('In', [failure])}${RUN_DELAY}
  next:
    statusTemplate: |${next}`;
}

function containersTerminated(exitCode: number, reason: string): string {
  return `
      {{ $now := Now }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: ${exitCode}
            finishedAt: {{ $now | Quote }}
            reason: ${reason}
            startedAt: {{ $now | Quote }}
      {{ end }}`;
}

function disrupted(reason: string, message: string, podReason?: string): string {
  return `${containersTerminated(137, 'Error')}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: DisruptionTarget
        reason: ${reason}
        message: "${message}"
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: Ready
      phase: Failed${
        podReason
          ? `
      reason: ${podReason}
      message: "${message}"`
          : ''
      }`;
}

const FAILURE_STAGES = [
  failureStage(
    'steward-pod-oom-killed',
    'OOMKilled',
    `${containersTerminated(137, 'OOMKilled')}
      phase: Failed`,
  ),
  failureStage(
    'steward-pod-evicted',
    'Evicted',
    disrupted('TerminationByKubelet', 'The node was low on resource: memory.', 'Evicted'),
  ),
  failureStage(
    'steward-pod-preempted',
    'Preempted',
    disrupted('PreemptionByScheduler', 'Preempted in order to admit a higher-priority pod'),
  ),
  `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: steward-pod-image-pull
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Pending'
    - key: '.status.containerStatuses.[].state.waiting.reason'
      operator: 'NotIn'
      values:
      - 'ErrImagePull'${failureIs('In', ['ImagePull'])}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: PodScheduled
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: Ready
        reason: ContainersNotReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          waiting:
            reason: ErrImagePull
            message: 'failed to pull and unpack image {{ .image }}: pull access denied, repository does not exist or may require authorization'
      {{ end }}
      phase: Pending
      startTime: {{ $now | Quote }}`,
].join('\n---');

/** Steward's pod-completion stages; their selectors exclude each other, as kwok picks at random. */
const STEWARD_STAGES = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: steward-pod-complete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:${RUNNING_NOT_DELETING}
    - key: '.metadata.ownerReferences.[].kind'
      operator: 'In'
      values:
      - 'Job'
    - key: '.metadata.annotations["${FAKE_EXIT_CODE_ANNOTATION}"]'
      operator: 'DoesNotExist'${NO_FAILURE}${RUN_DELAY}${terminatedTemplate('{{ $code := "0" }}', 'Completed', 'Succeeded')}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: steward-pod-exit-code
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:${RUNNING_NOT_DELETING}
    - key: '.metadata.annotations["${FAKE_EXIT_CODE_ANNOTATION}"]'
      operator: 'Exists'${NO_FAILURE}${RUN_DELAY}${terminatedTemplate(
        EXIT_CODE_BY_ATTEMPT,
        `{{ if eq $code "0" }}Completed{{ else }}Error{{ end }}`,
        `{{ if eq $code "0" }}Succeeded{{ else }}Failed{{ end }}`,
      )}
---${FAILURE_STAGES}
`;

/** The whole kwok `--config` file: the stock stages from `stagesDir` plus Steward's. */
export async function kwokConfig(stagesDir: string): Promise<string> {
  const docs: string[] = [];
  for (const file of STOCK_STAGES) {
    try {
      let doc = (await readFile(join(stagesDir, file), 'utf8')).trim();
      // A pod whose image cannot be pulled must not become Ready either.
      if (file === 'pod-ready.yaml')
        doc = doc.replace(/^ {4}matchExpressions:$/m, (m) => m + failureIs('NotIn', ['ImagePull']));
      docs.push(doc);
    } catch {
      throw new BinaryNotFoundError(
        'kwok stages',
        `kwok stage ${file} not found in ${stagesDir}; run 'make binaries' (hack/binaries.sh) or put kwok's stock stages there`,
      );
    }
  }
  docs.push(STEWARD_STAGES.trim());
  return `${docs.join('\n---\n')}\n`;
}

/** The fake nodes kwok keeps Ready. */
export interface FakeNodeOptions {
  /** How many nodes. Default 1. */
  count?: number;
  /** Name prefix; nodes are `<prefix>-0`, `<prefix>-1`, ... Default `kwok-node`. */
  namePrefix?: string;
  /** Capacity (= allocatable) of each node. Default 32 CPUs, 256Gi memory, 500 pods. */
  capacity?: Record<string, string>;
}

/** Creates the fake Node objects that kwok (with `--manage-all-nodes`) then keeps Ready. */
export async function createFakeNodes(kubeConfig: KubeConfig, opts: FakeNodeOptions = {}): Promise<string[]> {
  const {
    count = 1,
    namePrefix = 'kwok-node',
    capacity = { cpu: '32', memory: '256Gi', pods: '500' },
  } = opts;
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const names = Array.from({ length: count }, (_, i) => `${namePrefix}-${i}`);
  await Promise.all(
    names.map((name) => {
      const body: V1Node = {
        metadata: {
          name,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: {
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'kubernetes.io/role': 'agent',
            type: 'kwok',
          },
        },
        // Nodes register with their status (as a kubelet does); kwok's node-initialize keeps it.
        status: { capacity, allocatable: capacity },
      };
      return api.createNode({ body });
    }),
  );
  return names;
}
