import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '../../../lib/client/object.js';
import type { ReconcileContext, Reconciler, Request } from '../../../lib/controller/index.js';
import { LeaderElectionLostError, Manager, parseBindAddress } from '../../../lib/manager/index.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';
import { json, LoopbackApi } from '../client/loopback.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const flush = () => new Promise<void>((r) => setImmediate(r));

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function configMap(name: string, data: Record<string, string> = {}): KubernetesObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'default', name }, data };
}

async function get(addr: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${addr}${path}`);
  return { status: res.status, body: await res.text() };
}

/** A reconciler that runs until its signal aborts, recording why. */
function untilAborted(): Reconciler & { started: boolean; abortedWith: unknown } {
  const r = {
    started: false,
    abortedWith: undefined as unknown,
    reconcile: (_req: Request, ctx: ReconcileContext) =>
      new Promise<void>((resolve) => {
        r.started = true;
        ctx.signal.addEventListener('abort', () => {
          r.abortedWith = ctx.signal.reason;
          resolve();
        });
      }),
  };
  return r;
}

/** A reconciler that never returns and ignores its signal (a stuck call without a timeout). */
function ignoresAbort(): Reconciler & { started: boolean; signal: AbortSignal | undefined } {
  const r = {
    started: false,
    signal: undefined as AbortSignal | undefined,
    reconcile: (_req: Request, ctx: ReconcileContext) => {
      r.started = true;
      r.signal = ctx.signal;
      return new Promise<void>(() => {});
    },
  };
  return r;
}

/** `p`, or a rejection naming `what` if it has not settled within `ms` (a hang, not a slow run). */
function settlesWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

describe('parseBindAddress', () => {
  test('controller-runtime forms', () => {
    expect(parseBindAddress(':8080')).toEqual({ host: undefined, port: 8080 });
    expect(parseBindAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseBindAddress('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(parseBindAddress('0')).toBeUndefined();
    expect(() => parseBindAddress('8080')).toThrow(/bad bind address/);
    expect(() => parseBindAddress(':99999')).toThrow(/bad bind address/);
  });
});

describe('Manager on the fake client', () => {
  test('a builder-made controller reconciles; /metrics and /readyz are served; stop is graceful', async () => {
    const client = new FakeClient({ objects: [configMap('before')] });
    const mgr = await Manager.create({
      kubeConfig: new KubeConfig(),
      client,
      metricsBindAddress: '127.0.0.1:0',
      healthProbeBindAddress: '127.0.0.1:0',
    });
    const seen: Request[] = [];
    mgr
      .controller('cm')
      .for(CM)
      .withOptions({ maxConcurrentReconciles: 2 })
      .complete({
        reconcile: async (req) => {
          seen.push(req);
        },
      });
    const stop = new AbortController();
    const running = mgr.start(stop.signal);
    await until(() => seen.some((r) => r.name === 'before'), 'initial list reconciled');
    await client.create(configMap('after'));
    await until(() => seen.some((r) => r.name === 'after'), 'new object reconciled');

    const ready = await get(mgr.healthAddress!, '/readyz');
    expect(ready).toEqual({ status: 200, body: 'ok\n' });
    expect((await get(mgr.healthAddress!, '/healthz')).status).toBe(200);
    const metrics = await get(mgr.metricsAddress!, '/metrics');
    expect(metrics.body).toContain('controller_runtime_reconcile_total{controller="cm",result="success"}');
    expect(metrics.body).toContain('controller_runtime_max_concurrent_reconciles{controller="cm"} 2');
    expect(metrics.body).toContain('workqueue_adds_total{name="cm",controller="cm"}');
    expect(metrics.body).toContain('process_cpu_seconds_total');

    mgr.addReadyCheck('custom', () => {
      throw new Error('not today');
    });
    const failing = await get(mgr.healthAddress!, '/readyz');
    expect(failing.status).toBe(500);
    expect(failing.body).toContain('[-]custom failed: not today');
    expect(failing.body).toContain('[+]cache-sync ok');

    stop.abort();
    await running;
    await expect(fetch(`http://${mgr.healthAddress}/healthz`)).rejects.toThrow();
  });

  test('graceful stop waits for in-flight reconciles, up to the timeout', async () => {
    const client = new FakeClient({ objects: [configMap('slow')] });
    const mgr = await Manager.create({
      kubeConfig: new KubeConfig(),
      client,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      gracefulShutdownTimeoutMs: 60_000,
    });
    let release: (() => void) | undefined;
    let finished = false;
    mgr
      .controller('slow')
      .for(CM)
      .complete({
        reconcile: async () => {
          await new Promise<void>((r) => (release = r));
          finished = true;
        },
      });
    const stop = new AbortController();
    const running = mgr.start(stop.signal);
    let stopped = false;
    void running.then(() => (stopped = true));
    await until(() => release !== undefined, 'reconcile started');
    stop.abort();
    await flush();
    await flush();
    expect(stopped).toBe(false);
    release!();
    await running;
    expect(finished).toBe(true);
  });

  test('graceful stop past the timeout aborts in-flight reconciles', async () => {
    const client = new FakeClient({ objects: [configMap('stuck')] });
    const mgr = await Manager.create({
      kubeConfig: new KubeConfig(),
      client,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      gracefulShutdownTimeoutMs: 50,
    });
    const r = untilAborted();
    mgr.controller('stuck').for(CM).complete(r);
    const stop = new AbortController();
    const running = mgr.start(stop.signal);
    await until(() => r.started, 'reconcile started');
    stop.abort();
    await running;
    expect(r.abortedWith).toBeInstanceOf(Error);
  });

  test('graceful stop: a reconciler that ignores its signal is abandoned at the timeout', async () => {
    const client = new FakeClient({ objects: [configMap('deaf')] });
    const mgr = await Manager.create({
      kubeConfig: new KubeConfig(),
      client,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      gracefulShutdownTimeoutMs: 100,
    });
    const r = ignoresAbort();
    mgr.controller('deaf').for(CM).complete(r);
    const stop = new AbortController();
    const running = mgr.start(stop.signal);
    await until(() => r.started, 'reconcile started');
    stop.abort();
    await settlesWithin(running, 3_000, 'start()');
    expect(r.signal?.aborted).toBe(true);
  });

  test('graceful stop: runnables that ignore their signal, on the leader or on every replica, are abandoned at the timeout', async () => {
    const client = new FakeClient();
    const mgr = await Manager.create({
      kubeConfig: new KubeConfig(),
      client,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      gracefulShutdownTimeoutMs: 100,
    });
    const started: string[] = [];
    const deaf = (name: string) => () => {
      started.push(name);
      return new Promise<void>(() => {});
    };
    mgr.add({ start: deaf('leader') });
    mgr.add({ start: deaf('every replica'), needLeaderElection: false });
    const stop = new AbortController();
    const running = mgr.start(stop.signal);
    await until(() => started.length === 2, 'runnables started');
    stop.abort();
    await settlesWithin(running, 3_000, 'start()');
  });

  test('bad options fail at creation', async () => {
    await expect(
      Manager.create({ kubeConfig: new KubeConfig(), client: new FakeClient(), metricsBindAddress: 'nope' }),
    ).rejects.toThrow(/bad bind address/);
    const base = { kubeConfig: new KubeConfig(), client: new FakeClient() };
    for (const [option, value] of [
      ['gracefulShutdownTimeoutMs', -1],
      ['gracefulShutdownTimeoutMs', NaN],
      ['gracefulShutdownTimeoutMs', Infinity],
      ['cacheSyncTimeoutMs', 0],
      ['cacheSyncTimeoutMs', -5],
      ['cacheSyncTimeoutMs', Infinity],
    ] as const) {
      await expect(Manager.create({ ...base, [option]: value })).rejects.toThrow(
        new RegExp(`^Manager: ${option} must be a finite number`),
      );
    }
    const le = { enabled: true, id: 'x', namespace: 'default' };
    // The client budgets, the Manager's and the Lease's own, named as the Manager takes them.
    for (const [opts, message] of [
      [{ qps: NaN }, /^Manager: qps must be a number/],
      [{ burst: 0 }, /^Manager: burst must be/],
      [{ leaderElection: { ...le, qps: NaN } }, /^Manager: leaderElection\.qps must be a number/],
      [{ leaderElection: { ...le, burst: Infinity } }, /^Manager: leaderElection\.burst must be/],
    ] as const) {
      await expect(Manager.create({ ...base, ...opts })).rejects.toThrow(message);
    }
    await expect(
      Manager.create({ ...base, leaderElection: { ...le, leaseDurationMs: NaN } }),
    ).rejects.toThrow(/^LeaderElector: leaseDurationMs must be/);
    await expect(
      Manager.create({
        ...base,
        leaderElection: { ...le, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 },
      }),
    ).rejects.toThrow(RangeError);
    await expect(Manager.create({ ...base, leaderElection: { ...le, id: '' } })).rejects.toThrow(RangeError);
    const mgr = await Manager.create(base);
    expect(() => mgr.controller('Bad_Name')).toThrow(/lower-case/);
    expect(() =>
      mgr
        .controller('knobs')
        .for(CM)
        .withOptions({ cacheSyncTimeoutMs: -1 })
        .complete({ reconcile: async () => {} }),
    ).toThrow(/^controller knobs: cacheSyncTimeoutMs must be/);
    mgr
      .controller('ok')
      .for(CM)
      .complete({ reconcile: async () => {} });
    expect(() => mgr.controller('ok')).toThrow(/already exists/);
  });
});

describe('Manager with leader election: the write fence', () => {
  test('once its last renewal is older than the renew deadline (a pause), the Manager’s client sends no write', async () => {
    const api = await LoopbackApi.start();
    api.respond = (req, res) =>
      req.url.pathname === '/api/v1'
        ? json(res, 200, { resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }] })
        : json(res, 201, configMap('x'));
    const clock = new FakeClock();
    const mgr = await Manager.create({
      kubeConfig: api.kubeConfig(),
      clock,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      leaderElection: { enabled: true, id: 'fence', namespace: 'default', client: new FakeClient({ clock }) },
    });
    const stop = new AbortController();
    const running = mgr.start(stop.signal);
    try {
      await until(() => mgr.isLeader(), 'leading');
      await mgr.client.create(configMap('before'));
      // 20 s pass at once, as when a stopped process is thawed: the renew loop has not run yet.
      clock.step(20_000);
      await expect(mgr.client.create(configMap('after'))).rejects.toMatchObject({
        name: 'WriteFencedError',
        // Fenced whichever runs first: this write, or the renew loop giving up.
        message: expect.stringMatching(
          /^POST \/api\/v1\/namespaces\/default\/configmaps not sent: (the Lease default\/fence was last renewed \d+ ms ago|leadership of the Lease default\/fence was lost)/,
        ),
      });
      await expect(running).rejects.toBeInstanceOf(LeaderElectionLostError);
      await expect(mgr.client.create(configMap('lost'))).rejects.toThrow(
        /not sent: leadership of the Lease default\/fence was lost/,
      );
      expect(
        api.requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body).metadata.name),
      ).toEqual(['before']);
    } finally {
      stop.abort();
      await running.catch(() => {});
      (mgr.client as { close?: () => void }).close?.();
      await api.close();
    }
  });
});

describe('Manager with leader election on the fake client', () => {
  test('losing the Lease aborts in-flight reconciles at once and start() rejects', async () => {
    const client = new FakeClient({ objects: [configMap('busy')] });
    const mgr = await Manager.create({
      kubeConfig: new KubeConfig(),
      client,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      leaderElection: {
        enabled: true,
        id: 'lost',
        namespace: 'default',
        leaseDurationMs: 1_500,
        renewDeadlineMs: 1_000,
        retryPeriodMs: 500,
      },
    });
    const r = untilAborted();
    mgr.controller('busy').for(CM).complete(r);
    const stop = new AbortController();
    const running = mgr.start(stop.signal);
    await until(() => r.started, 'leading and reconciling');
    expect(mgr.isLeader()).toBe(true);
    // The API server stops taking the leader's renewals.
    client.prependReactor((a) =>
      a.gvk.kind === 'Lease' && a.verb === 'update' ? new Error('unreachable') : undefined,
    );
    await expect(running).rejects.toBeInstanceOf(LeaderElectionLostError);
    expect(r.abortedWith).toBeInstanceOf(LeaderElectionLostError);
    expect(mgr.isLeader()).toBe(false);
  });

  test('after a lost Lease, a reconciler that ignores its signal holds the exit no longer than the graceful timeout', async () => {
    const client = new FakeClient({ objects: [configMap('deaf')] });
    const mgr = await Manager.create({
      kubeConfig: new KubeConfig(),
      client,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      gracefulShutdownTimeoutMs: 200,
      leaderElection: {
        enabled: true,
        id: 'deaf',
        namespace: 'default',
        leaseDurationMs: 1_500,
        renewDeadlineMs: 1_000,
        retryPeriodMs: 500,
      },
    });
    const r = ignoresAbort();
    mgr.controller('deaf').for(CM).complete(r);
    const running = mgr.start(new AbortController().signal);
    await until(() => r.started, 'leading and reconciling');
    client.prependReactor((a) =>
      a.gvk.kind === 'Lease' && a.verb === 'update' ? new Error('unreachable') : undefined,
    );
    await expect(settlesWithin(running, 3_000, 'start()')).rejects.toBeInstanceOf(LeaderElectionLostError);
    expect(r.signal?.reason).toBeInstanceOf(LeaderElectionLostError);
  });
});
