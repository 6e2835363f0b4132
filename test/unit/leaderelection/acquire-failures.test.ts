// A leader election that cannot succeed says so: acquire failures other than "held by another"
// are warnings (once, then rate-limited), and check() — the Manager's readiness — names why.
import { PassThrough } from 'node:stream';
import { statusErrorFrom } from '../../../lib/client/errors.js';
import { AttemptFailures } from '../../../lib/leaderelection/attempt-failures.js';
import { createLogger } from '../../../lib/log/index.js';
import { FakeClient, FakeClock } from '../../../lib/testing/index.js';
import { advance, candidate, holdLease } from './helpers.js';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  const lines = () =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: string; message: string; error?: { message?: string } });
  return { logger: createLogger({ level: 'info', stream }), lines };
}

const forbidden = () =>
  statusErrorFrom({
    status: 403,
    body: {
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
      message:
        'leases.coordination.k8s.io "steward" is forbidden: User "op" cannot get resource "leases" in the namespace "kube-system"',
    },
  });

describe('LeaderElector acquire failures', () => {
  test('a Lease it may not read: one warning, not one per retry; check() says why; recovery clears it', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const { logger, lines } = capture();
    const remove = client.prependReactor((a) => (a.gvk.kind === 'Lease' ? forbidden() : undefined));
    const a = candidate(client, clock, 'a', { logger });
    // About 40 attempts (every 0.5–1 s) in 30 s.
    await advance(clock, 30_000);
    expect(a.elector.isLeader()).toBe(false);
    const warnings = lines().filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/cannot acquire the leader lease/i);
    expect(warnings[0]!.error?.message).toContain('is forbidden');
    expect(a.elector.check()?.message).toMatch(
      /^cannot acquire the Lease kube-system\/steward: .*leases.coordination.k8s.io "steward" is forbidden/,
    );

    // Still failing a minute later: one more warning, counting the attempts in between.
    await advance(clock, 40_000);
    expect(lines().filter((l) => l.level === 'warn')).toHaveLength(2);

    remove();
    await advance(clock, 2_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.elector.check()).toBeUndefined();
    a.stop.abort();
    await a.done;
  });

  test('a Lease held by another is not a failure: no warning, ready', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const { logger, lines } = capture();
    await holdLease(client, clock, 'other');
    const b = candidate(client, clock, 'b', { logger });
    for (let i = 0; i < 10; i++) {
      await advance(clock, 2_000);
      await holdLease(client, clock, 'other');
    }
    expect(b.elector.isLeader()).toBe(false);
    expect(lines().filter((l) => l.level === 'warn')).toEqual([]);
    expect(b.elector.check()).toBeUndefined();
    b.stop.abort();
    await b.done;
  });

  test('losing the race to create the Lease is not a failure either', async () => {
    const clock = new FakeClock();
    const client = new FakeClient({ clock });
    const { logger, lines } = capture();
    const cs = ['a', 'b', 'c'].map((id) => candidate(client, clock, id, { logger }));
    await advance(clock, 5_000);
    expect(lines().filter((l) => l.level === 'warn')).toEqual([]);
    for (const c of cs) expect(c.elector.check()).toBeUndefined();
    for (const c of cs) c.stop.abort();
    await Promise.all(cs.map((c) => c.done));
  });
});

describe('AttemptFailures', () => {
  test('reports the first failure, a new message at once, an unchanged one once per interval', () => {
    const f = new AttemptFailures(60_000);
    expect(f.failed(new Error('x'), 0)).toEqual({ report: true, suppressed: 0 });
    expect(f.failed(new Error('x'), 1_000)).toEqual({ report: false, suppressed: 0 });
    expect(f.failed(new Error('x'), 2_000)).toEqual({ report: false, suppressed: 0 });
    expect(f.failed(new Error('y'), 3_000)).toEqual({ report: true, suppressed: 2 });
    expect(f.failed(new Error('y'), 62_999)).toEqual({ report: false, suppressed: 0 });
    expect(f.failed(new Error('y'), 63_000)).toEqual({ report: true, suppressed: 1 });
    // Never succeeded: unhealthy at once.
    expect(f.persistent(63_000, 15_000)).toBeInstanceOf(Error);
    expect(f.succeeded(64_000)).toBe(64_000);
    expect(f.persistent(64_000, 15_000)).toBeUndefined();
    // After a success, a short blip is not unhealthy; a long one is.
    f.failed(new Error('z'), 70_000);
    expect(f.persistent(80_000, 15_000)).toBeUndefined();
    expect(f.persistent(85_000, 15_000)).toBeInstanceOf(Error);
    expect(f.succeeded(86_000)).toBe(16_000);
    expect(f.succeeded(87_000)).toBeUndefined();
  });
});
