// Shared by the Workflow integration tests: both CRDs, the operator (Session and Workflow
// controllers) in this process, and a stand-in for the Job controller and the kubelet that
// honours kwok's fake annotations, so the same Workflows run here and on the kwok cluster.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { setupScheduleController } from '../../controllers/schedule/index.js';
import { type Job, setupSessionController } from '../../controllers/session/index.js';
import { setupWorkflowController, type Workflow, WORKFLOW_GVK } from '../../controllers/workflow/index.js';
import { type Client, isAlreadyExists, isNotFound, Manager } from '../../lib/index.js';
import {
  FAKE_ATTEMPT_LABEL,
  FAKE_EXIT_CODE_ANNOTATION,
  FAKE_RESULT_ANNOTATION,
  FAKE_RUN_SECONDS_ANNOTATION,
  finishJob,
  installCRDs,
  waitFor,
} from '../../lib/testing/index.js';

export const ROOT = join(import.meta.dirname, '..', '..');
const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
const POD = { group: '', version: 'v1', kind: 'Pod' };

export async function installWorkflowCRDs(client: Client): Promise<void> {
  await installCRDs(client, [
    join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml'),
    join(ROOT, 'manifests', 'crd', 'steward.dev_workflows.yaml'),
    join(ROOT, 'manifests', 'crd', 'workflow-tasks-immutable.yaml'),
  ]);
}

/**
 * The Session and Workflow controllers in this process, as the manager binary wires them;
 * `schedules` adds the Schedule controller (its CRD installed).
 */
export async function startOperator(
  kubeConfig: KubeConfig,
  namespaces?: string[],
  opts: { leaderElection?: boolean; schedules?: boolean } = {},
): Promise<{ mgr: Manager; stop: () => Promise<void> }> {
  const mgr = await Manager.create({
    kubeConfig,
    namespaces,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '0',
    gracefulShutdownTimeoutMs: 5_000,
    qps: 200,
    burst: 400,
    leaderElection: opts.leaderElection
      ? { enabled: true, id: 'steward-manager', namespace: 'steward-system', releaseOnCancel: true }
      : undefined,
  });
  setupSessionController(mgr, { runnerImage: 'runner:test' });
  setupWorkflowController(mgr, { runnerImage: 'runner:test' });
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

const iso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Plays the Job controller and the kubelet in `namespace` until stopped: every Job gets a pod
 * that runs for its steward.dev/fake-run-seconds, then ends with the exit code of
 * steward.dev/fake-exit-code (per attempt, comma-separated; default 0) and the termination
 * message of steward.dev/fake-result; then the Job is finished as the Job controller would.
 */
export function playJobs(client: Client, namespace: string): { stop: () => Promise<void> } {
  const ac = new AbortController();
  const handled = new Set<string>();
  const running: Promise<void>[] = [];
  const play = async (job: Job) => {
    const meta = job.spec?.template?.metadata ?? {};
    const annotations = meta.annotations ?? {};
    const codes = (annotations[FAKE_EXIT_CODE_ANNOTATION] ?? '0').split(',').map((c) => Number(c.trim()));
    const attempt = Number(meta.labels?.[FAKE_ATTEMPT_LABEL] ?? '1');
    const exitCode = codes[Math.min(codes.length, Math.max(1, attempt)) - 1]!;
    const runMs = Number(annotations[FAKE_RUN_SECONDS_ANNOTATION] ?? '0') * 1000;
    const name = `${job.metadata!.name}-pod`;
    try {
      await client.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { namespace, name, labels: meta.labels, annotations },
        spec: { containers: [{ name: 'session', image: 'runner:test' }] },
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    const base = { name: 'session', image: 'runner:test', imageID: '', restartCount: 0 };
    await client.patchStatus(
      POD,
      { namespace, name },
      {
        type: 'merge',
        body: {
          status: {
            phase: 'Running',
            containerStatuses: [
              { ...base, ready: true, started: true, state: { running: { startedAt: iso() } } },
            ],
          },
        },
      },
    );
    // Aborted by stop(): the pod just never ends.
    await sleep(runMs, undefined, { signal: ac.signal });
    const message = annotations[FAKE_RESULT_ANNOTATION];
    try {
      await client.patchStatus(
        POD,
        { namespace, name },
        {
          type: 'merge',
          body: {
            status: {
              phase: exitCode === 0 ? 'Succeeded' : 'Failed',
              containerStatuses: [
                {
                  ...base,
                  ready: false,
                  started: false,
                  state: {
                    terminated: {
                      exitCode,
                      reason: exitCode === 0 ? 'Completed' : 'Error',
                      startedAt: iso(),
                      finishedAt: iso(),
                      ...(message === undefined ? {} : { message }),
                    },
                  },
                },
              ],
            },
          },
        },
      );
      await finishJob(
        client,
        { namespace, name: job.metadata!.name! },
        exitCode === 0 ? 'Complete' : 'Failed',
      );
    } catch (err) {
      // The Job (or its pod) was deleted meanwhile: a cancel or a timeout.
      if (!isNotFound(err)) throw err;
    }
  };
  const loop = (async () => {
    while (!ac.signal.aborted) {
      try {
        for await (const ev of client.watch<Job>(JOB, { namespace, signal: ac.signal })) {
          const uid = ev.object.metadata?.uid;
          if (ev.type !== 'ADDED' || uid === undefined || handled.has(uid)) continue;
          handled.add(uid);
          running.push(play(ev.object).catch(() => {}));
        }
      } catch {
        // A dropped watch: start another (it lists what exists first, as ADDED events).
      }
    }
  })();
  return {
    stop: async () => {
      ac.abort();
      await loop;
      await Promise.all(running);
    },
  };
}

export async function createWorkflow(
  client: Client,
  namespace: string,
  name: string,
  spec: object,
): Promise<void> {
  await client.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Workflow',
    metadata: { namespace, name },
    spec,
  });
}

export async function waitWorkflow(
  client: Client,
  namespace: string,
  name: string,
  phases: string[] = ['Succeeded', 'Failed', 'Cancelled'],
  timeoutMs = 60_000,
): Promise<Workflow> {
  return waitFor(
    async () => {
      const wf = await client.get<Workflow>(WORKFLOW_GVK, { namespace, name });
      return phases.includes(wf.status?.phase ?? '') ? wf : undefined;
    },
    { description: `Workflow ${namespace}/${name} in ${phases.join(' or ')}`, timeoutMs, intervalMs: 50 },
  );
}

/** A task session that the player (and kwok) runs for `seconds`, ending with `exit` and `result`. */
export function fake(opts: { exit?: number | string; seconds?: number; result?: string } = {}): object {
  const annotations: Record<string, string> = {
    [FAKE_EXIT_CODE_ANNOTATION]: String(opts.exit ?? 0),
    [FAKE_RUN_SECONDS_ANNOTATION]: String(opts.seconds ?? 0),
  };
  if (opts.result !== undefined) annotations[FAKE_RESULT_ANNOTATION] = opts.result;
  return { template: { image: 'busybox:1.36', command: ['true'], annotations } };
}
