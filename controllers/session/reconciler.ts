import {
  type Client,
  type Clock,
  isConflict,
  isNotFound,
  isStatusError,
  type KubernetesObject,
  type Reader,
  realClock,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from '../../lib/index.js';
import { AttemptJobs, type CreateOutcome } from './attempts.js';
import {
  classifyFailedJob,
  classifyStarting,
  type Failure,
  jobDeleted,
  jobRejected,
  timeoutClass,
} from './failure.js';
import { buildJob, type Job, jobFinished, jobName } from './job.js';
import type { SessionMetrics } from './metrics.js';
import { podReported } from './pod.js';
import { backoffSeconds, effectiveRetry, retryDecision, validateSpec } from './policy.js';
import { appendHistory, boundStatus } from './status.js';
import { checkTenantPolicy, DEFAULT_TENANT_POLICY, type TenantPolicy } from './tenant-policy.js';
import {
  type Change,
  isUnwritten,
  pendingUnwritten,
  type Recorder,
  SessionTransitions,
} from './transitions.js';
import {
  type AttemptRecord,
  DEFAULTS,
  type FailureClass,
  isTerminal,
  type Phase,
  MAX_IGNORED_DISRUPTIONS,
  type Session,
  SESSION_GVK,
} from './types.js';

/**
 * What a `SessionReconciler` is built with: client, cache reader, clock, recorder, metrics,
 * defaults.
 */
export interface SessionReconcilerOptions {
  /** Writes (and reads that must not be stale: a Job missing from the cache). */
  client: Client;
  /** Reads of Sessions, Jobs and Pods. Default `client`; the Manager passes its cache. */
  reader?: Reader;
  recorder?: Recorder;
  metrics?: SessionMetrics;
  clock?: Clock;
  /** Image for Sessions that name none (--runner-image). */
  runnerImage?: string;
  /** What a Session may ask of its pod (--tenant-policy). Default DEFAULT_TENANT_POLICY: safe. */
  tenantPolicy?: TenantPolicy;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ms = (t: string | undefined) => (t ? Date.parse(t) : NaN);

/** A Job creation the API refuses (a quota, an admission webhook) is retried: doubling, capped. */
const CREATE_RETRY_MS = 1_000;
const CREATE_RETRY_MAX_MS = 60_000;
/**
 * The longest requeue asked for. Timers cannot wait longer than 2^31−1 ms (Node fires them at
 * once instead); a deadline further out is simply looked at again after a day.
 */
const MAX_REQUEUE_MS = 86_400_000;
/** A failed Job whose pod has not said how it ended yet: wait this long from the failure. */
const POD_REPORT_WAIT_MS = 10_000;
const POD_REPORT_POLL_MS = 1_000;
/**
 * A Job with no pod this long: look for the reason its pod cannot be created (a list of events
 * from the API). Looked at again after as long as it has been podless, up to the cap: a pod
 * created meanwhile brings a reconcile at once (pods are watched), so only the reason's update
 * waits, and Sessions waiting out a quota for hours do not spend the client's budget on events.
 */
const POD_CREATE_CHECK_MS = 5_000;
const POD_CREATE_CHECK_MAX_MS = 300_000;
/** Bound on Sessions whose refused creations are tracked: the oldest entries are dropped. */
const MAX_TRACKED = 10_000;

/** Steps the state machine may take in one reconcile before it must wait for the world. */
const MAX_STEPS = 6;

const after = (delayMs: number): Result => ({
  requeueAfterMs: Math.max(1, Math.min(Math.ceil(delayMs), MAX_REQUEUE_MS)),
});

/** The next step of the loop: continue with this Session, or stop with this result. */
type Step = { session: Session; known?: Job } | { result: Result | void };

/**
 * Drives a Session through its phases by running one Job per attempt.
 *
 *     (new) → Pending → Starting → Running → Succeeded
 *                 ↑          │         │  ↘ Failed | TimedOut
 *                 └─ retry ──┴─────────┘      Cancelled (from any non-terminal phase)
 *
 * Every step is idempotent and restart-safe: Job names are deterministic (`<session>-<n>`) so
 * a repeated create finds the Job it made (AlreadyExists is success); status is written with a
 * merge patch that carries the resourceVersion read, so a reconcile working from a stale cache
 * gets a conflict and retries instead of moving a Session backwards. Terminal phases never
 * change. Deadlines are exact: the reconcile asks to be requeued for the next one.
 *
 * Outcomes are recorded before anything is deleted: a timeout, a cancel or a failed attempt is
 * written to status first (conditional on the resourceVersion read), and only then are the
 * Session's active Jobs deleted. Those are found by owner, not only through `status.jobName`,
 * so a Job whose creation was never recorded (the status write lost a race) is found too: in a
 * terminal phase, and while Pending, no Job of the Session stays active.
 */
export class SessionReconciler implements Reconciler {
  readonly #client: Client;
  readonly #reader: Reader;
  readonly #metrics: SessionMetrics | undefined;
  readonly #clock: Clock;
  readonly #runnerImage: string | undefined;
  readonly #tenantPolicy: TenantPolicy;
  readonly #jobs: AttemptJobs;
  readonly #status: SessionTransitions;
  // Session uid → consecutive refused Job creations, for their backoff.
  readonly #refusals = new Map<string, number>();

  constructor(opts: SessionReconcilerOptions) {
    this.#client = opts.client;
    this.#reader = opts.reader ?? opts.client;
    this.#metrics = opts.metrics;
    this.#clock = opts.clock ?? realClock;
    this.#runnerImage = opts.runnerImage;
    this.#tenantPolicy = opts.tenantPolicy ?? DEFAULT_TENANT_POLICY;
    this.#jobs = new AttemptJobs({
      client: this.#client,
      reader: this.#reader,
      clock: this.#clock,
      metrics: this.#metrics,
    });
    this.#status = new SessionTransitions({
      client: this.#client,
      clock: this.#clock,
      recorder: opts.recorder,
      metrics: this.#metrics,
    });
  }

  async reconcile(req: Request, ctx: ReconcileContext): Promise<Result | void> {
    const started = this.#clock.now();
    const namespace = req.namespace ?? '';
    let phase: Phase | '' = '';
    let success = false;
    try {
      let session: Session;
      try {
        session = await this.#reader.get<Session>(SESSION_GVK, req, { signal: ctx.signal });
      } catch (err) {
        if (isNotFound(err)) return; // Deleted: its Jobs go with it (owner references).
        throw err;
      }
      phase = session.status?.phase ?? '';
      // The cache may not show our own last status write yet: wait for it, not repeat the step.
      const stale = this.#status.staleDelay(session);
      if (stale !== undefined) {
        success = true;
        return { requeueAfterMs: stale };
      }
      const result = await this.#run(session, ctx);
      success = true;
      return result;
    } catch (err) {
      if (isConflict(err)) {
        // Our read was stale (the cache had not seen our last write yet): read again soon.
        ctx.logger.debug('Conflict writing Session status; requeueing');
        this.#metrics?.error(namespace, phase, 'conflict');
        return { requeue: true };
      }
      this.#metrics?.error(namespace, phase, errorType(err));
      throw err;
    } finally {
      this.#metrics?.reconciled(phase, success, (this.#clock.now() - started) / 1000);
    }
  }

  async #run(session: Session, ctx: ReconcileContext): Promise<Result | void> {
    if (session.metadata?.deletionTimestamp) return;
    // A Job this reconcile created or found, so the next step need not read it again.
    let known: Job | undefined;
    for (let step = 0; step < MAX_STEPS; step++) {
      const status = session.status ?? {};
      const phase = status.phase;
      const now = this.#clock.now();
      if (isTerminal(phase)) return this.#finished(session, now, ctx);

      const problem = validateSpec(session.spec, this.#runnerImage);
      if (problem !== undefined) return this.#invalid(session, problem, now, ctx);
      if (phase === undefined) {
        // A new Session is Pending only until this same reconcile creates its Job, so Pending
        // is not written on its own: one status patch and one event fewer per Session. The
        // metrics still count both steps.
        session = pendingUnwritten(session);
        continue;
      }
      if (session.spec!.cancel) {
        const change: Change = {
          phase: 'Cancelled',
          reason: 'Cancelled',
          message: 'Cancelled by spec.cancel',
        };
        if (phase !== 'Pending') {
          change.history = this.#record(
            session,
            { reason: 'Cancelled', message: change.message },
            known,
            now,
          );
        }
        return this.#finish(session, change, now, ctx, known);
      }
      const next =
        phase === 'Pending'
          ? await this.#pending(session, now, ctx)
          : await this.#active(session, known, now, ctx);
      if ('result' in next) return next.result;
      session = next.session;
      known = next.known;
    }
    // Not reached in practice: each loop iteration above either returns or makes progress.
    return { requeue: true };
  }

  /** Pending: wait out the retry backoff, then create the next attempt's Job. */
  async #pending(session: Session, now: number, ctx: ReconcileContext): Promise<Step> {
    const status = session.status!;
    const attempt = status.attempt ?? 0;
    const retryAt = ms(status.nextRetryTime);
    if (retryAt > now) return { result: after(retryAt - now) };
    // No Job of an earlier attempt may still run when the next one starts (one failed by the
    // operator itself, say, whose deletion did not go through).
    if (attempt > 0) await this.#jobs.deleteActive(session, ctx, { upToAttempt: attempt });
    const next = attempt + 1;
    const created = await this.#createJob(session, next, ctx);
    const uid = session.metadata!.uid!;
    if ('refused' in created) return { result: await this.#refused(session, created.refused, now, ctx) };
    this.#refusals.delete(uid);
    if ('rejected' in created) {
      // The rejected creation is the attempt: it ended before it began.
      const failure = jobRejected(next, jobName(session.metadata!.name!, next), created.rejected);
      return { result: await this.#attemptFailed(session, failure, now, ctx, { attempt: next }) };
    }
    if ('failed' in created) {
      return {
        result: await this.#finish(
          session,
          { phase: 'Failed', reason: created.reason, message: created.failed },
          now,
          ctx,
        ),
      };
    }
    const updated = await this.#status.write(
      session,
      {
        phase: 'Starting',
        reason: 'JobCreated',
        message: `Created Job ${created.job.metadata!.name} for attempt ${next}`,
        attempt: next,
        jobName: created.job.metadata!.name,
        startTime: status.startTime ?? iso(now),
        nextRetryTime: undefined,
        exitCode: undefined,
        runningTime: undefined,
        result: undefined,
      },
      ctx,
    );
    return { session: updated, known: created.job };
  }

  /**
   * The API refused to create the attempt's Job for a reason that may pass (a quota, an
   * admission webhook, an overloaded server): show it as Pending/JobCreateFailed with the
   * API's message, and try again with a backoff, until the start timeout ends the Session.
   */
  async #refused(session: Session, why: string, now: number, ctx: ReconcileContext): Promise<Result | void> {
    const status = session.status!;
    const next = (status.attempt ?? 0) + 1;
    const startTimeout = (session.spec!.startTimeoutSeconds ?? DEFAULTS.startTimeoutSeconds) * 1000;
    const since = ms(status.nextRetryTime) || ms(session.metadata?.creationTimestamp) || now;
    const deadline = since + startTimeout;
    const message = `Could not create the Job for attempt ${next}: ${why}`;
    if (now >= deadline) {
      return this.#finish(
        session,
        {
          phase: 'TimedOut',
          reason: 'StartTimeout',
          message: `Attempt ${next} did not start within ${startTimeout / 1000}s: ${message}`,
        },
        now,
        ctx,
      );
    }
    this.#metrics?.error(session.metadata!.namespace ?? '', 'Pending', 'job_create_failed');
    const unwritten = isUnwritten(session);
    if (
      unwritten ||
      status.reason !== 'JobCreateFailed' ||
      status.message !== boundStatus({ message }).message
    ) {
      await this.#status.write(
        session,
        { phase: 'Pending', reason: 'JobCreateFailed', message, attempt: status.attempt ?? 0 },
        ctx,
      );
    }
    const uid = session.metadata!.uid!;
    const n = (this.#refusals.get(uid) ?? 0) + 1;
    this.#refusals.delete(uid);
    this.#refusals.set(uid, n);
    if (this.#refusals.size > MAX_TRACKED) this.#refusals.delete(this.#refusals.keys().next().value!);
    const delay = Math.min(CREATE_RETRY_MS * 2 ** Math.min(n - 1, 30), CREATE_RETRY_MAX_MS);
    return after(Math.min(delay, deadline - now));
  }

  /** Starting or Running: follow the attempt's Job and its pod. */
  async #active(session: Session, known: Job | undefined, now: number, ctx: ReconcileContext): Promise<Step> {
    const status = session.status!;
    const spec = session.spec!;
    const phase = status.phase!;
    const attempt = status.attempt ?? 0;
    const name = status.jobName ?? jobName(session.metadata!.name!, attempt);
    const job = known?.metadata?.name === name ? known : await this.#jobs.get(session, name, ctx);
    if (job === undefined) {
      return { result: await this.#attemptFailed(session, jobDeleted(attempt, name), now, ctx) };
    }
    const finished = jobFinished(job);
    if (finished?.type === 'Complete') {
      let pod = await this.#jobs.pod(session, attempt, job, false, ctx);
      if (pod !== undefined && !podReported(pod)) {
        // The Job controller saw the pod end, our pod cache may not have yet, and the pod's
        // termination message is the Session's result: as for a failure, ask the API, then
        // give the pod a little while. (No pod at all: nothing to wait for.)
        pod = await this.#jobs.pod(session, attempt, job, true, ctx);
        const wait = ms(finished.lastTransitionTime) + POD_REPORT_WAIT_MS - now;
        if (!podReported(pod) && pod !== undefined && !pod.deleting && wait > 0) {
          return { result: after(Math.min(POD_REPORT_POLL_MS, wait)) };
        }
      }
      const exitCode = pod?.terminated?.exitCode ?? 0;
      const message = `Job ${name} completed`;
      const history = this.#record(session, { reason: 'Completed', exitCode, message }, job, now);
      return {
        result: await this.#finish(
          session,
          {
            phase: 'Succeeded',
            reason: 'Completed',
            message,
            exitCode,
            history,
            result: pod?.terminated?.message || undefined,
          },
          now,
          ctx,
        ),
      };
    }
    if (finished?.type === 'Failed') {
      let pod = await this.#jobs.pod(session, attempt, job, false, ctx);
      if (!podReported(pod)) {
        // The pod cache can lag the Job cache: never decide on missing data. Ask the API, and
        // if the pod has not reported even there, give it a little while.
        pod = await this.#jobs.pod(session, attempt, job, true, ctx);
        const failedAt = ms(finished.lastTransitionTime);
        const wait = failedAt + POD_REPORT_WAIT_MS - now;
        if (!podReported(pod) && pod !== undefined && !pod.deleting && wait > 0) {
          return { result: after(Math.min(POD_REPORT_POLL_MS, wait)) };
        }
      }
      const failure = classifyFailedJob(attempt, finished.reason, finished.message, pod);
      return {
        result: await this.#attemptFailed(session, failure, now, ctx, {
          job,
          result: pod?.terminated?.message || undefined,
        }),
      };
    }

    const pod = await this.#jobs.pod(session, attempt, job, false, ctx);
    if (phase === 'Starting') {
      if (pod?.running) {
        const first = status.runningTime === undefined;
        const runningAt = pod.startedAt ?? now;
        const updated = await this.#status.write(
          session,
          {
            phase: 'Running',
            reason: 'PodRunning',
            message: `Attempt ${attempt} is running`,
            runningTime: iso(runningAt),
          },
          ctx,
        );
        if (first) {
          this.#metrics?.startup(
            session.metadata!.namespace ?? '',
            (runningAt - ms(session.metadata?.creationTimestamp)) / 1000,
          );
        }
        return { session: updated, known: job };
      }
      const startTimeout = (spec.startTimeoutSeconds ?? DEFAULTS.startTimeoutSeconds) * 1000;
      const created = ms(job.metadata?.creationTimestamp) || ms(status.startTime) || now;
      const deadline = created + startTimeout;
      if (now >= deadline) {
        const noted = ['FailedCreate', 'Unschedulable', 'ImagePull'].includes(status.reason ?? '');
        const message = `Attempt ${attempt} did not start running within ${startTimeout / 1000}s${noted ? `: ${status.message}` : ''}`;
        const history = this.#record(
          session,
          { reason: 'StartTimeout', class: timeoutClass(pod), message },
          job,
          now,
        );
        return {
          result: await this.#finish(
            session,
            { phase: 'TimedOut', reason: 'StartTimeout', message, history },
            now,
            ctx,
            job,
          ),
        };
      }
      // An image that cannot be pulled fails the attempt after a short grace, instead of
      // leaving it to the start timeout; an unschedulable pod is reported meanwhile.
      const graceMs = (spec.imagePullGraceSeconds ?? DEFAULTS.imagePullGraceSeconds) * 1000;
      const starting = classifyStarting(attempt, pod, now, graceMs);
      if (starting.failure !== undefined) {
        return { result: await this.#attemptFailed(session, starting.failure, now, ctx, { job }) };
      }
      if (starting.note !== undefined) {
        const { reason, message } = starting.note;
        if (status.reason !== reason || status.message !== boundStatus({ message }).message) {
          await this.#status.write(session, { phase: 'Starting', reason, message }, ctx);
        }
        return { result: after(Math.min(deadline, starting.recheckAt ?? Infinity) - now) };
      }
      // No pod after a while: the Job controller may be unable to create it (a quota, a
      // LimitRange); it says so only in FailedCreate events on the Job.
      const podless = pod === undefined && !(job.status?.active ?? 0);
      if (podless && now - created >= POD_CREATE_CHECK_MS) {
        const refused = await this.#jobs.podCreateFailure(job, ctx);
        if (refused !== undefined) {
          const message = `Job ${name} cannot create the pod of attempt ${attempt}: ${refused}`;
          if (status.reason !== 'FailedCreate' || status.message !== boundStatus({ message }).message) {
            await this.#status.write(session, { phase: 'Starting', reason: 'FailedCreate', message }, ctx);
          }
        }
        const again = Math.min(Math.max(now - created, POD_CREATE_CHECK_MS), POD_CREATE_CHECK_MAX_MS);
        return { result: after(Math.min(again, deadline - now)) };
      }
      const check = podless ? created + POD_CREATE_CHECK_MS : Infinity;
      return { result: after(Math.min(deadline, check) - now) };
    }

    // Running.
    if (spec.timeoutSeconds === undefined) return { result: undefined };
    const deadline = (ms(status.runningTime) || now) + spec.timeoutSeconds * 1000;
    if (now >= deadline) {
      const message = `Attempt ${attempt} ran longer than ${spec.timeoutSeconds}s`;
      const history = this.#record(
        session,
        { reason: 'RunTimeout', class: 'DeadlineExceeded', message },
        job,
        now,
      );
      return {
        result: await this.#finish(
          session,
          { phase: 'TimedOut', reason: 'RunTimeout', message, history },
          now,
          ctx,
          job,
        ),
      };
    }
    return { result: after(deadline - now) };
  }

  /** A spec the operator cannot run: Failed/InvalidSpec with why. */
  async #invalid(session: Session, problem: string, now: number, ctx: ReconcileContext) {
    return this.#finish(session, { phase: 'Failed', reason: 'InvalidSpec', message: problem }, now, ctx);
  }

  /**
   * A failed attempt: recorded in the history and counted by class; then retried after the
   * backoff if the policy allows (Pending), else Failed. Either way the attempt's Job, if the
   * operator itself failed it while it was active (an image that cannot be pulled), is deleted
   * once that is written.
   */
  async #attemptFailed(
    session: Session,
    failure: Failure,
    now: number,
    ctx: ReconcileContext,
    opts: { job?: Job; attempt?: number; result?: string } = {},
  ): Promise<Result | void> {
    const status = session.status ?? {};
    const attempt = opts.attempt ?? status.attempt ?? 1;
    const ignored = status.ignoredFailures ?? 0;
    const retry = effectiveRetry(session.spec ?? {});
    const decision = retryDecision(retry, attempt, ignored, failure);
    this.#metrics?.error(session.metadata!.namespace ?? '', status.phase ?? '', failure.class);
    const history = this.#record(
      session,
      { reason: failure.reason, class: failure.class, exitCode: failure.exitCode, message: failure.message },
      opts.job,
      now,
      attempt,
    );
    if (decision.retry) {
      const delayMs = backoffSeconds(retry, attempt - ignored) * 1000;
      // Rounded up to the whole second the API keeps, so that no reconcile (an event, a resync)
      // can start the retry before its backoff has passed.
      const retryAt = Math.ceil((now + delayMs) / 1000) * 1000;
      const at = iso(retryAt);
      const which = decision.counted
        ? `retry ${attempt - ignored} of ${retry.limit}`
        : `retry not counted against retry.limit (disruption ${ignored + 1} of ${MAX_IGNORED_DISRUPTIONS})`;
      const pending = await this.#status.write(
        session,
        {
          phase: 'Pending',
          reason: 'RetryBackoff',
          message: `${failure.message}; ${which} at ${at}`,
          attempt,
          exitCode: failure.exitCode,
          nextRetryTime: at,
          ignoredFailures: decision.counted ? status.ignoredFailures : ignored + 1,
          history,
        },
        ctx,
      );
      await this.#jobs.deleteActive(pending, ctx, { upToAttempt: attempt, also: opts.job });
      return after(retryAt - now);
    }
    const why = retry.limit > 0 && decision.why ? `; not retried: ${decision.why}` : '';
    return this.#finish(
      session,
      {
        phase: 'Failed',
        reason: failure.reason,
        message: `${failure.message}${why}`,
        attempt,
        exitCode: failure.exitCode,
        history,
        result: opts.result,
      },
      now,
      ctx,
      opts.job,
    );
  }

  /** The Session's history with the current (or given) attempt's end recorded. */
  #record(
    session: Session,
    end: { reason: string; class?: FailureClass; exitCode?: number; message?: string },
    job: Job | undefined,
    now: number,
    attempt = session.status?.attempt ?? 0,
  ): AttemptRecord[] {
    const entry: AttemptRecord = {
      attempt,
      class: end.class,
      exitCode: end.exitCode,
      reason: end.reason,
      message: end.message,
      startTime: job?.metadata?.creationTimestamp,
      finishTime: iso(now),
    };
    return appendHistory(session.status?.history, entry);
  }

  /** Moves to a terminal phase, then makes sure no Job of the Session runs on, and applies the TTL. */
  async #finish(
    session: Session,
    change: Change,
    now: number,
    ctx: ReconcileContext,
    job?: Job,
  ): Promise<Result | void> {
    const done = await this.#status.write(
      session,
      { ...change, completionTime: iso(now), nextRetryTime: undefined },
      ctx,
    );
    return this.#finished(done, now, ctx, job);
  }

  /** A terminal Session: no active Job of it may remain; then the TTL applies. */
  async #finished(session: Session, now: number, ctx: ReconcileContext, job?: Job): Promise<Result | void> {
    await this.#jobs.deleteActive(session, ctx, { also: job });
    const ttl = session.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined) return;
    const at = ms(session.status?.completionTime) + ttl * 1000;
    if (Number.isNaN(at)) return;
    if (now < at) return after(at - now);
    try {
      await this.#client.delete(SESSION_GVK, keyOf(session), {
        propagationPolicy: 'Background',
        preconditions: { uid: session.metadata!.uid },
        signal: ctx.signal,
      });
      ctx.logger.info('Deleted finished Session after its TTL', { ttlSecondsAfterFinished: ttl });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  /**
   * Makes the Job of attempt `attempt`: the tenant policy first (Steward creates the pod with
   * its own rights, so what the Session asks of it is vetted before every attempt, as the
   * policy may have tightened since the last one), then the Job itself.
   */
  async #createJob(
    session: Session,
    attempt: number,
    ctx: ReconcileContext,
  ): Promise<Exclude<CreateOutcome, { conflict: string }> | { failed: string; reason: string }> {
    const violation = checkTenantPolicy(session, this.#tenantPolicy);
    if (violation !== undefined) {
      this.#metrics?.error(session.metadata!.namespace ?? '', 'Pending', 'policy_violation');
      return { failed: violation.message, reason: 'PolicyViolation' };
    }
    let job: Job;
    try {
      job = buildJob(session, attempt, {
        runnerImage: this.#runnerImage,
        startTimeoutSeconds: DEFAULTS.startTimeoutSeconds,
        automountServiceAccountToken: this.#tenantPolicy.serviceAccounts.automountToken,
      });
    } catch (err) {
      // validateSpec should have caught whatever this is; never loop on it.
      return { failed: `Cannot build the Job: ${(err as Error).message}`, reason: 'InvalidSpec' };
    }
    const outcome = await this.#jobs.create(session, job, ctx);
    return 'conflict' in outcome ? { failed: outcome.conflict, reason: 'JobNameConflict' } : outcome;
  }
}

function keyOf(obj: KubernetesObject): { namespace?: string; name: string } {
  return { namespace: obj.metadata?.namespace, name: obj.metadata!.name! };
}

function errorType(err: unknown): string {
  if (isStatusError(err)) return `api_${err.reason || err.status}`.toLowerCase();
  if (err instanceof Error && err.name === 'AbortError') return 'aborted';
  return 'internal';
}
