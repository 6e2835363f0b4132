import { Registry } from 'prom-client';
import { LeaderElector, type Lease } from '../../../lib/leaderelection/index.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';
import { advance, candidate, flush, lease } from './helpers.js';

describe('LeaderElector', () => {
  test('options are validated: lease > renew deadline > 1.2 × retry', () => {
    const client = new FakeClient();
    const base = { client, namespace: 'n', name: 'l' };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(
      /leaseDurationMs/,
    );
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 })).toThrow(/1.2/);
    expect(() => new LeaderElector({ ...base, retryPeriodMs: 0 })).toThrow(RangeError);
    for (const [option, value] of [
      ['leaseDurationMs', NaN],
      ['leaseDurationMs', -1],
      ['leaseDurationMs', 0],
      ['renewDeadlineMs', Number.NaN],
      ['renewDeadlineMs', -5],
      ['retryPeriodMs', -2_000],
      ['retryPeriodMs', Infinity],
      // leaseDurationSeconds is an int32: the API server would refuse every write of the Lease.
      ['leaseDurationMs', 2 ** 31 * 1000],
    ] as const) {
      expect(() => new LeaderElector({ ...base, [option]: value })).toThrow(
        new RegExp(`^LeaderElector: ${option} must be a finite number > 0`),
      );
    }
    expect(new LeaderElector(base).identity).toMatch(/^.+_[0-9a-f-]{36}$/);
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 30 * 86_400_000 })).not.toThrow();
  });

  test('one leader; it renews; the record is client-go’s', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const registry = new Registry();
    const a = candidate(client, clock, 'a', { registry });
    await flush();
    const b = candidate(client, clock, 'b');
    await advance(clock, 5_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.leader()).toBe('a');
    const l = await lease(client);
    expect(l.spec?.holderIdentity).toBe('a');
    expect(l.spec?.leaseDurationSeconds).toBe(15);
    expect(l.spec?.leaseTransitions).toBe(0);
    expect(l.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Date.parse(l.spec!.renewTime!)).toBeGreaterThan(Date.parse(l.spec!.acquireTime!));
    expect(await registry.metrics()).toContain('leader_election_master_status{name="steward"} 1');
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.done, b.done]);
    expect(a.events).toEqual(['leader=a', 'started', 'stopped']);
    expect(b.events).toEqual(['leader=a']);
  });

  test('a dead leader is replaced once its lease expires, judged by the follower’s clock', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    // The old leader's record claims a renewTime far in the future: skew must not matter.
    await client.create<Lease>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { namespace: 'kube-system', name: 'steward' },
      spec: {
        holderIdentity: 'dead',
        leaseDurationSeconds: 15,
        acquireTime: '2099-01-01T00:00:00.000000Z',
        renewTime: '2099-01-01T00:00:00.000000Z',
        leaseTransitions: 3,
      },
    });
    const b = candidate(client, clock, 'b');
    await advance(clock, 14_000);
    expect(b.elector.isLeader()).toBe(false);
    await advance(clock, 2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect((await lease(client)).spec?.leaseTransitions).toBe(4);
    b.stop.abort();
    await b.done;
  });

  test('releaseOnCancel hands over within half a retry period', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const a = candidate(client, clock, 'a', { releaseOnCancel: true });
    await flush();
    const b = candidate(client, clock, 'b');
    await advance(clock, 3_000);
    expect(a.elector.isLeader()).toBe(true);
    a.stop.abort();
    await a.done;
    expect((await lease(client)).spec?.holderIdentity).toBeUndefined();
    await advance(clock, 1_000);
    expect(b.elector.isLeader()).toBe(true);
    b.stop.abort();
    await b.done;
  });

  test('a leader that cannot renew within the renew deadline stops leading', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const a = candidate(client, clock, 'a');
    await advance(clock, 1_000);
    expect(a.elector.isLeader()).toBe(true);
    client.prependReactor((action) =>
      action.verb === 'update' ? new Error('apiserver unreachable') : undefined,
    );
    await advance(clock, 9_000);
    expect(a.elector.isLeader()).toBe(true);
    await advance(clock, 2_000);
    await a.done;
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events).toEqual(['leader=a', 'started', 'stopped']);
    expect(a.elector.check()).toBeUndefined();
  });

  test('fenced(): a leader paused past its renew deadline is fenced the moment it resumes, before its renew loop runs', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const a = candidate(client, clock, 'a');
    await advance(clock, 1_000);
    const b = candidate(client, clock, 'b');
    await advance(clock, 3_000);
    expect([a.elector.isLeader(), a.elector.fenced(), b.elector.fenced()]).toEqual([
      true,
      undefined,
      undefined,
    ]);
    // A pause: 20 s pass at once, every due timer fires, and nothing has run since.
    clock.step(20_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.elector.fenced()).toMatch(
      /^the Lease kube-system\/steward was last renewed 2\d{4} ms ago, past the renew deadline \(10000 ms\)$/,
    );
    expect(b.elector.fenced()).toBeUndefined(); // never led: what every replica runs may write
    await a.done; // the renew loop gives up on its next step
    expect(a.elector.fenced()).toBe('leadership of the Lease kube-system/steward was lost');
    await advance(clock, 20_000);
    expect([b.elector.isLeader(), b.elector.fenced()]).toEqual([true, undefined]);
    b.stop.abort();
    await b.done;
    expect(b.elector.fenced()).toBeUndefined(); // stepped down, not lost
  });

  test('two candidates racing for a missing lease: exactly one wins', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const cs = ['a', 'b', 'c'].map((id) => candidate(client, clock, id));
    await advance(clock, 5_000);
    expect(cs.filter((c) => c.elector.isLeader()).length).toBe(1);
    for (const c of cs) c.stop.abort();
    await Promise.all(cs.map((c) => c.done));
  });
});
