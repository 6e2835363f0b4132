/**
 * Helpers for tests that talk to a real API server: install CRDs from manifest files, and play
 * the Job controller where only kube-apiserver runs (no controller manager).
 */
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import type { Client } from '../client/client.js';
import { isAlreadyExists } from '../client/errors.js';
import type { KubernetesObject, ObjectKey } from '../client/object.js';
import { type WaitOptions, waitFor } from './wait.js';

const CRD_GVK = { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' };
const JOB_GVK = { group: 'batch', version: 'v1', kind: 'Job' };

/** The objects of a YAML (or JSON) file with one or more documents. */
export function readManifests(path: string): KubernetesObject[] {
  // js-yaml, not client-node's loadAllYaml: that one converts to typed models and renames
  // fields such as x-kubernetes-preserve-unknown-fields.
  return loadAll(readFileSync(path, 'utf8')).filter(
    (d): d is KubernetesObject => d !== null && typeof d === 'object',
  );
}

/** Creates the objects, leaving alone those that exist already. */
export async function createAll(client: Client, objects: KubernetesObject[]): Promise<void> {
  for (const o of objects) {
    try {
      await client.create(o);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

/**
 * Creates the CustomResourceDefinitions in `files` and waits until each is Established, then
 * the ValidatingAdmissionPolicies (and their bindings) among them, as `kubectl apply` would:
 * manifests/crd/workflow-tasks-immutable.yaml is the policy that keeps a Workflow's tasks
 * immutable. A policy takes effect a moment after it is created, and the API server does not say
 * when, so a test of one retries until it refuses.
 */
export async function installCRDs(client: Client, files: string[], timeoutMs = 30_000): Promise<void> {
  const objects = files.flatMap(readManifests);
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
  const policies = objects.filter(
    (o) =>
      o.apiVersion?.startsWith('admissionregistration.k8s.io/') &&
      (o.kind === 'ValidatingAdmissionPolicy' || o.kind === 'ValidatingAdmissionPolicyBinding'),
  );
  await createAll(client, crds);
  for (const crd of crds) {
    await waitFor(
      async () => {
        const got = await client.get<
          KubernetesObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
        >(CRD_GVK, { name: crd.metadata!.name! });
        return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { description: `CRD ${crd.metadata!.name} Established`, timeoutMs },
    );
  }
  await createAll(client, policies);
}

/**
 * Marks a Job finished the way the Job controller does (conditions with their success or
 * failure target, counts and times), which kube-apiserver's status validation requires.
 */
export async function finishJob(client: Client, key: ObjectKey, type: 'Complete' | 'Failed'): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const cond = (t: string, reason: string) => ({
    type: t,
    status: 'True',
    reason,
    message: reason,
    lastProbeTime: now,
    lastTransitionTime: now,
  });
  const common = { startTime: now, active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {} };
  const status =
    type === 'Complete'
      ? {
          ...common,
          completionTime: now,
          succeeded: 1,
          conditions: [
            cond('SuccessCriteriaMet', 'CompletionsReached'),
            cond('Complete', 'CompletionsReached'),
          ],
        }
      : {
          ...common,
          failed: 1,
          conditions: [cond('FailureTarget', 'BackoffLimitExceeded'), cond('Failed', 'BackoffLimitExceeded')],
        };
  await client.patchStatus(JOB_GVK, key, { type: 'merge', body: { status } });
}

/** A core/v1 Event as `waitForEvents` returns it: the fields tests look at. */
export interface CoreEvent extends KubernetesObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string };
}

const EVENT_GVK = { group: '', version: 'v1', kind: 'Event' };

/**
 * Waits until the Events in `namespace` about the object named `name` satisfy `until` (every
 * reason listed, or a predicate over them), and resolves with those Events. An event recorder
 * (Steward's, client-go's) writes an Event in the background after the write it tells of, so a
 * single list right after the status shows a change can come back without it.
 */
export async function waitForEvents(
  client: Client,
  namespace: string,
  name: string,
  until: readonly string[] | ((events: CoreEvent[]) => boolean),
  opts: WaitOptions = {},
): Promise<CoreEvent[]> {
  const holds =
    typeof until === 'function'
      ? until
      : (events: CoreEvent[]) => until.every((r) => events.some((e) => e.reason === r));
  return waitFor(
    async () => {
      const events = (await client.list<CoreEvent>(EVENT_GVK, { namespace })).items.filter(
        (e) => e.involvedObject?.name === name,
      );
      return holds(events) ? events : undefined;
    },
    {
      description:
        typeof until === 'function'
          ? `the events of ${namespace}/${name}`
          : `events ${until.join(', ')} on ${namespace}/${name}`,
      ...opts,
    },
  );
}
