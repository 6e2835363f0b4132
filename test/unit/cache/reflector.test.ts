import { Reflector, type ReflectorSink } from '../../../lib/cache/reflector.js';
import type { KubernetesObject } from '../../../lib/client/object.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';
import { stepUntil, until } from './helpers.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const cm = (name: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'a', name },
});

function sink() {
  const log: string[] = [];
  const s: ReflectorSink<KubernetesObject> = {
    replace: (items, rv) => void log.push(`replace ${items.map((i) => i.metadata?.name).join(',')} @${rv}`),
    event: (type, o) => void log.push(`${type} ${o.metadata?.name}`),
  };
  return { log, s };
}

let clock: FakeClock;
let fake: FakeClient;
let ac: AbortController;
let run: Promise<void> | undefined;

beforeEach(() => {
  clock = new FakeClock(0);
  fake = new FakeClient({ clock });
  ac = new AbortController();
  run = undefined;
});

afterEach(async () => {
  ac.abort();
  await run;
});

describe('Reflector', () => {
  test('lists in pages, then watches from the list resourceVersion', async () => {
    for (const n of ['a', 'b', 'c', 'd', 'e']) await fake.create(cm(n));
    const lists: Array<string | undefined> = [];
    fake.prependReactor((a) => void (a.verb === 'list' && lists.push(a.namespace)));
    const { log, s } = sink();
    const r = new Reflector(fake, s, { gvk: CM, pageSize: 2, clock, random: () => 0 });
    run = r.run(ac.signal);
    await until(() => fake.watchCount === 1);
    expect(lists).toHaveLength(3);
    expect(log).toEqual(['replace a,b,c,d,e @5']);
    await fake.create(cm('f'));
    await until(() => log.length === 2);
    expect(log[1]).toBe('ADDED f');
    expect(r.lastResourceVersion).toBe('6');
  });

  test('a watch the server closes after events is resumed at once, without a re-list', async () => {
    const restarts: string[] = [];
    const { log, s } = sink();
    const r = new Reflector(fake, s, {
      gvk: CM,
      clock,
      random: () => 0,
      onRestart: (why) => restarts.push(why),
    });
    run = r.run(ac.signal);
    await until(() => fake.watchCount === 1);
    await fake.create(cm('x'));
    await until(() => log.length === 2);
    fake.closeWatches();
    await fake.create(cm('y'));
    await until(() => log.length === 3);
    expect(log).toEqual(['replace  @0', 'ADDED x', 'ADDED y']);
    expect(restarts).toEqual(['closed']);
    expect(clock.now()).toBe(0);
  });

  test('a watch closed at once with no events backs off before the next one', async () => {
    const watchesAt: number[] = [];
    fake.prependReactor((a) => void (a.verb === 'watch' && watchesAt.push(clock.now())));
    const r = new Reflector(fake, sink().s, { gvk: CM, clock, random: () => 0 });
    run = r.run(ac.signal);
    for (let i = 0; i < 3; i++) {
      await until(() => fake.watchCount === 1 && watchesAt.length === i + 1);
      fake.closeWatches();
      await stepUntil(clock, () => watchesAt.length === i + 2, 60_000);
    }
    expect(watchesAt).toEqual([0, 800, 2400, 5600]);
  });

  test.each([
    [true, 1],
    [false, 2],
  ])('with a bookmark (%s), a compaction leads to %d list(s)', async (bookmark, lists) => {
    await fake.create(cm('a'));
    const { log, s } = sink();
    const r = new Reflector(fake, s, { gvk: CM, clock, random: () => 0 });
    run = r.run(ac.signal);
    await until(() => fake.watchCount === 1);
    // Writes to another kind move the resourceVersion on without any ConfigMap event.
    for (const name of ['s1', 's2']) {
      await fake.create({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'a', name } });
    }
    if (bookmark) {
      fake.bookmark();
      await until(() => r.lastResourceVersion === '3');
    }
    fake.compact();
    fake.closeWatches();
    await stepUntil(clock, () => fake.watchCount === 1 && log.length === lists, 60_000);
    expect(log.filter((l) => l.startsWith('replace'))).toHaveLength(lists);
  });
});
