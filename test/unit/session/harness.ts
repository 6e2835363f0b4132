import { Registry } from 'prom-client';
import {
  type ReconcileContext,
  type Result,
  silentLogger,
  type KubernetesObject,
} from '../../../lib/index.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';
import {
  type Job,
  jobName,
  LABEL_ATTEMPT,
  LABEL_SESSION,
  POD_GVK,
  type Session,
  SESSION_GVK,
  JOB_GVK,
  SessionMetrics,
  SessionReconciler,
  sessionLabelValue,
  ANNOTATION_SESSION,
  type SessionSpec,
} from '../../../controllers/session/index.js';

export const SESSION_KIND = { gvk: SESSION_GVK, resource: 'sessions', namespaced: true };

/** A Session reconciler over a fake client and a fake clock, with helpers to play the Job controller. */
export class Harness {
  readonly clock = new FakeClock(Date.UTC(2026, 0, 1));
  readonly client = new FakeClient({ clock: this.clock, kinds: [SESSION_KIND] });
  readonly registry = new Registry();
  readonly events: Array<{ type: string; reason: string; message: string }> = [];
  readonly reconciler: SessionReconciler;

  constructor(runnerImage: string | null = 'runner:1') {
    this.reconciler = new SessionReconciler({
      client: this.client,
      clock: this.clock,
      runnerImage: runnerImage ?? undefined,
      metrics: new SessionMetrics(this.registry),
      recorder: { event: (_o, type, reason, message) => this.events.push({ type, reason, message }) },
    });
  }

  async create(name: string, spec: SessionSpec | unknown, namespace = 'ns'): Promise<Session> {
    return this.client.create<Session>({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: { namespace, name },
      spec: spec as SessionSpec,
    });
  }

  /**
   * A second reconciler on the same fake API whose Session reads return `stale()` when it gives
   * an object (a cache that lags), and the API's answer otherwise.
   */
  laggingReconciler(stale: () => Session | undefined): SessionReconciler {
    const client = this.client;
    const reader = {
      get: async (...args: Parameters<FakeClient['get']>) => stale() ?? client.get(...args),
      list: client.list.bind(client),
    };
    return new SessionReconciler({ client, reader: reader as never, clock: this.clock, runnerImage: 'x' });
  }

  ctx(): ReconcileContext {
    return { logger: silentLogger(), signal: new AbortController().signal, reconcileID: 'test' };
  }

  async reconcile(name: string, namespace = 'ns'): Promise<Result | void> {
    return this.reconciler.reconcile({ namespace, name }, this.ctx());
  }

  async session(name: string, namespace = 'ns'): Promise<Session> {
    return this.client.get<Session>(SESSION_GVK, { namespace, name });
  }

  async job(name: string, attempt: number, namespace = 'ns'): Promise<Job> {
    return this.client.get<Job>(JOB_GVK, { namespace, name: jobName(name, attempt) });
  }

  async jobs(namespace = 'ns'): Promise<Job[]> {
    return (await this.client.list<Job>(JOB_GVK, { namespace })).items;
  }

  /** Plays the kubelet: the attempt's pod, running or terminated with an exit code. */
  async pod(
    session: string,
    attempt: number,
    state: 'running' | { exitCode: number; reason?: string },
    namespace = 'ns',
  ) {
    const name = `${jobName(session, attempt)}-pod`;
    const startedAt = new Date(this.clock.now()).toISOString();
    const status =
      state === 'running'
        ? { phase: 'Running', containerStatuses: [{ name: 'session', state: { running: { startedAt } } }] }
        : {
            phase: state.exitCode === 0 ? 'Succeeded' : 'Failed',
            containerStatuses: [
              {
                name: 'session',
                state: {
                  terminated: { exitCode: state.exitCode, reason: state.reason ?? 'Error', startedAt },
                },
              },
            ],
          };
    let pod: KubernetesObject;
    try {
      pod = await this.client.get(POD_GVK, { namespace, name });
    } catch {
      pod = await this.client.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          namespace,
          name,
          labels: { [LABEL_SESSION]: sessionLabelValue(session), [LABEL_ATTEMPT]: String(attempt) },
          annotations: { [ANNOTATION_SESSION]: session },
        },
        spec: { containers: [{ name: 'session', image: 'x' }] },
      });
    }
    await this.client.patchStatus(
      POD_GVK,
      { namespace, name: pod.metadata!.name! },
      { type: 'merge', body: { status } },
    );
  }

  /** Plays the Job controller: marks the attempt's Job Complete or Failed. */
  async finishJob(
    session: string,
    attempt: number,
    type: 'Complete' | 'Failed',
    reason?: string,
    namespace = 'ns',
  ) {
    await this.client.patchStatus(
      JOB_GVK,
      { namespace, name: jobName(session, attempt) },
      { type: 'merge', body: { status: { conditions: [{ type, status: 'True', reason: reason ?? type }] } } },
    );
  }
}
