import fc from 'fast-check';
import { isTerminal, PHASES, type Session } from '../../../controllers/session/index.js';
import { JOB_GVK, jobName, SESSION_GVK } from '../../../controllers/session/index.js';
import { Harness } from './harness.js';

/**
 * 10,000 random Sessions (valid and invalid specs) through random Job and pod histories on
 * the fake client: the reconciler never throws, every status has a known phase and a reason,
 * terminal phases never change, and a world that finishes Jobs drives every Session to a
 * terminal phase.
 */

const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const junk = fc.oneof(
  fc.constant(null),
  fc.string(),
  fc.integer({ min: -5, max: 5 }),
  fc.boolean(),
  fc.constant([]),
);

const spec = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        template: fc.record(
          {
            image: maybe(fc.oneof(fc.constant('img'), fc.constant(''), junk)),
            command: maybe(fc.oneof(fc.constant(['run']), junk)),
          },
          { requiredKeys: [] },
        ),
        input: maybe(fc.jsonValue()),
        startTimeoutSeconds: maybe(fc.oneof(fc.integer({ min: 1, max: 600 }), junk)),
        timeoutSeconds: maybe(fc.oneof(fc.integer({ min: 1, max: 600 }), junk)),
        retry: maybe(
          fc.record(
            {
              limit: maybe(fc.oneof(fc.integer({ min: 0, max: 4 }), junk)),
              backoff: maybe(
                fc.record(
                  {
                    initialSeconds: maybe(fc.integer({ min: 0, max: 60 })),
                    factor: maybe(fc.oneof(fc.double({ min: 1, max: 4, noNaN: true }), junk)),
                    maxSeconds: maybe(fc.integer({ min: 0, max: 120 })),
                  },
                  { requiredKeys: [] },
                ),
              ),
              onExitCodes: maybe(fc.oneof(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }), junk)),
            },
            { requiredKeys: [] },
          ),
        ),
        ttlSecondsAfterFinished: maybe(fc.oneof(fc.integer({ min: 0, max: 100 }), junk)),
        cancel: maybe(fc.oneof(fc.boolean(), junk)),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: junk },
);

type Ev =
  | { e: 'reconcile' }
  | { e: 'step'; ms: number }
  | { e: 'running' }
  | { e: 'exit'; code: number }
  | { e: 'complete' }
  | { e: 'fail'; code: number | undefined }
  | { e: 'deleteJob' }
  | { e: 'cancel' };

const ev: fc.Arbitrary<Ev> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ e: 'reconcile' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ e: fc.constant('step' as const), ms: fc.integer({ min: 0, max: 200_000 }) }),
  },
  { weight: 2, arbitrary: fc.constant({ e: 'running' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ e: fc.constant('exit' as const), code: fc.integer({ min: 0, max: 5 }) }),
  },
  { weight: 2, arbitrary: fc.constant({ e: 'complete' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ e: fc.constant('fail' as const), code: maybe(fc.integer({ min: 1, max: 5 })) }),
  },
  { weight: 1, arbitrary: fc.constant({ e: 'deleteJob' as const }) },
  { weight: 1, arbitrary: fc.constant({ e: 'cancel' as const }) },
);

async function apply(h: Harness, e: Ev): Promise<void> {
  const s = await h.session('p').catch(() => undefined);
  const attempt = s?.status?.attempt ?? 0;
  const hasJob =
    attempt > 0 &&
    (await h.client.get(JOB_GVK, { namespace: 'ns', name: jobName('p', attempt) }).then(
      () => true,
      () => false,
    ));
  switch (e.e) {
    case 'reconcile':
      return void (await h.reconcile('p'));
    case 'step':
      return h.clock.step(e.ms);
    case 'running':
      if (hasJob) await h.pod('p', attempt, 'running');
      return;
    case 'exit':
      if (hasJob) await h.pod('p', attempt, { exitCode: e.code });
      return;
    case 'complete':
      if (hasJob) await h.finishJob('p', attempt, 'Complete');
      return;
    case 'fail':
      if (hasJob) {
        if (e.code !== undefined) await h.pod('p', attempt, { exitCode: e.code });
        await h.finishJob('p', attempt, 'Failed');
      }
      return;
    case 'deleteJob':
      if (hasJob) await h.client.delete(JOB_GVK, { namespace: 'ns', name: jobName('p', attempt) });
      return;
    case 'cancel':
      if (s)
        await h.client.patch(
          SESSION_GVK,
          { namespace: 'ns', name: 'p' },
          { type: 'merge', body: { spec: { cancel: true } } },
        );
      return;
  }
}

function checkStatus(s: Session | undefined, lastTerminal: string | undefined): string | undefined {
  if (s === undefined || s.status === undefined) return lastTerminal;
  const { phase, reason } = s.status;
  if (phase === undefined || !(PHASES as readonly string[]).includes(phase))
    throw new Error(`unknown phase ${String(phase)}`);
  if (typeof reason !== 'string' || reason === '') throw new Error(`phase ${phase} without a reason`);
  if (lastTerminal !== undefined && phase !== lastTerminal)
    throw new Error(`terminal ${lastTerminal} changed to ${phase}`);
  return isTerminal(phase) ? phase : undefined;
}

describe('Session reconciler properties', () => {
  test('random specs and histories: defined phases, reasons, terminal stability, termination', async () => {
    await fc.assert(
      fc.asyncProperty(spec, fc.array(ev, { maxLength: 12 }), async (sp, evs) => {
        const h = new Harness();
        await h.create('p', sp);
        let terminal: string | undefined;
        for (const e of evs) {
          await apply(h, e);
          terminal = checkStatus(await h.session('p').catch(() => undefined), terminal);
        }
        // A cooperative world: every Job completes, time moves on, the reconciler runs.
        for (let i = 0; i < 30; i++) {
          const s = await h.session('p').catch(() => undefined);
          if (s === undefined || isTerminal(s.status?.phase)) break;
          await apply(h, { e: 'complete' });
          await h.reconcile('p');
          h.clock.step(400_000);
          terminal = checkStatus(await h.session('p').catch(() => undefined), terminal);
        }
        const end = await h.session('p').catch(() => undefined);
        if (end !== undefined && !isTerminal(end.status?.phase)) {
          throw new Error(`not terminal after a cooperative world: ${JSON.stringify(end.status)}`);
        }
      }),
      { numRuns: 10_000 },
    );
  }, 300_000);
});
