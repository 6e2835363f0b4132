// How the leader renews: client-go's optimistic update (one PUT of the Lease it last wrote,
// conditional on that resourceVersion), a GET + PUT only when that fails, and never an attempt
// that outlives the renew deadline.
import type { Client } from '../../../lib/client/client.js';
import { KubeClient } from '../../../lib/client/kube-client.js';
import { LeaderElector } from '../../../lib/leaderelection/index.js';
import { type FakeAction, FakeClient, FakeClock, waitFor } from '../../../lib/testing/index.js';
import { json, LoopbackApi, status } from '../client/loopback.js';
import { advance, candidate, holdLease, lease } from './helpers.js';

function recordLeaseCalls(client: FakeClient): string[] {
  const calls: string[] = [];
  client.prependReactor((a: FakeAction) => {
    if (a.gvk.kind === 'Lease') calls.push(a.verb);
  });
  return calls;
}

describe('LeaderElector renewals', () => {
  test('a renewal is one conditional PUT of the last-seen Lease, no GET', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const a = candidate(client, clock, 'a');
    await advance(clock, 500);
    expect(a.elector.isLeader()).toBe(true);
    const calls = recordLeaseCalls(client);
    await advance(clock, 10_000);
    // One renewal per retry period (2 s), each a single update.
    expect(calls).toEqual(['update', 'update', 'update', 'update', 'update']);
    a.stop.abort();
    await a.done;
  });

  test('when the Lease changed behind the leader’s back, the PUT conflicts and it falls back to GET + PUT', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const a = candidate(client, clock, 'a');
    await advance(clock, 500);
    // Someone (kubectl, a misconfigured replica) rewrites the Lease; the holder is still 'a'.
    await holdLease(client, clock, 'a');
    const calls = recordLeaseCalls(client);
    await advance(clock, 2_000);
    expect(calls).toEqual(['update', 'get', 'update']);
    expect(a.elector.isLeader()).toBe(true);
    expect((await lease(client)).spec?.holderIdentity).toBe('a');
    a.stop.abort();
    await a.done;
  });

  test('when another holder took the Lease, the leader does not overwrite it', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const a = candidate(client, clock, 'a');
    await advance(clock, 500);
    await holdLease(client, clock, 'intruder');
    await advance(clock, 2_000);
    expect((await lease(client)).spec?.holderIdentity).toBe('intruder');
    a.stop.abort();
    await a.done;
  });

  test('an attempt that hangs is aborted at the renew deadline, and leadership ends then', async () => {
    const clock = new FakeClock();
    const fake = new FakeClient({ clock });
    let hang = false;
    const aborted: unknown[] = [];
    // A client whose Lease writes stop answering (a saturated or partitioned API server).
    const client = new Proxy(fake, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'update' && prop !== 'get')
          return typeof value === 'function' ? value.bind(target) : value;
        return (...args: unknown[]) => {
          if (!hang) return (value as (...a: unknown[]) => unknown).apply(target, args);
          const signal = (args.at(-1) as { signal?: AbortSignal } | undefined)?.signal;
          return new Promise((_resolve, reject) => {
            signal?.addEventListener('abort', () => {
              aborted.push(signal.reason);
              reject(signal.reason as Error);
            });
          });
        };
      },
    }) as unknown as Client;
    const events: string[] = [];
    const elector = new LeaderElector({
      client,
      clock,
      namespace: 'kube-system',
      name: 'steward',
      identity: 'a',
      onStoppedLeading: () => events.push(`stopped at ${clock.monotonic() - start}`),
    });
    const start = clock.monotonic();
    const stop = new AbortController();
    const done = elector.run(stop.signal);
    await advance(clock, 100, 10);
    expect(elector.isLeader()).toBe(true);
    hang = true;
    await advance(clock, 12_000, 10);
    await done;
    // Acquired at ~0, renew deadline 10 s: the hanging attempt was cut off then, not later.
    expect(events).toEqual([expect.stringMatching(/^stopped at 10\d{3}$/)]);
    expect(Number(events[0]!.split(' ').at(-1))).toBeLessThanOrEqual(10_010);
    expect(aborted.length).toBeGreaterThan(0);
  });
});

describe('LeaderElector renewals through a real KubeClient (loopback server, real time)', () => {
  // The transport retries a PUT answered 503 with Retry-After (up to 5 times), and the elector
  // falls back to GET + PUT: neither may send a renewal after the renew deadline. Real timers
  // and sockets; the server answers each failing PUT after 150 ms, so one attempt with its
  // retries would run ~2 s, twice the deadline, if it were not cut off there.
  test('a failing API: renewals, retries included, stop at the renew deadline', async () => {
    const RENEW_DEADLINE_MS = 1_000;
    // Room for a loaded machine's event-loop lag; far below what an uncut attempt overshoots.
    const SLACK_MS = 400;
    const api = await LoopbackApi.start();
    let stored: Record<string, unknown> | undefined;
    let version = 0;
    let failing = false;
    let lastRenewed = 0;
    const failedPuts: number[] = [];
    api.respond = (req, res) => {
      if (req.method === 'GET') return stored ? json(res, 200, stored) : status(res, 404, 'NotFound');
      if (failing) {
        if (req.method === 'PUT') failedPuts.push(performance.now());
        setTimeout(() => status(res, 503, 'ServiceUnavailable', { 'Retry-After': '0' }), 150);
        return;
      }
      const body = JSON.parse(req.body) as { metadata: object };
      stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
      lastRenewed = performance.now();
      json(res, req.method === 'POST' ? 201 : 200, stored);
    };
    const client = new KubeClient(api.kubeConfig(), { qps: -1 });
    let stoppedAt = 0;
    const elector = new LeaderElector({
      client,
      namespace: 'ns',
      name: 'lease',
      identity: 'me',
      leaseDurationMs: 1_500,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: 200,
      onStoppedLeading: () => (stoppedAt = performance.now()),
    });
    try {
      const done = elector.run(new AbortController().signal);
      // Created, then renewed once: the optimistic path is in use.
      await waitFor(() => elector.isLeader() && version >= 2, {
        timeoutMs: 10_000,
        intervalMs: 10,
      });
      failing = true;
      await done;
      const deadline = lastRenewed + RENEW_DEADLINE_MS;
      expect(failedPuts.length).toBeGreaterThan(1);
      expect(failedPuts.filter((t) => t > deadline + SLACK_MS)).toEqual([]);
      expect(stoppedAt).toBeLessThan(deadline + SLACK_MS);
    } finally {
      client.close();
      await api.close();
    }
  });
});
