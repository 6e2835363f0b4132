// Lease expiry and the renew deadline are durations measured in this process: an NTP step of
// the wall clock (FakeClock.stepWall) must move neither, while the timestamps written to the
// Lease (acquireTime, renewTime) follow the wall clock.
import { FakeClient, FakeClock } from '../../../lib/testing/index.js';
import { advance, candidate, holdLease, lease } from './helpers.js';

const HOUR = 3_600_000;

describe('LeaderElector under wall-clock steps', () => {
  test('a follower whose wall clock steps forward an hour does not take a live Lease', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    await holdLease(client, clock, 'a');
    const b = candidate(client, clock, 'b');
    await advance(clock, 1_000);
    expect(b.elector.leader()).toBe('a');
    clock.stepWall(HOUR);
    // 'a' renews every 2 s, as a live leader does; 'b' polls between renewals, so it sees an
    // unchanged record that is "an hour old" by the wall clock.
    for (let i = 0; i < 15; i++) {
      await advance(clock, 2_000);
      expect(b.elector.isLeader()).toBe(false);
      await holdLease(client, clock, 'a');
    }
    expect((await lease(client)).spec?.holderIdentity).toBe('a');
    b.stop.abort();
    await b.done;
  });

  test('a follower whose wall clock steps back an hour still takes a dead Lease on time', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    await holdLease(client, clock, 'dead');
    const b = candidate(client, clock, 'b');
    await advance(clock, 1_000);
    clock.stepWall(-HOUR);
    await advance(clock, 13_000);
    expect(b.elector.isLeader()).toBe(false);
    await advance(clock, 2_000);
    expect(b.elector.isLeader()).toBe(true);
    b.stop.abort();
    await b.done;
  });

  test('a leader whose wall clock steps forward does not give up on one failed renewal', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const a = candidate(client, clock, 'a');
    await advance(clock, 1_000);
    expect(a.elector.isLeader()).toBe(true);
    clock.stepWall(HOUR);
    // Readiness judges "renewed lately" on the same monotonic reading.
    expect(a.elector.check()).toBeUndefined();
    let failures = 1;
    const remove = client.prependReactor((action) =>
      action.gvk.kind === 'Lease' && action.verb === 'update' && failures-- > 0
        ? new Error('transient')
        : undefined,
    );
    await advance(clock, 6_000);
    expect(failures).toBeLessThan(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(['leader=a', 'started']);
    // The Lease's timestamps are wall-clock times: renewTime follows the step.
    const renewed = Date.parse((await lease(client)).spec!.renewTime!);
    expect(renewed).toBeGreaterThan(clock.now() - 3_000);
    remove();
    a.stop.abort();
    await a.done;
  });

  test('a leader whose wall clock steps back gives up at the renew deadline, not an hour later', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const a = candidate(client, clock, 'a');
    await advance(clock, 1_000);
    expect(a.elector.isLeader()).toBe(true);
    client.prependReactor((action) =>
      action.gvk.kind === 'Lease' && action.verb === 'update' ? new Error('unreachable') : undefined,
    );
    clock.stepWall(-HOUR);
    await advance(clock, 11_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events).toEqual(['leader=a', 'started', 'stopped']);
    await a.done;
  });
});
