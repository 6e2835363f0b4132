import { Registry } from 'prom-client';
import {
  type KubernetesObject,
  type ReconcileContext,
  type Result,
  silentLogger,
} from '../../../lib/index.js';
import { FakeClient, FakeClock } from '../../../lib/testing/index.js';
import { SESSION_GVK, type TenantPolicy } from '../../../controllers/session/index.js';
import {
  LABEL_SCHEDULE,
  RUN_KINDS,
  type RunKind,
  type Schedule,
  SCHEDULE_GVK,
  ScheduleMetrics,
  ScheduleReconciler,
  type ScheduleSpec,
  WORKFLOW_GVK,
} from '../../../controllers/schedule/index.js';

export const KINDS = [
  { gvk: SCHEDULE_GVK, resource: 'schedules', namespaced: true },
  { gvk: SESSION_GVK, resource: 'sessions', namespaced: true },
  { gvk: WORKFLOW_GVK, resource: 'workflows', namespaced: true },
];

export interface Event {
  type: string;
  reason: string;
  message: string;
}

/**
 * A Schedule reconciler over a fake client and a fake clock. `runUntil` plays the work queue:
 * it reconciles, then steps the clock by the requeueAfterMs the reconcile asked for.
 */
export class Harness {
  readonly clock: FakeClock;
  readonly client: FakeClient;
  readonly registry = new Registry();
  readonly events: Event[] = [];
  readonly reconciler: ScheduleReconciler;
  /** The delay the last reconcile asked for. */
  lastResult: Result | void = undefined;

  constructor(opts: { start?: string; runKinds?: readonly RunKind[]; tenantPolicy?: TenantPolicy } = {}) {
    this.clock = new FakeClock(Date.parse(opts.start ?? '2026-01-01T00:00:00Z'));
    this.client = new FakeClient({ clock: this.clock, kinds: KINDS });
    this.reconciler = new ScheduleReconciler({
      client: this.client,
      clock: this.clock,
      metrics: new ScheduleMetrics(this.registry),
      runKinds: opts.runKinds ?? RUN_KINDS,
      tenantPolicy: opts.tenantPolicy,
      recorder: { event: (_o, type, reason, message) => this.events.push({ type, reason, message }) },
    });
  }

  async create(spec: Partial<ScheduleSpec>, name = 'nightly', namespace = 'ns'): Promise<Schedule> {
    return this.client.create<Schedule>({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Schedule',
      metadata: { namespace, name },
      spec: {
        schedule: '*/5 * * * * *',
        sessionTemplate: { spec: { template: { image: 'busybox', command: ['date'] } } },
        ...spec,
      } as ScheduleSpec,
    });
  }

  ctx(): ReconcileContext {
    return { logger: silentLogger(), signal: new AbortController().signal, reconcileID: 'test' };
  }

  async reconcile(name = 'nightly', namespace = 'ns'): Promise<Result | void> {
    this.lastResult = await this.reconciler.reconcile({ namespace, name }, this.ctx());
    return this.lastResult;
  }

  /** Reconciles, then follows requeueAfterMs (stepping the clock) until `untilIso`. */
  async runUntil(untilIso: string, name = 'nightly'): Promise<number> {
    const until = Date.parse(untilIso);
    let reconciles = 0;
    for (;;) {
      const r = await this.reconcile(name);
      reconciles++;
      const delay = r && 'requeueAfterMs' in r ? r.requeueAfterMs : undefined;
      if (r && r.requeue) continue;
      if (delay === undefined || this.clock.now() + delay > until) break;
      this.clock.step(delay);
    }
    this.clock.setTime(until);
    return reconciles;
  }

  async schedule(name = 'nightly', namespace = 'ns'): Promise<Schedule> {
    return this.client.get<Schedule>(SCHEDULE_GVK, { namespace, name });
  }

  async runs(kind = SESSION_GVK, namespace = 'ns'): Promise<KubernetesObject[]> {
    const items = (
      await this.client.list(kind, { namespace, labelSelector: { [LABEL_SCHEDULE]: 'nightly' } })
    ).items;
    return items.sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  }

  async runNames(kind = SESSION_GVK): Promise<string[]> {
    return (await this.runs(kind)).map((r) => r.metadata!.name!);
  }

  /** Plays the run's controller: sets its phase (and completionTime when terminal). */
  async setPhase(name: string, phase: string, kind = SESSION_GVK, namespace = 'ns'): Promise<void> {
    const terminal = !['Pending', 'Starting', 'Running'].includes(phase);
    const completionTime = terminal
      ? new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z')
      : undefined;
    await this.client.patchStatus(
      kind,
      { namespace, name },
      { type: 'merge', body: { status: { phase, completionTime } } },
    );
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const m = (await this.registry.getMetricsAsJSON()).find((x) => x.name === name);
    const values = (m?.values ?? []) as Array<{
      value: number;
      labels: Record<string, string>;
      metricName?: string;
    }>;
    return values
      .filter((v) => (v.metricName ?? name) === (String(m?.type) === 'histogram' ? `${name}_count` : name))
      .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
      .reduce((a, v) => a + v.value, 0);
  }

  condition(s: Schedule, type: string) {
    return s.status?.conditions?.find((c) => c.type === type);
  }
}
