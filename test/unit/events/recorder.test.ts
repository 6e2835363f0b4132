import { EventRecorder } from '../../../lib/events/index.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';

const EVENT = { group: '', version: 'v1', kind: 'Event' };
const session = {
  apiVersion: 'steward.dev/v1alpha1',
  kind: 'Session',
  metadata: { namespace: 'ns', name: 's1', uid: 'uid-1', resourceVersion: '7' },
};

/** A fake client on a fake clock, and the verbs of its Event writes in order. */
function recordingWrites(): { clock: FakeClock; client: FakeClient; writes: string[] } {
  const clock = new FakeClock();
  const client = new FakeClient({ clock });
  const writes: string[] = [];
  client.prependReactor((a) => {
    if (a.gvk.kind === 'Event') writes.push(a.verb);
  });
  return { clock, client, writes };
}

describe('EventRecorder', () => {
  test('records a core/v1 Event about the object', async () => {
    const client = new FakeClient();
    const r = new EventRecorder(client, { component: 'steward' });
    await r.event(session, 'Normal', 'Started', 'Job s1-1 created');
    const events = (await client.list(EVENT, { namespace: 'ns' })).items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'Normal',
      reason: 'Started',
      message: 'Job s1-1 created',
      count: 1,
      involvedObject: { kind: 'Session', name: 's1', namespace: 'ns', uid: 'uid-1' },
      source: { component: 'steward' },
    });
  });

  test('asks for metadata-only answers: it reads nothing of what the server sends back', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const asked: Array<[string, boolean | undefined]> = [];
    const create = client.create.bind(client);
    const patch = client.patch.bind(client);
    client.create = (obj, opts) => (asked.push(['create', opts?.metadataOnlyResponse]), create(obj, opts));
    client.patch = (gvk, key, p, opts) => (
      asked.push(['patch', opts?.metadataOnlyResponse]),
      patch(gvk, key, p, opts)
    );
    const r = new EventRecorder(client, { component: 'steward', clock });
    await r.event(session, 'Normal', 'Started', 'once');
    await r.event(session, 'Normal', 'Started', 'once');
    expect(asked).toEqual([
      ['create', true],
      ['patch', true],
    ]);
    const events = (await client.list<{ count: number }>(EVENT, { namespace: 'ns' })).items;
    expect(events.map((e) => e.count)).toEqual([2]);
  });

  test('concurrency and maxQueued must be whole numbers (RangeError naming the option)', () => {
    const client = new FakeClient();
    expect(() => new EventRecorder(client, { component: 'c', concurrency: 0 })).toThrow(
      /EventRecorder: concurrency must be an integer >= 1, got 0/,
    );
    expect(() => new EventRecorder(client, { component: 'c', concurrency: 1.5 })).toThrow(RangeError);
    expect(() => new EventRecorder(client, { component: 'c', maxQueued: -1 })).toThrow(
      /EventRecorder: maxQueued must be an integer >= 0, got -1/,
    );
    expect(
      () => new EventRecorder(client, { component: 'c', concurrency: Infinity, maxQueued: 0 }),
    ).not.toThrow();
  });

  test('repeats within the window are aggregated into one Event with a count', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const r = new EventRecorder(client, { component: 'steward', clock });
    for (let i = 0; i < 5; i++) void r.event(session, 'Warning', 'Failed', 'boom');
    await r.event(session, 'Warning', 'Failed', 'boom');
    await r.event(session, 'Warning', 'Other', 'x');
    const events = (await client.list<{ reason: string; count: number }>(EVENT, { namespace: 'ns' })).items;
    expect(events.map((e) => [e.reason, e.count]).sort()).toEqual([
      ['Failed', 6],
      ['Other', 1],
    ]);
    clock.step(600_000);
    await r.event(session, 'Warning', 'Failed', 'boom');
    expect((await client.list(EVENT, { namespace: 'ns' })).items).toHaveLength(3);
  });

  test('an error loop cannot flood the API server: 25 per object, then one per 5 minutes', async () => {
    const { clock, client, writes } = recordingWrites();
    const r = new EventRecorder(client, { component: 'steward', clock });
    for (let i = 0; i < 1000; i++) await r.event(session, 'Warning', 'Failed', `attempt ${i}`);
    expect(writes).toHaveLength(25);
    expect(r.dropped).toBe(975);
    clock.step(300_000);
    await r.event(session, 'Warning', 'Failed', 'later');
    await r.event(session, 'Warning', 'Failed', 'later still');
    expect(writes).toHaveLength(26);
  });

  test('memory stays bounded however many objects get events within the window', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const r = new EventRecorder(client, { component: 'steward', clock, cacheSize: 100 });
    const about = (i: number) => ({
      ...session,
      metadata: { ...session.metadata, name: `s${i}`, uid: `u${i}` },
    });
    for (let i = 0; i < 1000; i++) await r.event(about(i), 'Normal', 'Started', 'x');
    expect(r.remembered).toBeLessThanOrEqual(100);
    // The most recent are still aggregated.
    await r.event(about(999), 'Normal', 'Started', 'x');
    const mine = (
      await client.list<{ involvedObject: { uid: string }; count: number }>(EVENT, { namespace: 'ns' })
    ).items.filter((e) => e.involvedObject.uid === 'u999');
    expect(mine.map((e) => e.count)).toEqual([2]);
    expect(() => new EventRecorder(client, { component: 'x', cacheSize: 0 })).toThrow(RangeError);
  });

  test('when the cache is full, the least recently repeated event is forgotten, not the first recorded', async () => {
    const { clock, client, writes } = recordingWrites();
    const r = new EventRecorder(client, { component: 'steward', clock, cacheSize: 3 });
    await r.event(session, 'Warning', 'A', 'a');
    await r.event(session, 'Warning', 'B', 'b');
    await r.event(session, 'Warning', 'C', 'c');
    await r.event(session, 'Warning', 'A', 'a'); // A is now the most recent
    await r.event(session, 'Warning', 'D', 'd'); // full: B goes
    await r.event(session, 'Warning', 'A', 'a');
    expect(writes).toEqual(['create', 'create', 'create', 'patch', 'create', 'patch']);
    await r.event(session, 'Warning', 'B', 'b');
    expect(writes.at(-1)).toBe('create');
    expect(r.remembered).toBeLessThanOrEqual(3);
  });

  test('an object that keeps getting events keeps its rate-limit budget when others crowd the cache', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const r = new EventRecorder(client, { component: 'steward', clock, cacheSize: 10, burst: 2 });
    const about = (i: number) => ({
      ...session,
      metadata: { ...session.metadata, name: `s${i}`, uid: `u${i}` },
    });
    await r.event(session, 'Warning', 'Failed', 'one');
    await r.event(session, 'Warning', 'Failed', 'two'); // its budget of 2 is spent
    for (let i = 0; i < 30; i++) {
      await r.event(about(i), 'Normal', 'Started', 'x');
      await r.event(session, 'Warning', 'Failed', `again ${i}`); // refused, but it is in use
    }
    expect(r.dropped).toBe(30);
  });

  test('API failures are logged, never thrown', async () => {
    const client = new FakeClient();
    client.prependReactor(() => new Error('down'));
    const r = new EventRecorder(client, { component: 'steward' });
    await expect(r.event(session, 'Normal', 'X', 'y')).resolves.toBeUndefined();
  });

  test('writes are bounded: a few in flight, a bounded backlog, the rest dropped and counted', async () => {
    const fake = new FakeClient();
    let inFlight = 0;
    let most = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // An API server that does not answer (an outage): writes pile up behind the gate.
    const slow = {
      async create(obj: Parameters<FakeClient['create']>[0]) {
        most = Math.max(most, ++inFlight);
        await gate;
        inFlight--;
        return fake.create(obj);
      },
      patch: fake.patch.bind(fake),
    } as unknown as FakeClient;
    const r = new EventRecorder(slow, { component: 'steward', concurrency: 3, maxQueued: 10 });
    const recorded = Array.from({ length: 50 }, (_, i) =>
      r.event(
        { ...session, metadata: { ...session.metadata, name: `s${i}`, uid: `uid-${i}` } },
        'Normal',
        'Created',
        'x',
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(most).toBe(3);
    expect(r.dropped).toBe(50 - 3 - 10);
    open();
    await Promise.all(recorded);
    await r.onIdle();
    expect((await fake.list(EVENT)).items).toHaveLength(13);
    // A dropped event is created on its next occurrence, not bumped.
    await r.event(
      { ...session, metadata: { ...session.metadata, name: 's49', uid: 'uid-49' } },
      'Normal',
      'Created',
      'x',
    );
    expect((await fake.list(EVENT)).items).toHaveLength(14);
  });
});
