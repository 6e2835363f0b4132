// How the leader renews: client-go's optimistic update (one PUT of the Lease it last wrote,
// conditional on that resourceVersion), a GET + PUT only when that fails, and never an attempt
// that outlives the renew deadline.
import type { Client } from '../../../lib/client/client.js';
import { LeaderElector } from '../../../lib/leaderelection/index.js';
import { type FakeAction, FakeClient, FakeClock } from '../../../lib/testing/index.js';
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
