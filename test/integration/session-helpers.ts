// Shared by the Session integration tests: manifests, an in-process operator, and a stand-in
// for the Job controller and the kubelet (kube-apiserver alone runs no Jobs).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  type Job,
  jobName,
  LABEL_ATTEMPT,
  LABEL_SESSION,
  sessionLabelValue,
  ANNOTATION_SESSION,
  setupSessionController,
  type TenantPolicy,
} from '../../controllers/session/index.js';
import { setupScheduleController } from '../../controllers/schedule/index.js';
import {
  type Client,
  isAlreadyExists,
  type KubernetesObject,
  type Logger,
  Manager,
} from '../../lib/index.js';
import {
  createAll,
  finishJob as finishJobAt,
  installCRDs,
  readManifests,
  waitFor,
} from '../../lib/testing/index.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
export const POD = { group: '', version: 'v1', kind: 'Pod' };
export const CRD = { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' };

/** Every object of the YAML files in a manifests/ directory (kustomization files excluded). */
export function manifests(dir: string): KubernetesObject[] {
  const path = join(ROOT, 'manifests', dir);
  return readdirSync(path)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => readManifests(join(path, f)))
    .filter((o) => o.kind);
}

export const apply = createAll;

/** Installs the Session CRD and waits until it is Established. */
export async function installCrd(client: Client): Promise<void> {
  await installCRDs(client, [join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml')]);
}

/** Runs the operator in this process. */
/** Installs the Schedule CRD (with the Session CRD its runs need) and waits until Established. */
export async function installScheduleCrd(client: Client): Promise<void> {
  await installCRDs(client, [
    join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml'),
    join(ROOT, 'manifests', 'crd', 'steward.dev_schedules.yaml'),
  ]);
}

/** Runs the operator in this process; `schedules` adds the Schedule controller. */
export async function startOperator(
  kubeConfig: KubeConfig,
  opts: {
    namespaces?: string[];
    leaderElection?: boolean;
    tenantPolicy?: TenantPolicy;
    schedules?: boolean;
    logger?: Logger;
  } = {},
): Promise<{ mgr: Manager; stop: () => Promise<void> }> {
  const mgr = await Manager.create({
    kubeConfig,
    logger: opts.logger,
    namespaces: opts.namespaces,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '0',
    gracefulShutdownTimeoutMs: 5_000,
    leaderElection: opts.leaderElection
      ? { enabled: true, id: 'steward-manager', namespace: 'steward-system', releaseOnCancel: true }
      : undefined,
  });
  setupSessionController(mgr, {
    runnerImage: 'runner:test',
    maxConcurrentReconciles: 10,
    tenantPolicy: opts.tenantPolicy,
  });
  if (opts.schedules) await setupScheduleController(mgr, { runnerImage: 'runner:test' });
  const ac = new AbortController();
  const done = mgr.start(ac.signal);
  return {
    mgr,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

export async function createSession(
  client: Client,
  ns: string,
  name: string,
  spec: object,
): Promise<KubernetesObject> {
  return client.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { namespace: ns, name },
    spec,
  });
}

export interface SessionObj extends KubernetesObject {
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    attempt?: number;
    reason?: string;
    message?: string;
    exitCode?: number;
    jobName?: string;
    nextRetryTime?: string;
    completionTime?: string;
  };
}

const SESSION = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };

export async function session(client: Client, ns: string, name: string): Promise<SessionObj> {
  return client.get<SessionObj>(SESSION, { namespace: ns, name });
}

export async function waitPhase(
  client: Client,
  ns: string,
  name: string,
  phase: string,
  timeoutMs = 30_000,
): Promise<SessionObj> {
  return waitFor(
    async () => {
      const s = await session(client, ns, name);
      return s.status?.phase === phase ? s : undefined;
    },
    { description: `Session ${ns}/${name} in phase ${phase}`, timeoutMs, intervalMs: 50 },
  );
}

export async function waitJob(client: Client, ns: string, session: string, attempt: number): Promise<Job> {
  return waitFor(() => client.get<Job>(JOB, { namespace: ns, name: jobName(session, attempt) }), {
    description: `Job of ${session} attempt ${attempt}`,
    intervalMs: 50,
  });
}

/** Plays the kubelet: the attempt's pod, running or terminated with an exit code. */
export async function playPod(
  client: Client,
  ns: string,
  session: string,
  attempt: number,
  state: 'running' | { exitCode: number },
): Promise<void> {
  const name = `${jobName(session, attempt)}-x`;
  try {
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: ns,
        name,
        labels: {
          [LABEL_SESSION]: sessionLabelValue(session),
          [LABEL_ATTEMPT]: String(attempt),
          'app.kubernetes.io/managed-by': 'steward',
        },
        annotations: { [ANNOTATION_SESSION]: session },
      },
      spec: { containers: [{ name: 'session', image: 'runner:test' }] },
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const base = { name: 'session', image: 'runner:test', imageID: '', ready: false, restartCount: 0 };
  const status =
    state === 'running'
      ? {
          phase: 'Running',
          containerStatuses: [
            { ...base, ready: true, started: true, state: { running: { startedAt: now } } },
          ],
        }
      : {
          phase: state.exitCode === 0 ? 'Succeeded' : 'Failed',
          containerStatuses: [
            {
              ...base,
              started: false,
              state: {
                terminated: {
                  exitCode: state.exitCode,
                  reason: state.exitCode === 0 ? 'Completed' : 'Error',
                  startedAt: now,
                  finishedAt: now,
                },
              },
            },
          ],
        };
  await client.patchStatus(POD, { namespace: ns, name }, { type: 'merge', body: { status } });
}

/** Plays the Job controller: finishes the Job the way it does (conditions, counts, times). */
export async function finishJob(
  client: Client,
  ns: string,
  name: string,
  type: 'Complete' | 'Failed',
): Promise<void> {
  await finishJobAt(client, { namespace: ns, name }, type);
}
