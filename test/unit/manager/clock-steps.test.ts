// A running Manager with leader election, whose wall clock is stepped (NTP) an hour either way
// several times: the leader keeps its Lease (no takeover by the follower, no spurious loss, no
// Lease transition) and a reconciler's requeueAfterMs comes due on the monotonic clock.
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '../../../lib/client/object.js';
import { LEASE_GVK, type Lease } from '../../../lib/leaderelection/index.js';
import { Manager } from '../../../lib/manager/index.js';
import { FakeClient, FakeClock } from '../../../lib/testing/index.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const HOUR = 3_600_000;
const REQUEUE_MS = 600_000;

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** Advances the clock in steps, letting API calls and reconciles run between them. */
async function advance(clock: FakeClock, ms: number, stepMs: number): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.step(Math.min(stepMs, ms - t));
    await flush();
  }
}

test('wall-clock steps of ±1 h: no takeover, no lost Lease, requeues on time', async () => {
  const clock = new FakeClock();
  const cm: KubernetesObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'default', name: 'a' },
  };
  const client = new FakeClient({ clock, objects: [cm] });
  const start = async (identity: string) => {
    const mgr = await Manager.create({
      kubeConfig: new KubeConfig(),
      client,
      clock,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      leaderElection: { enabled: true, id: 'steps', namespace: 'default', identity },
    });
    const reconciledAt: number[] = [];
    mgr
      .controller('steps')
      .for(CM)
      .complete({
        reconcile: async () => {
          reconciledAt.push(clock.monotonic());
          return { requeueAfterMs: REQUEUE_MS };
        },
      });
    const stop = new AbortController();
    let failed: unknown;
    const running = mgr.start(stop.signal).catch((err: unknown) => void (failed = err));
    return { mgr, reconciledAt, stop, running, failed: () => failed };
  };

  const a = await start('a');
  await advance(clock, 3_000, 100);
  expect(a.mgr.isLeader()).toBe(true);
  const b = await start('b');
  await advance(clock, 3_000, 100);
  const first = a.reconciledAt[0]!;
  for (const step of [HOUR, -HOUR, -HOUR, HOUR, 2 * HOUR]) {
    clock.stepWall(step);
    // Longer than the lease duration (15 s) after each step.
    await advance(clock, 40_000, 500);
    expect([a.mgr.isLeader(), b.mgr.isLeader(), a.failed(), b.failed()]).toEqual([
      true,
      false,
      undefined,
      undefined,
    ]);
  }
  const lease = await client.get<Lease>(LEASE_GVK, { namespace: 'default', name: 'steps' });
  expect([lease.spec?.holderIdentity, lease.spec?.leaseTransitions]).toEqual(['a', 0]);
  expect(a.reconciledAt).toEqual([first]);
  await advance(clock, first + REQUEUE_MS - clock.monotonic() + 1_000, 500);
  // A reconcile reads the clock after the step that made it due (100 ms steps, then 500 ms).
  expect(a.reconciledAt).toHaveLength(2);
  const waited = a.reconciledAt[1]! - first;
  expect(waited).toBeGreaterThanOrEqual(REQUEUE_MS - 100);
  expect(waited).toBeLessThanOrEqual(REQUEUE_MS + 500);
  expect(b.reconciledAt).toEqual([]);
  a.stop.abort();
  b.stop.abort();
  await advance(clock, 1_000, 100);
  await Promise.all([a.running, b.running]);
});
