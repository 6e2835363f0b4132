import { Registry } from 'prom-client';
import {
  type GVK,
  type ObjectKey,
  type Patch,
  type PatchOptions,
  type ReconcileContext,
  type Result,
  silentLogger,
  type KubernetesObject,
} from '../../../lib/index.js';
import { applyMergePatch } from '../../../lib/client/apply-patch.js';
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
import { invalidStatus, schemaProblems } from './status-schema.js';

export const SESSION_KIND = { gvk: SESSION_GVK, resource: 'sessions', namespaced: true };

/**
 * The fake client with the one check of the API server the Session operator's correctness rests
 * on: a status write whose result breaks the CRD's status schema is refused with a 422.
 */
export class SchemaCheckingClient extends FakeClient {
  override async patchStatus<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    key: ObjectKey,
    patch: Patch,
    opts?: PatchOptions,
  ): Promise<T> {
    if (gvk.kind === SESSION_GVK.kind && patch.type === 'merge') {
      const cur = await this.get(gvk, key).catch(() => undefined);
      if (cur !== undefined) {
        const next = applyMergePatch(cur, patch.body) as Session;
        const problems = schemaProblems(next.status);
        if (problems.length > 0) throw invalidStatus(key.name, problems);
      }
    }
    return super.patchStatus<T>(gvk, key, patch, opts);
  }
}

/** A Session reconciler over a fake client and a fake clock, with helpers to play the Job controller. */
export class Harness {
  readonly clock = new FakeClock(Date.UTC(2026, 0, 1));
  readonly client = new SchemaCheckingClient({ clock: this.clock, kinds: [SESSION_KIND] });
  /**
   * While set, the reconciler's pod reads return these pods instead of the API's (a pod cache
   * that lags the Job cache); reads through the client itself see the truth.
   */
  stalePods: KubernetesObject[] | undefined;
  readonly registry = new Registry();
  readonly events: Array<{ type: string; reason: string; message: string }> = [];
  readonly reconciler: SessionReconciler;
  /** Called with the object of each Event recorded. */
  onEvent: ((obj: KubernetesObject) => void) | undefined;

  constructor(runnerImage: string | null = 'runner:1') {
    const client = this.client;
    const reader = {
      get: client.get.bind(client),
      list: async (...args: Parameters<FakeClient['list']>) => {
        const list = await client.list(...args);
        const stale = this.stalePods;
        if (args[0].kind !== POD_GVK.kind || stale === undefined) return list;
        const wanted = args[1]?.labelSelector as Record<string, string> | undefined;
        const items = stale.filter((p) =>
          Object.entries(wanted ?? {}).every(([k, v]) => p.metadata?.labels?.[k] === v),
        );
        return { ...list, items };
      },
    };
    this.reconciler = new SessionReconciler({
      client: this.client,
      reader: reader as never,
      clock: this.clock,
      runnerImage: runnerImage ?? undefined,
      metrics: new SessionMetrics(this.registry),
      recorder: {
        event: (obj, type, reason, message) => {
          this.onEvent?.(obj);
          this.events.push({ type, reason, message });
        },
      },
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
  laggingReconciler(stale: () => Session | undefined, registry?: Registry): SessionReconciler {
    const client = this.client;
    const reader = {
      get: async (...args: Parameters<FakeClient['get']>) => stale() ?? client.get(...args),
      list: client.list.bind(client),
    };
    return new SessionReconciler({
      client,
      reader: reader as never,
      clock: this.clock,
      runnerImage: 'x',
      metrics: registry ? new SessionMetrics(registry) : undefined,
    });
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
    state:
      'pending' | 'running' | { exitCode: number; reason?: string; message?: string } | { status: object },
    namespace = 'ns',
  ) {
    const name = `${jobName(session, attempt)}-pod`;
    const startedAt = new Date(this.clock.now()).toISOString();
    const status =
      typeof state === 'object' && 'status' in state
        ? state.status
        : state === 'pending'
          ? {
              phase: 'Pending',
              containerStatuses: [{ name: 'session', state: { waiting: { reason: 'ContainerCreating' } } }],
            }
          : state === 'running'
            ? {
                phase: 'Running',
                containerStatuses: [{ name: 'session', state: { running: { startedAt } } }],
              }
            : {
                phase: state.exitCode === 0 ? 'Succeeded' : 'Failed',
                containerStatuses: [
                  {
                    name: 'session',
                    state: {
                      terminated: {
                        exitCode: state.exitCode,
                        reason: state.reason ?? 'Error',
                        message: state.message,
                        startedAt,
                      },
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
    message?: string,
  ) {
    const lastTransitionTime = new Date(this.clock.now()).toISOString();
    const condition = { type, status: 'True', reason: reason ?? type, message, lastTransitionTime };
    await this.client.patchStatus(
      JOB_GVK,
      { namespace, name: jobName(session, attempt) },
      { type: 'merge', body: { status: { conditions: [condition] } } },
    );
  }

  /** The attempt's pods as the API has them now (to freeze as `stalePods`). */
  async podsOf(session: string, attempt: number, namespace = 'ns'): Promise<KubernetesObject[]> {
    const pods = await this.client.list(POD_GVK, {
      namespace,
      labelSelector: { [LABEL_SESSION]: sessionLabelValue(session), [LABEL_ATTEMPT]: String(attempt) },
    });
    return pods.items;
  }

  /** Jobs of the Session that exist and have not finished. */
  async activeJobs(namespace = 'ns'): Promise<string[]> {
    return (await this.jobs(namespace))
      .filter(
        (j) =>
          !j.metadata?.deletionTimestamp &&
          !(j.status?.conditions ?? []).some(
            (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
          ),
      )
      .map((j) => j.metadata!.name!);
  }
}
