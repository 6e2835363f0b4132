// The Manager under faults, against a real kube-apiserver: a client budget saturated by its own
// reconcilers, a leader election that can never succeed, and caches that can never sync.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  CacheSyncTimeoutError,
  createLogger,
  KubeClient,
  type KubernetesObject,
  type Logger,
  Manager,
  type ManagerOptions,
} from '../../lib/index.js';
import { type ControlPlane, startControlPlane, waitFor } from '../../lib/testing/index.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const LEASE = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' };

interface LeaseObject extends KubernetesObject {
  spec: { holderIdentity?: string; leaseTransitions?: number; renewTime?: string };
}

let cp: ControlPlane;
let client: KubeClient;
let nsCounter = 0;

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 1000, burst: 1000 });
});
afterAll(async () => {
  await cp?.stop();
});

async function namespace(): Promise<string> {
  const name = `faults-${process.pid}-${++nsCounter}`;
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

const running: Array<{ stop: AbortController; done: Promise<void> }> = [];
afterEach(async () => {
  for (const m of running.splice(0)) {
    m.stop.abort();
    await m.done.catch(() => {});
  }
});

function run(mgr: Manager): { stop: AbortController; done: Promise<void>; settled: () => boolean } {
  const stop = new AbortController();
  let settled = false;
  const done = mgr.start(stop.signal);
  done.then(
    () => (settled = true),
    () => (settled = true),
  );
  running.push({ stop, done });
  return { stop, done, settled: () => settled };
}

/** A JSON-lines logger whose output the test reads back. */
function capturedLogger(level = 'info'): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return {
    logger: createLogger({ level, stream }),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('leader election under a saturated client budget', () => {
  // The reproduction was --kube-api-qps 2 --kube-api-burst 3 with 50 workers; here 20
  // workers re-patch 40 ConfigMaps without pause, so the main client's token bucket stays
  // seconds deep in debt — far longer than the renew deadline — for four lease durations.
  const LE = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 1_000 };

  test('no Lease transition and no exit while reconcilers hammer the API', async () => {
    const ns = await namespace();
    for (let i = 0; i < 40; i++) {
      await client.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { namespace: ns, name: `c${i}` },
      });
    }
    const opts: ManagerOptions = {
      kubeConfig: cp.kubeConfig,
      namespaces: [ns],
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      gracefulShutdownTimeoutMs: 1_000,
      qps: 2,
      burst: 3,
      leaderElection: { enabled: true, id: 'saturated', namespace: ns, identity: 'busy', ...LE },
    };
    const mgr = await Manager.create(opts);
    let patches = 0;
    mgr
      .controller('hammer')
      .for(CM)
      .withOptions({ maxConcurrentReconciles: 20 })
      .complete({
        async reconcile(req, { signal }) {
          await mgr.client.patch(
            CM,
            req,
            { type: 'merge', body: { data: { n: String(++patches) } } },
            { signal },
          );
          return { requeueAfterMs: 1 };
        },
      });
    const m = run(mgr);
    await waitFor(() => mgr.isLeader() && patches > 0, { description: 'leading and reconciling' });
    // A follower with an idle budget, ready to take over the moment the leader misses a renewal.
    const standby = await Manager.create({
      ...opts,
      qps: 50,
      burst: 100,
      leaderElection: { ...opts.leaderElection!, identity: 'standby' },
    });
    run(standby);

    // Watch the Lease from outside for four lease durations.
    const holders = new Set<string>();
    const transitions = new Set<number>();
    const renewals = new Set<string>();
    const until = Date.now() + 4 * LE.leaseDurationMs;
    // How long a request through the reconcilers' client waits: the queue a renewal sharing
    // that client would stand in.
    const probeStart = Date.now();
    const probe = mgr.client.get(CM, { namespace: ns, name: 'c0' }).then(() => Date.now() - probeStart);
    let exitedAfterMs: number | undefined;
    const watchedFrom = Date.now();
    while (Date.now() < until) {
      if (exitedAfterMs === undefined && m.settled()) exitedAfterMs = Date.now() - watchedFrom;
      const l = await client.get<LeaseObject>(LEASE, { namespace: ns, name: 'saturated' });
      holders.add(l.spec.holderIdentity ?? '');
      transitions.add(l.spec.leaseTransitions ?? 0);
      renewals.add(l.spec.renewTime ?? '');
      await new Promise((r) => setTimeout(r, 250));
    }
    expect({ holders: [...holders], transitions: [...transitions], exitedAfterMs }).toEqual({
      holders: ['busy'],
      transitions: [0],
      exitedAfterMs: undefined,
    });
    expect(standby.isLeader()).toBe(false);
    expect(mgr.isLeader()).toBe(true);
    // The budget really was saturated, and the leader kept renewing through it.
    expect(await probe).toBeGreaterThan(LE.renewDeadlineMs);
    expect(renewals.size).toBeGreaterThanOrEqual(8);
  });
});

describe('leader election that can never succeed', () => {
  test('a missing Lease namespace: one warning, /readyz names the API’s answer; it leads once the namespace exists', async () => {
    const missing = `absent-${process.pid}`;
    const { logger, lines } = capturedLogger('debug');
    const mgr = await Manager.create({
      kubeConfig: cp.kubeConfig,
      metricsBindAddress: '0',
      healthProbeBindAddress: '127.0.0.1:0',
      logger,
      leaderElection: {
        enabled: true,
        id: 'never',
        namespace: missing,
        leaseDurationMs: 3_000,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 500,
      },
    });
    mgr
      .controller('idle')
      .for(CM, { informer: { namespaces: ['default'] } })
      .complete({ reconcile: async () => {} });
    run(mgr);
    const readyz = async () => {
      const r = await fetch(`http://${mgr.healthAddress}/readyz`);
      return { status: r.status, body: await r.text() };
    };
    const failing = await waitFor(
      async () => {
        const r = await readyz();
        return r.body.includes('[-]leader-election failed') ? r : undefined;
      },
      { description: 'readiness naming the leader election failure' },
    );
    expect(failing.status).toBe(500);
    expect(failing.body).toContain(
      `[-]leader-election failed: cannot acquire the Lease ${missing}/never: POST /apis/coordination.k8s.io/v1/namespaces/${missing}/leases: namespaces "${missing}" not found`,
    );
    // Retried every 125–250 ms (each retry a debug line): ten attempts, still one warning.
    await waitFor(() => lines().filter((l) => l.message === 'Lease attempt failed').length >= 10, {
      description: 'ten more failed attempts',
    });
    const warnings = lines().filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      message: 'Cannot acquire the leader lease; retrying',
      error: { code: 'ERR_K8S_NOT_FOUND', reason: 'NotFound', status: 404 },
    });
    expect(mgr.isLeader()).toBe(false);

    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: missing } });
    await waitFor(() => mgr.isLeader(), { description: 'leading once the namespace exists' });
    await waitFor(async () => (await readyz()).status === 200, { description: 'ready' });
    expect(lines().some((l) => l.message === 'The Lease is reachable again')).toBe(true);
  });
});

describe('caches that can never sync', () => {
  const WIDGET = { group: 'faults.steward.dev', version: 'v1', kind: 'Widget' };

  /** `p`'s rejection, or a failure if it has not settled within `ms` (start-up hanging). */
  async function rejection(p: Promise<unknown>, ms: number): Promise<Error> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hang = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`still waiting after ${ms} ms`), ms);
    });
    const outcome = await Promise.race([
      p.then(
        () => 'resolved',
        (err: unknown) => err as Error,
      ),
      hang,
    ]);
    clearTimeout(timer);
    if (typeof outcome === 'string') throw new Error(`start() did not reject: ${outcome}`);
    return outcome;
  }

  test('a kind whose CRD is missing: start() fails after cacheSyncTimeoutMs, one line naming the kind and why', async () => {
    const { logger, lines } = capturedLogger();
    const mgr = await Manager.create({
      kubeConfig: cp.kubeConfig,
      metricsBindAddress: '0',
      healthProbeBindAddress: '127.0.0.1:0',
      cacheSyncTimeoutMs: 5_000,
      logger,
    });
    mgr
      .controller('widgets')
      .for(WIDGET)
      .complete({ reconcile: async () => {} });
    mgr
      .controller('cms')
      .for(CM, { informer: { namespaces: ['default'] } })
      .complete({ reconcile: async () => {} });
    const done = run(mgr).done;
    // Until then, readiness says which kind is missing and why.
    await waitFor(
      async () =>
        (await (await fetch(`http://${mgr.healthAddress}/readyz`)).text()).includes(
          '[-]cache-sync failed: caches have not synced yet: Widget.v1.faults.steward.dev (all namespaces): the server does not serve kind',
        ),
      { description: 'readiness naming the unsynced kind' },
    );
    const err = await rejection(done, 20_000);
    expect(err).toBeInstanceOf(CacheSyncTimeoutError);
    expect((err as CacheSyncTimeoutError).code).toBe('ERR_CACHE_SYNC_TIMEOUT');
    expect(err.message).not.toContain('\n');
    expect(err.message).toBe(
      'timed out after 5000 ms waiting for caches to sync: Widget.v1.faults.steward.dev (all namespaces): ' +
        'the server does not serve kind Widget.v1.faults.steward.dev',
    );
    // The reflector's retries logged the error itself, not "{}".
    expect(
      lines().find(
        (l) => l.message === 'list/watch failed, retrying' && l.gvk === 'Widget.v1.faults.steward.dev',
      ),
    ).toMatchObject({
      level: 'warn',
      error: {
        name: 'NoKindMatchError',
        code: 'ERR_K8S_NO_KIND_MATCH',
        message: expect.stringContaining('Widget'),
      },
    });
  });

  test('a user without list rights: the error names the kind and carries the 403 message', async () => {
    const mgr = await Manager.create({
      kubeConfig: await cp.userKubeConfig('no-lister'),
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      cacheSyncTimeoutMs: 2_000,
    });
    mgr
      .controller('cms')
      .for(CM)
      .complete({ reconcile: async () => {} });
    const err = await rejection(run(mgr).done, 20_000);
    expect(err).toBeInstanceOf(CacheSyncTimeoutError);
    expect(err.message).toBe(
      'timed out after 2000 ms waiting for caches to sync: ConfigMap.v1 (all namespaces): ' +
        'GET /api/v1/configmaps: configmaps is forbidden: User "no-lister" cannot list resource ' +
        '"configmaps" in API group "" at the cluster scope (403 Forbidden)',
    );
  });

  test('the built manager without the Session CRD: exit 1, its last line names the kind', async () => {
    const manager = join(import.meta.dirname, '..', '..', 'dist', 'cmd', 'manager.js');
    if (!existsSync(manager)) throw new Error('dist/cmd/manager.js is missing: run make build');
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [
          manager,
          '--kubeconfig',
          cp.kubeconfigPath,
          '--metrics-bind-address',
          '0',
          '--health-probe-bind-address',
          '0',
          '--cache-sync-timeout',
          '2s',
        ],
        { timeout: 60_000 },
        (_err, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
      );
    });
    expect(code).toBe(1);
    expect(stderr).not.toMatch(/^\s+at /m);
    const last = JSON.parse(stderr.trim().split('\n').at(-1)!) as { level: string; message: string };
    expect(last).toMatchObject({
      level: 'error',
      message:
        'timed out after 2000 ms waiting for caches to sync: Session.v1alpha1.steward.dev (all namespaces): ' +
        'the server does not serve kind Session.v1alpha1.steward.dev; ' +
        // The Workflow controller runs by default too, and its CRD is missing as well.
        'Workflow.v1alpha1.steward.dev (all namespaces): the server does not serve kind Workflow.v1alpha1.steward.dev',
    });
  });

  test('a controller’s own cacheSyncTimeoutMs bounds the wait for the kinds it watches', async () => {
    const mgr = await Manager.create({
      kubeConfig: cp.kubeConfig,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
    });
    mgr
      .controller('widgets')
      .for(WIDGET, { informer: { namespaces: ['default'] } })
      .withOptions({ cacheSyncTimeoutMs: 1_000 })
      .complete({ reconcile: async () => {} });
    const err = await rejection(run(mgr).done, 20_000);
    expect(err.message).toMatch(
      /^timed out after 1000 ms waiting for caches to sync: Widget.v1.faults.steward.dev \(namespace default\): the server does not serve kind/,
    );
  });
});
