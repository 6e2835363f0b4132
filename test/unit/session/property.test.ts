import fc from 'fast-check';
import {
  ConflictError,
  ForbiddenError,
  InternalError,
  InvalidError,
  type KubernetesObject,
} from '../../../lib/index.js';
import {
  FAILURE_CLASSES,
  isTerminal,
  MAX_HISTORY,
  PHASES,
  type Session,
} from '../../../controllers/session/index.js';
import { JOB_GVK, jobName, SESSION_GVK } from '../../../controllers/session/index.js';
import { Harness } from './harness.js';

/**
 * 10,000 random Sessions (valid and invalid specs) through random worlds on the fake client,
 * whose status writes are checked against the CRD's schema: Jobs that run, exit, fail, are
 * deleted (by hand or by a TTL controller once finished), quotas that refuse them, rejections
 * with huge messages, cancels racing creation, pod caches lagging, status writes failing.
 * Throughout: the reconciler throws nothing but the failures injected, every status has a
 * known phase and a reason, terminal phases never change, a Session never has two active Jobs
 * (and none once terminal), no Job carries a TTL; and a cooperative world drives every Session
 * to a terminal phase.
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
              on: maybe(fc.oneof(fc.subarray([...FAILURE_CLASSES]), fc.constant(['Bogus']), junk)),
              ignoreDisruptions: maybe(fc.oneof(fc.boolean(), junk)),
            },
            { requiredKeys: [] },
          ),
        ),
        ttlSecondsAfterFinished: maybe(fc.oneof(fc.integer({ min: 0, max: 100 }), junk)),
        cancel: maybe(fc.oneof(fc.boolean(), junk)),
        imagePullGraceSeconds: maybe(fc.oneof(fc.constantFrom(0, 5), fc.integer({ min: 0, max: 120 }), junk)),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: junk },
  // Specs the schema accepts, so that most runs reach the Job and pod histories.
  {
    weight: 4,
    arbitrary: fc.record(
      {
        template: fc.constant({ image: 'img' }),
        startTimeoutSeconds: maybe(fc.integer({ min: 1, max: 600 })),
        timeoutSeconds: maybe(fc.integer({ min: 1, max: 600 })),
        ttlSecondsAfterFinished: maybe(fc.integer({ min: 0, max: 100 })),
        imagePullGraceSeconds: maybe(fc.constantFrom(0, 5, 30)),
        retry: fc.record(
          {
            limit: fc.integer({ min: 0, max: 3 }),
            backoff: fc.record({ initialSeconds: fc.integer({ min: 0, max: 30 }) }),
            on: maybe(fc.subarray([...FAILURE_CLASSES])),
            onExitCodes: maybe(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 2 })),
            ignoreDisruptions: maybe(fc.boolean()),
          },
          { requiredKeys: ['limit'] },
        ),
      },
      { requiredKeys: ['template', 'retry'] },
    ),
  },
);

type Ev =
  | { e: 'reconcile' }
  | { e: 'step'; ms: number }
  | { e: 'running' }
  | { e: 'exit'; code: number; long: boolean }
  | { e: 'complete' }
  | { e: 'fail'; code: number | undefined }
  | { e: 'deleteJob' }
  | { e: 'ttlDeleteJob' }
  | { e: 'cancel' }
  | { e: 'cancelRace' }
  | { e: 'quota'; on: boolean; long: boolean }
  | { e: 'rejectJob'; long: boolean }
  | { e: 'podCreateFailed' }
  | { e: 'lagPods'; on: boolean }
  | { e: 'statusWriteFails' }
  | { e: 'disrupt'; reason: string }
  | { e: 'oom' }
  | { e: 'imagePull'; reason: string }
  | { e: 'unschedulable' };

const ev: fc.Arbitrary<Ev> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ e: 'reconcile' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({ e: fc.constant('step' as const), ms: fc.integer({ min: 0, max: 200_000 }) }),
  },
  { weight: 3, arbitrary: fc.constant({ e: 'running' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      e: fc.constant('exit' as const),
      code: fc.integer({ min: 0, max: 5 }),
      long: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ e: 'complete' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ e: fc.constant('fail' as const), code: maybe(fc.integer({ min: 1, max: 5 })) }),
  },
  { weight: 1, arbitrary: fc.constant({ e: 'deleteJob' as const }) },
  // The cluster's TTL controller (or anyone) deleting a Job once it finished.
  { weight: 1, arbitrary: fc.constant({ e: 'ttlDeleteJob' as const }) },
  { weight: 1, arbitrary: fc.constant({ e: 'cancel' as const }) },
  // spec.cancel landing while the reconcile that created a Job writes its status.
  { weight: 1, arbitrary: fc.constant({ e: 'cancelRace' as const }) },
  // A quota that refuses Job creations (Forbidden), with a message of any size.
  {
    weight: 1,
    arbitrary: fc.record({ e: fc.constant('quota' as const), on: fc.boolean(), long: fc.boolean() }),
  },
  // The API server rejecting the Job outright (Invalid), with a message of any size.
  { weight: 1, arbitrary: fc.record({ e: fc.constant('rejectJob' as const), long: fc.boolean() }) },
  // The Job controller unable to create the pod (a FailedCreate event on the Job).
  { weight: 1, arbitrary: fc.constant({ e: 'podCreateFailed' as const }) },
  // The pod cache freezing (lagging the Job cache) or catching up.
  { weight: 1, arbitrary: fc.record({ e: fc.constant('lagPods' as const), on: fc.boolean() }) },
  // The next status write failing (an etcd timeout).
  { weight: 1, arbitrary: fc.constant({ e: 'statusWriteFails' as const }) },
  // Failure classes: the pod disrupted (then the Job fails), OOMKilled, stuck pulling its
  // image, unschedulable.
  {
    weight: 1,
    arbitrary: fc.record({
      e: fc.constant('disrupt' as const),
      reason: fc.constantFrom(
        'TerminationByKubelet',
        'PreemptionByScheduler',
        'DeletionByTaintManager',
        'Odd',
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ e: 'oom' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      e: fc.constant('imagePull' as const),
      reason: fc.constantFrom('ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ e: 'unschedulable' as const }) },
);

/** An error the world injected: the reconciler may fail with it (and must recover). */
class Injected extends InternalError {}
const LONG = 'x'.repeat(70_000);

/** World state beyond the fake API: reactors the events switch on and off. */
interface World {
  quota?: () => void;
  reject?: () => void;
}

async function apply(h: Harness, w: World, e: Ev): Promise<void> {
  const s = await h.session('p').catch(() => undefined);
  const attempt = s?.status?.attempt ?? 0;
  const job = attempt > 0 ? await h.job('p', attempt).catch(() => undefined) : undefined;
  const hasJob = job !== undefined;
  switch (e.e) {
    case 'reconcile':
      try {
        await h.reconcile('p');
      } catch (err) {
        if (!(err instanceof Injected)) throw err;
      }
      return;
    case 'step':
      return h.clock.step(e.ms);
    case 'running':
      if (hasJob) await h.pod('p', attempt, 'running');
      return;
    case 'exit':
      if (hasJob) await h.pod('p', attempt, { exitCode: e.code, message: e.long ? LONG : undefined });
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
    case 'ttlDeleteJob':
      if (hasJob && job.status?.conditions?.some((c) => c.status === 'True')) {
        await h.client.delete(JOB_GVK, { namespace: 'ns', name: jobName('p', attempt) });
      }
      return;
    case 'cancel':
      if (s) await cancel(h);
      return;
    case 'cancelRace': {
      const remove = h.client.prependReactor((a) => {
        if (a.verb !== 'patchStatus' || a.gvk.kind !== 'Session') return;
        remove();
        void cancel(h);
        return new ConflictError({
          status: 409,
          reason: 'Conflict',
          message: 'the object has been modified',
        });
      });
      return;
    }
    case 'quota':
      w.quota?.();
      w.quota = undefined;
      if (e.on) {
        w.quota = h.client.prependReactor((a) =>
          a.verb === 'create' && a.gvk.kind === 'Job'
            ? new ForbiddenError({
                status: 403,
                reason: 'Forbidden',
                message: `exceeded quota: q, requested: count/jobs.batch=1${e.long ? LONG : ''}`,
              })
            : undefined,
        );
      }
      return;
    case 'rejectJob': {
      const remove = h.client.prependReactor((a) => {
        if (a.verb !== 'create' || a.gvk.kind !== 'Job') return;
        remove();
        return new InvalidError({
          status: 422,
          reason: 'Invalid',
          message: `env: Invalid value${e.long ? LONG : ''}`,
        });
      });
      return;
    }
    case 'podCreateFailed':
      if (hasJob) {
        await h.client.create({
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { namespace: 'ns', generateName: 'p.' },
          involvedObject: { kind: 'Job', namespace: 'ns', name: job.metadata!.name, uid: job.metadata!.uid },
          reason: 'FailedCreate',
          message: `Error creating: pods is forbidden: exceeded quota: pods${LONG}`,
        } as KubernetesObject);
      }
      return;
    case 'lagPods':
      h.stalePods = e.on ? await h.podsOf('p', attempt) : undefined;
      return;
    case 'disrupt':
      if (hasJob) {
        await h.pod('p', attempt, {
          status: {
            phase: 'Failed',
            conditions: [{ type: 'DisruptionTarget', status: 'True', reason: e.reason, message: LONG }],
            containerStatuses: [
              { name: 'session', state: { terminated: { exitCode: 137, reason: 'Error' } } },
            ],
          },
        });
        await h.finishJob('p', attempt, 'Failed');
      }
      return;
    case 'oom':
      if (hasJob) {
        await h.pod('p', attempt, { exitCode: 137, reason: 'OOMKilled' });
        await h.finishJob('p', attempt, 'Failed');
      }
      return;
    case 'imagePull':
      if (hasJob) {
        await h.pod('p', attempt, {
          status: {
            phase: 'Pending',
            containerStatuses: [{ name: 'session', state: { waiting: { reason: e.reason, message: LONG } } }],
          },
        });
      }
      return;
    case 'unschedulable':
      if (hasJob) {
        await h.pod('p', attempt, {
          status: {
            phase: 'Pending',
            conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: LONG }],
          },
        });
      }
      return;
    case 'statusWriteFails': {
      const remove = h.client.prependReactor((a) => {
        if (a.verb !== 'patchStatus' || a.gvk.kind !== 'Session') return;
        remove();
        return new Injected({
          status: 500,
          reason: 'InternalError',
          message: 'etcdserver: request timed out',
        });
      });
      return;
    }
  }
}

const cancel = (h: Harness) =>
  h.client.patch(
    SESSION_GVK,
    { namespace: 'ns', name: 'p' },
    { type: 'merge', body: { spec: { cancel: true } } },
  );

/** Reasons a Failed Session may give: a failure class, or a spec the operator cannot (or may not) run. */
const FAILED_REASONS = new Set<string>([
  ...FAILURE_CLASSES,
  'InvalidSpec',
  'JobNameConflict',
  'PolicyViolation',
]);

function checkStatus(s: Session | undefined, lastTerminal: string | undefined): string | undefined {
  if (s === undefined || s.status === undefined) return lastTerminal;
  const { phase, reason, history = [], attempt = 0 } = s.status;
  if (phase === undefined || !(PHASES as readonly string[]).includes(phase))
    throw new Error(`unknown phase ${String(phase)}`);
  if (typeof reason !== 'string' || reason === '') throw new Error(`phase ${phase} without a reason`);
  if (phase === 'Failed' && !FAILED_REASONS.has(reason)) throw new Error(`Failed with reason ${reason}`);
  if (history.length > MAX_HISTORY) throw new Error(`history of ${history.length}`);
  for (let i = 0; i < history.length; i++) {
    const h = history[i]!;
    if (h.attempt > attempt || (i > 0 && h.attempt <= history[i - 1]!.attempt)) {
      throw new Error(
        `history out of order: ${JSON.stringify(history.map((x) => x.attempt))} at attempt ${attempt}`,
      );
    }
    if (h.class !== undefined && !(FAILURE_CLASSES as readonly string[]).includes(h.class)) {
      throw new Error(`history class ${h.class}`);
    }
  }
  if (lastTerminal !== undefined && phase !== lastTerminal)
    throw new Error(`terminal ${lastTerminal} changed to ${phase}`);
  return isTerminal(phase) ? phase : undefined;
}

/** Never two active Jobs for one Session; none once it is terminal; no Job carries a TTL. */
async function checkJobs(h: Harness, s: Session | undefined, afterReconcile: boolean): Promise<void> {
  const active = await h.activeJobs();
  if (active.length > 1) throw new Error(`two active Jobs: ${active.join(', ')}`);
  if (afterReconcile && s !== undefined && isTerminal(s.status?.phase) && active.length > 0) {
    throw new Error(`${s.status?.phase} with an active Job ${active[0]}`);
  }
  for (const j of await h.jobs()) {
    if (j.spec && 'ttlSecondsAfterFinished' in j.spec) throw new Error(`Job ${j.metadata?.name} has a TTL`);
  }
}

describe('Session reconciler properties', () => {
  test('random specs and histories: defined phases, reasons, terminal stability, termination, one active Job', async () => {
    await fc.assert(
      fc.asyncProperty(spec, fc.array(ev, { maxLength: 16 }), async (sp, evs) => {
        const h = new Harness();
        const w: World = {};
        await h.create('p', sp);
        let terminal: string | undefined;
        for (const e of evs) {
          await apply(h, w, e);
          const s = await h.session('p').catch(() => undefined);
          terminal = checkStatus(s, terminal);
          await checkJobs(h, s, e.e === 'reconcile');
        }
        // A cooperative world: quotas lift, caches catch up, every Job completes, time moves
        // on, the reconciler runs.
        w.quota?.();
        h.stalePods = undefined;
        for (let i = 0; i < 30; i++) {
          const s = await h.session('p').catch(() => undefined);
          if (s === undefined || isTerminal(s.status?.phase)) break;
          // Reconcile first: whatever the random events left (a pod stuck pulling its image, a
          // retry due) is acted on before the world completes the Job.
          await apply(h, w, { e: 'reconcile' });
          await checkJobs(h, await h.session('p').catch(() => undefined), true);
          await apply(h, w, { e: 'complete' });
          await apply(h, w, { e: 'reconcile' });
          h.clock.step(400_000);
          terminal = checkStatus(await h.session('p').catch(() => undefined), terminal);
        }
        const end = await h.session('p').catch(() => undefined);
        if (end !== undefined && !isTerminal(end.status?.phase)) {
          throw new Error(`not terminal after a cooperative world: ${JSON.stringify(end.status)}`);
        }
        await apply(h, w, { e: 'reconcile' });
        await checkJobs(h, await h.session('p').catch(() => undefined), true);
      }),
      { numRuns: 10_000 },
    );
  }, 300_000);
});
