// Every combination of spec values the schema accepts (and some it refuses, for objects that
// bypassed it) ends with a Ready condition and a reason after one reconcile, asks for a finite
// requeue or none, and is stable: a second reconcile at the same instant writes nothing.
import { Harness } from './harness.js';

const session = { template: { image: 'busybox' } };
const axes = {
  schedule: ['*/5 * * * * *', '@hourly', '0 0 30 2 *', '61 * * * *', '* * * * *', '0 0 1 1 *'],
  timeZone: [undefined, 'Europe/Berlin', 'Mars/Base', 'Local'],
  concurrencyPolicy: [undefined, 'Forbid', 'Replace'],
  startingDeadlineSeconds: [undefined, 0, 10],
  suspend: [undefined, true],
  successfulRunsHistoryLimit: [undefined, 0],
  template: [
    { sessionTemplate: { spec: session } },
    { sessionTemplate: { spec: { template: {} } } },
    { sessionTemplate: undefined, workflowTemplate: { spec: { tasks: [{ name: 'a', session }] } } },
    {
      sessionTemplate: undefined,
      workflowTemplate: {
        spec: {
          tasks: [
            { name: 'a', dependsOn: ['b'], session },
            { name: 'b', dependsOn: ['a'], session },
          ],
        },
      },
    },
  ],
} as const;

/** A deterministic walk over the axes: each value of each axis meets every other axis's values. */
function* specs(): Generator<Record<string, unknown>> {
  const keys = Object.keys(axes) as Array<keyof typeof axes>;
  const sizes = keys.map((k) => axes[k].length);
  const total = sizes.reduce((a, b) => a * b, 1);
  // Every 7th combination (7 is coprime with every axis size, so each value is visited): 494 of 3,456.
  for (let i = 0; i < total; i += 7) {
    let rest = i;
    const spec: Record<string, unknown> = {};
    for (const [j, k] of keys.entries()) {
      const v = axes[k][rest % sizes[j]!];
      rest = Math.floor(rest / sizes[j]!);
      if (k === 'template') Object.assign(spec, v);
      else if (v !== undefined) spec[k] = v;
    }
    yield spec;
  }
}

test('every spec ends with Ready and a reason, a finite requeue or none, and is stable', async () => {
  let checked = 0;
  for (const spec of specs()) {
    const h = new Harness({ start: '2026-01-01T00:00:02.500Z' });
    await h.create(spec);
    h.clock.step(3_600_000); // an hour after creation: every time kind has come due
    const first = await h.reconcile();
    const s = await h.schedule();
    const ready = h.condition(s, 'Ready');
    expect([spec, ready?.status, typeof ready?.reason]).toEqual([
      spec,
      expect.stringMatching(/True|False/),
      'string',
    ]);
    expect([spec, ready!.reason.length > 0]).toEqual([spec, true]);
    const delay = first && 'requeueAfterMs' in first ? first.requeueAfterMs : undefined;
    if (delay !== undefined) expect([spec, delay > 0 && Number.isFinite(delay)]).toEqual([spec, true]);
    const rv = s.metadata!.resourceVersion;
    const events = h.events.length;
    await h.reconcile();
    const again = await h.schedule();
    expect([spec, again.metadata!.resourceVersion, h.events.length]).toEqual([spec, rv, events]);
    checked++;
  }
  expect(checked).toBe(494);
});
