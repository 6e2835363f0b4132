// The framework end to end against a real kube-apiserver: a controller written the way a user
// writes one, its outcomes, leader election between two managers, metrics and readiness.
import {
  KubeClient,
  type KubernetesObject,
  Manager,
  type ManagerOptions,
  type Request,
  TerminalError,
} from '../../lib/index.js';
import { type ControlPlane, startControlPlane, waitFor } from '../../lib/testing/index.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const LEASE = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' };

let cp: ControlPlane;
let client: KubeClient;
let nsCounter = 0;

beforeAll(async () => {
  cp = await startControlPlane();
  // The test drives load; it must not be throttled like a controller.
  client = new KubeClient(cp.kubeConfig, { qps: 1000, burst: 1000 });
});
afterAll(async () => {
  await cp?.stop();
});

/** A fresh namespace per test, so tests do not see each other's objects. */
async function namespace(): Promise<string> {
  const name = `t${process.pid}-${++nsCounter}`;
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

const configMap = (namespace: string, name: string, data: Record<string, string> = {}): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace, name },
  data,
});

const managers: Array<{ stop: AbortController; done: Promise<void> }> = [];
afterEach(async () => {
  for (const m of managers.splice(0)) {
    m.stop.abort();
    await m.done.catch(() => {});
  }
});

async function manager(opts: Partial<ManagerOptions> = {}): Promise<Manager> {
  return Manager.create({
    kubeConfig: cp.kubeConfig,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '127.0.0.1:0',
    ...opts,
  });
}

function run(mgr: Manager): { stop: AbortController; done: Promise<void> } {
  const stop = new AbortController();
  const entry = { stop, done: mgr.start(stop.signal) };
  managers.push(entry);
  return entry;
}

describe('a user-written controller against the real API server', () => {
  test('reconciles; 100 rapid updates to one object give far fewer reconciles, never two at once', async () => {
    const ns = await namespace();
    const mgr = await manager({ namespaces: [ns] });
    const seen: string[] = [];
    let inFlight = 0;
    let overlapped = false;
    // The first reconcile of the object is held until all 100 updates are in the cache, so every
    // one of them arrives while its key is being processed, whatever the machine's speed.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    mgr
      .controller('configmaps')
      .for(CM)
      .withOptions({ maxConcurrentReconciles: 4 })
      .complete({
        async reconcile(req: Request) {
          if (++inFlight > 1) overlapped = true;
          try {
            const cm = await mgr.cache.get<KubernetesObject & { data?: Record<string, string> }>(CM, req);
            seen.push(cm.data?.n ?? '');
            if (seen.length === 1) await held;
          } finally {
            inFlight--;
          }
        },
      });
    run(mgr);
    await client.create(configMap(ns, 'hot', { n: '0' }));
    await waitFor(() => seen.length === 1, { description: 'the first reconcile' });
    for (let i = 1; i <= 100; i++) {
      await client.patch(
        CM,
        { namespace: ns, name: 'hot' },
        { type: 'merge', body: { data: { n: String(i) } } },
      );
    }
    await waitFor(
      async () =>
        (
          await mgr.cache.get<KubernetesObject & { data?: Record<string, string> }>(CM, {
            namespace: ns,
            name: 'hot',
          })
        ).data?.n === '100',
      { description: 'the last update in the cache' },
    );
    release();
    await waitFor(() => seen.at(-1) === '100', { description: 'the final state reconciled' });
    // 101 events: one reconcile of the first state, one of the last, none of the 99 between.
    expect(seen).toEqual(['0', '100']);
    expect(overlapped).toBe(false);
  });

  test('errors back off through the rate limiter; requeueAfterMs is honoured; TerminalError is not retried', async () => {
    const ns = await namespace();
    const mgr = await manager({ namespaces: [ns] });
    const calls = new Map<string, number>();
    const requeues: number[] = [];
    const controller = mgr
      .controller('outcomes')
      .for(CM)
      .complete({
        async reconcile(req: Request) {
          const n = (calls.get(req.name) ?? 0) + 1;
          calls.set(req.name, n);
          if (req.name === 'flaky') {
            requeues.push(controller.queue.numRequeues(req));
            if (n <= 4) throw new Error(`transient failure ${n}`);
          }
          if (req.name === 'later' && n === 1) return { requeueAfterMs: 300 };
          if (req.name === 'bad') throw new TerminalError('bad spec');
        },
      });
    run(mgr);
    await client.create(configMap(ns, 'flaky'));
    await client.create(configMap(ns, 'later'));
    await client.create(configMap(ns, 'bad'));
    await waitFor(() => calls.get('flaky') === 5, { description: 'flaky recovered' });
    // Each failure counted one retry (5, 10, 20, 40 ms delays); success forgot them.
    expect(requeues).toEqual([0, 1, 2, 3, 4]);
    await waitFor(() => controller.queue.numRequeues({ namespace: ns, name: 'flaky' }) === 0, {
      description: 'forgotten',
    });
    await waitFor(() => calls.get('later') === 2, { description: 'requeued after 300 ms' });
    await waitFor(() => calls.get('bad') === 1, { description: 'bad reconciled once' });
    expect(controller.queue.numRequeues({ namespace: ns, name: 'bad' })).toBe(0);
    expect(controller.queue.waitingLen()).toBe(0);
    expect(calls.get('bad')).toBe(1);
  });

  test('/metrics has controller-runtime’s names and labels; /readyz fails until caches sync', async () => {
    const ns = await namespace();
    const WIDGET = { group: 'metrics.steward.dev', version: 'v1', kind: 'Gadget' };
    const mgr = await manager({ namespaces: [ns] });
    mgr
      .controller('cms')
      .for(CM)
      .complete({ reconcile: async () => {} });
    // A kind whose CRD does not exist yet: its informer cannot sync.
    mgr
      .controller('gadgets')
      .for(WIDGET)
      .complete({ reconcile: async () => {} });
    run(mgr);
    await waitFor(() => mgr.healthAddress, { description: 'health server' });
    const ready = async () => {
      const r = await fetch(`http://${mgr.healthAddress}/readyz`);
      return { status: r.status, body: await r.text() };
    };
    const before = await ready();
    expect(before.status).toBe(500);
    expect(before.body).toContain('[-]cache-sync failed');
    expect((await fetch(`http://${mgr.healthAddress}/healthz`)).status).toBe(200);

    await client.create({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.metrics.steward.dev' },
      spec: {
        group: 'metrics.steward.dev',
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    await waitFor(async () => (await ready()).status === 200, {
      description: 'ready after sync',
      timeoutMs: 60_000,
    });
    await client.create(configMap(ns, 'm'));
    const text = await waitFor(async () => {
      const t = await (await fetch(`http://${mgr.metricsAddress}/metrics`)).text();
      return t.includes('controller_runtime_reconcile_total{controller="cms",result="success"} 1')
        ? t
        : undefined;
    });
    const series = parseSeries(text);
    for (const [name, labels] of [
      ['controller_runtime_reconcile_total', ['controller', 'result']],
      ['controller_runtime_reconcile_errors_total', ['controller']],
      ['controller_runtime_terminal_reconcile_errors_total', ['controller']],
      ['controller_runtime_reconcile_panics_total', ['controller']],
      ['controller_runtime_reconcile_time_seconds_bucket', ['controller', 'le']],
      ['controller_runtime_max_concurrent_reconciles', ['controller']],
      ['controller_runtime_active_workers', ['controller']],
      ['workqueue_depth', ['name', 'controller']],
      ['workqueue_adds_total', ['name', 'controller']],
      ['workqueue_queue_duration_seconds_bucket', ['name', 'controller', 'le']],
      ['workqueue_work_duration_seconds_bucket', ['name', 'controller', 'le']],
      ['workqueue_unfinished_work_seconds', ['name', 'controller']],
      ['workqueue_longest_running_processor_seconds', ['name', 'controller']],
      ['workqueue_retries_total', ['name', 'controller']],
      ['rest_client_requests_total', ['code', 'method', 'host']],
    ] as const) {
      const found = series.filter((s) => s.name === name);
      expect({ name, found: found.length > 0 }).toEqual({ name, found: true });
      for (const s of found)
        expect({ name, labels: Object.keys(s.labels).sort() }).toEqual({ name, labels: [...labels].sort() });
    }
  });
});

/** Parses the Prometheus text format into (name, labels) pairs. */
function parseSeries(text: string): Array<{ name: string; labels: Record<string, string> }> {
  const out: Array<{ name: string; labels: Record<string, string> }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? [^ ]+$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels });
  }
  return out;
}

describe('leader election between two managers', () => {
  // Short enough for a test; the retry period keeps client-go's 2 s, so the bounds below leave
  // a follower's polling (a quarter to half a retry period) a full second of slack.
  const LE = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 2_000 };

  /** Two managers on one Lease, recording which one reconciles when. */
  async function pair(ns: string, releaseOnCancel: boolean) {
    const log: Array<{ who: string; start: number; end: number }> = [];
    const make = async (who: string) => {
      const mgr = await manager({
        namespaces: [ns],
        metricsBindAddress: '0',
        healthProbeBindAddress: '0',
        gracefulShutdownTimeoutMs: 0,
        leaderElection: { enabled: true, id: 'pair', namespace: ns, identity: who, releaseOnCancel, ...LE },
      });
      mgr
        .controller('pair')
        .for(CM)
        .complete({
          async reconcile() {
            const start = Date.now();
            await new Promise((r) => setTimeout(r, 2));
            log.push({ who, start, end: Date.now() });
          },
        });
      return { mgr, ...run(mgr) };
    };
    return { log, a: await make('a'), b: await make('b') };
  }

  /** Reconciles of different managers never overlap in time. */
  function neverBoth(log: Array<{ who: string; start: number; end: number }>): void {
    const sorted = [...log].sort((x, y) => x.start - y.start);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      if (prev.who !== cur.who) expect(cur.start).toBeGreaterThanOrEqual(prev.end);
    }
  }

  async function touch(ns: string, name: string) {
    await client.apply(configMap(ns, name, { t: String(Date.now()) }), { fieldManager: 'test', force: true });
  }

  test('exactly one reconciles; a dead leader is replaced within lease duration + retry period', async () => {
    const ns = await namespace();
    const { log, a, b } = await pair(ns, false);
    await waitFor(() => a.mgr.isLeader() || b.mgr.isLeader(), { description: 'a leader' });
    const [leader, follower] = a.mgr.isLeader() ? [a, b] : [b, a];
    await touch(ns, 'one');
    await waitFor(() => log.length > 0, { description: 'a reconcile' });
    expect(new Set(log.map((l) => l.who))).toEqual(new Set([leader.mgr.identity]));
    expect(follower.mgr.isLeader()).toBe(false);

    // Stop the leader without releasing: to the follower this is a crash.
    const killedAt = Date.now();
    leader.stop.abort();
    await leader.done;
    await waitFor(() => follower.mgr.isLeader(), {
      description: 'takeover',
      timeoutMs: 20_000,
      intervalMs: 20,
    });
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThanOrEqual(LE.leaseDurationMs + LE.retryPeriodMs);
    await touch(ns, 'two');
    await waitFor(() => log.some((l) => l.who === follower.mgr.identity), {
      description: 'follower reconciles',
    });
    neverBoth(log);
    const lease = await client.get<
      KubernetesObject & { spec: { holderIdentity: string; leaseTransitions: number } }
    >(LEASE, { namespace: ns, name: 'pair' });
    expect(lease.spec.holderIdentity).toBe(follower.mgr.identity);
    expect(lease.spec.leaseTransitions).toBe(1);
  });

  test('a graceful stop with release hands over within 2 s', async () => {
    const ns = await namespace();
    const { log, a, b } = await pair(ns, true);
    await waitFor(() => a.mgr.isLeader() || b.mgr.isLeader(), { description: 'a leader' });
    const [leader, follower] = a.mgr.isLeader() ? [a, b] : [b, a];
    const stoppedAt = Date.now();
    leader.stop.abort();
    await leader.done;
    await waitFor(() => follower.mgr.isLeader(), {
      description: 'handover',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(Date.now() - stoppedAt).toBeLessThanOrEqual(2_000);
    await touch(ns, 'x');
    await waitFor(() => log.some((l) => l.who === follower.mgr.identity), {
      description: 'new leader reconciles',
    });
    neverBoth(log);
  });
});
