import { createHash } from 'node:crypto';
import { type KubernetesObject, setControllerReference } from '../../lib/index.js';
import { LABEL_ATTEMPT, LABEL_MANAGED_BY, LABEL_SESSION, MANAGED_BY, type Session } from './types.js';

/** Annotation with the full Session name (labels are limited to 63 characters). */
export const ANNOTATION_SESSION = 'steward.dev/session';

/**
 * Annotations a Workflow puts on the Sessions of its tasks (on the Session's own metadata, not
 * its template); each attempt's pod gets them as environment variables. This one, the
 * Workflow's name, becomes STEWARD_WORKFLOW.
 */
export const ANNOTATION_WORKFLOW = 'steward.dev/workflow';
/** The task's name, which the pod gets as STEWARD_TASK (see ANNOTATION_WORKFLOW). */
export const ANNOTATION_TASK = 'steward.dev/task';
/**
 * The results of the task's direct dependencies as a JSON object from task name to result,
 * which the pod gets as STEWARD_UPSTREAM (see ANNOTATION_WORKFLOW).
 */
export const ANNOTATION_UPSTREAM = 'steward.dev/upstream';
const WORKFLOW_ENV: Array<[string, string]> = [
  [ANNOTATION_WORKFLOW, 'STEWARD_WORKFLOW'],
  [ANNOTATION_TASK, 'STEWARD_TASK'],
  [ANNOTATION_UPSTREAM, 'STEWARD_UPSTREAM'],
];

const hash8 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/**
 * The Job name of an attempt: `<session>-<attempt>`, deterministic so that a retried create
 * finds the Job it made before. Names that would pass 63 characters (the limit for the
 * job-name label the Job controller adds) are shortened with a hash of the full name.
 */
export function jobName(session: string, attempt: number): string {
  const suffix = `-${attempt}`;
  const name = `${session}${suffix}`;
  if (name.length <= 63) return name;
  return `${session.slice(0, 63 - suffix.length - 9).replace(/[-.]+$/, '')}-${hash8(session)}${suffix}`;
}

/** A label value for the Session name: the name, or a shortened one with a hash. */
export function sessionLabelValue(session: string): string {
  if (session.length <= 63) return session;
  return `${session.slice(0, 54).replace(/[-._]+$/, '')}-${hash8(session)}`;
}

/** Operator-wide settings `buildJob` applies: the runner image and default start timeout. */
export interface JobOptions {
  /** Image when the Session names none (--runner-image). */
  runnerImage?: string;
  /** Default start timeout, seconds. */
  startTimeoutSeconds: number;
  /**
   * Mount the ServiceAccount's API token into the pod (the tenant policy's
   * serviceAccounts.automountToken). Default false: a Session's code gets no API credentials
   * unless the operator's policy says so.
   */
  automountServiceAccountToken?: boolean;
}

/** The name of the container the Session's pod runs. */
export const CONTAINER_NAME = 'session';

/**
 * Makes the Job's own Failed condition say how its pod failed (with backoffLimit 0 the Job
 * fails at the first failure either way): the Job controller then writes `PodFailurePolicy` as
 * the reason and names the disruption condition or the exit code in the message. The Job
 * keeps that after its pod is gone (garbage-collected, its node lost), so the outcome of an
 * attempt can still be told from the Job alone (failure.ts reads it).
 */
export const POD_FAILURE_POLICY = {
  rules: [
    { action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    { action: 'FailJob', onExitCodes: { containerName: CONTAINER_NAME, operator: 'NotIn', values: [0] } },
  ],
};

export interface Job extends KubernetesObject {
  spec?: {
    backoffLimit?: number;
    podFailurePolicy?: typeof POD_FAILURE_POLICY;
    activeDeadlineSeconds?: number;
    template?: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec?: Record<string, unknown>;
    };
  };
  status?: {
    active?: number;
    ready?: number;
    succeeded?: number;
    failed?: number;
    startTime?: string;
    completionTime?: string;
    conditions?: Array<{
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }>;
  };
}

/**
 * The Job for one attempt. Retries are Steward's, so the Job itself never retries
 * (backoffLimit 0, restartPolicy Never); activeDeadlineSeconds is only a backstop behind the
 * reconciler's own exact timeouts. The pod meets the `restricted` Pod Security Standard, and
 * nothing a Session sets reaches its securityContext, host namespaces or volumes: which
 * ServiceAccount, Secrets, tolerations, labels and so on it may ask for is the tenant policy's to
 * decide (checkTenantPolicy), before this is called.
 *
 * The Job never gets `ttlSecondsAfterFinished`, whatever the Session's: the cluster's TTL
 * controller would delete a finished Job (and its pods, which hold the exit code) on its own
 * schedule, possibly before the operator has recorded the attempt's outcome (say while the
 * operator is down). The Session's TTL deletes the Session, after its outcome is recorded, and
 * its Jobs go with it through their owner reference.
 */
export function buildJob(session: Session, attempt: number, opts: JobOptions): Job {
  const spec = session.spec ?? {};
  const t = spec.template ?? {};
  const name = session.metadata!.name!;
  const labels: Record<string, string> = {
    ...t.labels,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_SESSION]: sessionLabelValue(name),
    [LABEL_ATTEMPT]: String(attempt),
  };
  const annotations: Record<string, string> = { ...t.annotations, [ANNOTATION_SESSION]: name };
  const env = [
    ...(t.env ?? []),
    { name: 'STEWARD_SESSION', value: name },
    { name: 'STEWARD_ATTEMPT', value: String(attempt) },
    { name: 'STEWARD_INPUT', value: spec.input === undefined ? '' : JSON.stringify(spec.input) },
  ];
  for (const [annotation, variable] of WORKFLOW_ENV) {
    const value = session.metadata?.annotations?.[annotation];
    if (value !== undefined) env.push({ name: variable, value });
  }
  const container: Record<string, unknown> = {
    name: CONTAINER_NAME,
    image: t.image ?? opts.runnerImage,
    env,
    // The termination message is the Session's result (status.result). A container that fails
    // without writing one gets the tail of its log there instead, which says why it failed.
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  if (t.command) container.command = t.command;
  if (t.args) container.args = t.args;
  if (t.envFrom) container.envFrom = t.envFrom;
  if (t.resources) container.resources = t.resources;
  const podSpec: Record<string, unknown> = {
    restartPolicy: 'Never',
    containers: [container],
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  // Without a token the pod's code cannot act as its ServiceAccount on the API; when the policy
  // allows a token, the ServiceAccount's own automountServiceAccountToken decides.
  if (opts.automountServiceAccountToken !== true) podSpec.automountServiceAccountToken = false;
  if (t.serviceAccountName) podSpec.serviceAccountName = t.serviceAccountName;
  if (t.nodeSelector) podSpec.nodeSelector = t.nodeSelector;
  if (t.tolerations) podSpec.tolerations = t.tolerations;
  const jobSpec: NonNullable<Job['spec']> = {
    backoffLimit: 0,
    podFailurePolicy: POD_FAILURE_POLICY,
    template: { metadata: { labels, annotations }, spec: podSpec },
  };
  if (spec.timeoutSeconds !== undefined) {
    // Backstop only: the reconciler times the attempt out exactly, well before this.
    jobSpec.activeDeadlineSeconds =
      (spec.startTimeoutSeconds ?? opts.startTimeoutSeconds) + spec.timeoutSeconds + 60;
  }
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName(name, attempt), namespace: session.metadata!.namespace, labels, annotations },
    spec: jobSpec,
  };
  return setControllerReference({ apiVersion: 'steward.dev/v1alpha1', kind: 'Session', ...session }, job);
}

/** The Job's terminal condition, if any: Complete or Failed with status True. */
export function jobFinished(
  job: Job,
):
  | { type: 'Complete' | 'Failed'; reason?: string; message?: string; lastTransitionTime?: string }
  | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') {
      return { type: c.type, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime };
    }
  }
  return undefined;
}
