import {
  type Client,
  type Clock,
  isAlreadyExists,
  isBadRequest,
  isInvalid,
  isConflict,
  isControlledBy,
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
import { buildJob, type Job, jobFinished, jobName, sessionLabelValue } from './job.js';
import type { SessionMetrics } from './metrics.js';
import { backoffSeconds, effectiveRetry, mayRetry, validateSpec } from './policy.js';
import { setConditions } from './status.js';
import { checkTenantPolicy, DEFAULT_TENANT_POLICY, type TenantPolicy } from './tenant-policy.js';
import {
  DEFAULTS,
  isTerminal,
  JOB_GVK,
  LABEL_ATTEMPT,
  LABEL_SESSION,
  type Phase,
  POD_GVK,
  type Session,
  SESSION_GVK,
  type SessionStatus,
} from './types.js';

/** Where transition events go; `EventRecorder` fits. */
export interface Recorder {
  event(obj: KubernetesObject, type: 'Normal' | 'Warning', reason: string, message: string): unknown;
}

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

interface Pod extends KubernetesObject {
  status?: {
    phase?: string;
    containerStatuses?: Array<{
      name: string;
      state?: {
        running?: { startedAt?: string };
        terminated?: { exitCode?: number; reason?: string; message?: string; startedAt?: string };
      };
    }>;
  };
}

/** What the current attempt's pod says. */
interface PodView {
  running: boolean;
  startedAt?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
}

/** A status change: the new phase with a reason and message, plus any other fields. */
type Change = Omit<SessionStatus, 'phase' | 'reason' | 'message' | 'conditions'> & {
  phase: Phase;
  reason: string;
  message: string;
};

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ms = (t: string | undefined) => (t ? Date.parse(t) : NaN);

/** Marks an in-memory Session whose Pending phase has not been written yet. */
const PENDING_UNWRITTEN = Symbol('pendingUnwritten');
type Unwritten = { [PENDING_UNWRITTEN]?: boolean };

/** How soon to look again when the cache has not caught up with our own write yet. */
const STALE_RETRY_MS = 50;
const MAX_SUPERSEDED = 10_000;

/** Steps the state machine may take in one reconcile before it must wait for the world. */
const MAX_STEPS = 6;

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
 */
export class SessionReconciler implements Reconciler {
  readonly #client: Client;
  readonly #reader: Reader;
  readonly #recorder: Recorder | undefined;
  readonly #metrics: SessionMetrics | undefined;
  readonly #clock: Clock;
  readonly #runnerImage: string | undefined;
  readonly #tenantPolicy: TenantPolicy;
  // Session uid → the resourceVersion our last status write replaced, until the cache shows a
  // newer one. Bounded: entries of Sessions deleted meanwhile are dropped with the oldest.
  readonly #superseded = new Map<string, string>();

  constructor(opts: SessionReconcilerOptions) {
    this.#client = opts.client;
    this.#reader = opts.reader ?? opts.client;
    this.#recorder = opts.recorder;
    this.#metrics = opts.metrics;
    this.#clock = opts.clock ?? realClock;
    this.#runnerImage = opts.runnerImage;
    this.#tenantPolicy = opts.tenantPolicy ?? DEFAULT_TENANT_POLICY;
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
      const uid = session.metadata?.uid ?? '';
      const stale = this.#superseded.get(uid);
      if (stale !== undefined) {
        if (stale === session.metadata?.resourceVersion) {
          // The cache still holds the version our last status write replaced: acting on it
          // would repeat that step (a create that finds its Job, a patch that conflicts).
          success = true;
          return { requeueAfterMs: STALE_RETRY_MS };
        }
        this.#superseded.delete(uid);
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
      if (problem !== undefined) {
        return this.#finish(session, { phase: 'Failed', reason: 'InvalidSpec', message: problem }, now, ctx);
      }
      if (phase === undefined) {
        // A new Session is Pending only until this same reconcile creates its Job, so Pending
        // is not written on its own: one status patch and one event fewer per Session. The
        // metrics still count both steps.
        const pending: Session = {
          ...session,
          status: { ...status, phase: 'Pending', reason: 'Created', message: 'Waiting to start', attempt: 0 },
        };
        (pending as Unwritten)[PENDING_UNWRITTEN] = true;
        session = pending;
        continue;
      }
      const spec = session.spec!;
      const attempt = status.attempt ?? 0;

      if (spec.cancel) {
        if (status.jobName) await this.#deleteJob(session, status.jobName, ctx);
        return this.#finish(
          session,
          { phase: 'Cancelled', reason: 'Cancelled', message: 'Cancelled by spec.cancel' },
          now,
          ctx,
        );
      }

      if (phase === 'Pending') {
        const retryAt = ms(status.nextRetryTime);
        if (retryAt > now) return { requeueAfterMs: retryAt - now };
        const next = attempt + 1;
        const created = await this.#createJob(session, next, ctx);
        if ('failed' in created) {
          return this.#finish(
            session,
            { phase: 'Failed', reason: created.reason, message: created.failed },
            now,
            ctx,
          );
        }
        known = created.job;
        session = await this.#transition(
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
          },
          ctx,
        );
        continue;
      }

      // Starting or Running: follow the attempt's Job.
      const name = status.jobName ?? jobName(session.metadata!.name!, attempt);
      const job = known?.metadata?.name === name ? known : await this.#getJob(session, name, ctx);
      known = undefined;
      if (job === undefined) {
        return this.#attemptFailed(
          session,
          { reason: 'JobDeleted', message: `Job ${name} was deleted before it finished` },
          now,
          ctx,
        );
      }
      const finished = jobFinished(job);
      const pod =
        finished?.type === 'Complete' && phase === 'Running'
          ? undefined
          : await this.#podView(session, attempt, ctx);
      if (finished?.type === 'Complete') {
        return this.#finish(
          session,
          {
            phase: 'Succeeded',
            reason: 'Completed',
            message: `Job ${name} completed`,
            exitCode: pod?.exitCode ?? 0,
          },
          now,
          ctx,
        );
      }
      if (finished?.type === 'Failed') {
        const exit = pod?.exitCode;
        const why =
          exit !== undefined
            ? `exit code ${exit}${pod?.reason ? ` (${pod.reason})` : ''}`
            : (finished.reason ?? 'failed');
        return this.#attemptFailed(
          session,
          {
            reason: exit !== undefined ? 'ExitCode' : (finished.reason ?? 'JobFailed'),
            message: `Attempt ${attempt} failed: ${why}${pod?.message ? `: ${pod.message}` : ''}`,
            exitCode: exit,
          },
          now,
          ctx,
        );
      }

      if (phase === 'Starting') {
        if (pod?.running) {
          const first = status.runningTime === undefined;
          const runningAt = pod.startedAt ?? now;
          session = await this.#transition(
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
          continue;
        }
        const startTimeout = (spec.startTimeoutSeconds ?? DEFAULTS.startTimeoutSeconds) * 1000;
        const attemptStart = ms(job.metadata?.creationTimestamp) || ms(status.startTime) || now;
        const deadline = attemptStart + startTimeout;
        if (now >= deadline) {
          await this.#deleteJob(session, name, ctx);
          return this.#finish(
            session,
            {
              phase: 'TimedOut',
              reason: 'StartTimeout',
              message: `Attempt ${attempt} did not start running within ${startTimeout / 1000}s`,
            },
            now,
            ctx,
          );
        }
        return { requeueAfterMs: deadline - now };
      }

      // Running.
      if (spec.timeoutSeconds === undefined) return;
      const deadline = (ms(status.runningTime) || now) + spec.timeoutSeconds * 1000;
      if (now >= deadline) {
        await this.#deleteJob(session, name, ctx);
        return this.#finish(
          session,
          {
            phase: 'TimedOut',
            reason: 'RunTimeout',
            message: `Attempt ${attempt} ran longer than ${spec.timeoutSeconds}s`,
          },
          now,
          ctx,
        );
      }
      return { requeueAfterMs: deadline - now };
    }
    // Not reached in practice: each loop iteration above either returns or makes progress.
    return { requeue: true };
  }

  /** A failed attempt: retry after the backoff if the policy allows, else Failed. */
  async #attemptFailed(
    session: Session,
    failure: { reason: string; message: string; exitCode?: number },
    now: number,
    ctx: ReconcileContext,
  ): Promise<Result | void> {
    const attempt = session.status?.attempt ?? 1;
    const retry = effectiveRetry(session.spec ?? {});
    if (mayRetry(retry, attempt, failure.exitCode)) {
      const delayMs = backoffSeconds(retry, attempt) * 1000;
      await this.#transition(
        session,
        {
          phase: 'Pending',
          reason: 'RetryBackoff',
          message: `${failure.message}; retry ${attempt} of ${retry.limit} at ${iso(now + delayMs)}`,
          exitCode: failure.exitCode,
          nextRetryTime: iso(now + delayMs),
        },
        ctx,
      );
      return { requeueAfterMs: Math.max(1, delayMs) };
    }
    return this.#finish(session, { phase: 'Failed', ...failure }, now, ctx);
  }

  /** Moves to a terminal phase; then TTL clean-up applies. */
  async #finish(
    session: Session,
    change: Change,
    now: number,
    ctx: ReconcileContext,
  ): Promise<Result | void> {
    const done = await this.#transition(
      session,
      { ...change, completionTime: iso(now), nextRetryTime: undefined },
      ctx,
    );
    return this.#finished(done, now, ctx);
  }

  /** A terminal Session: make sure a timed-out or cancelled Job is gone, and apply the TTL. */
  async #finished(session: Session, now: number, ctx: ReconcileContext): Promise<Result | void> {
    const ttl = session.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined) return;
    const at = ms(session.status?.completionTime) + ttl * 1000;
    if (Number.isNaN(at)) return;
    if (now < at) return { requeueAfterMs: at - now };
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

  async #createJob(
    session: Session,
    attempt: number,
    ctx: ReconcileContext,
  ): Promise<{ job: Job } | { failed: string; reason: string }> {
    // Steward creates the pod with its own rights: what the Session asks of it is vetted first,
    // before every attempt (the policy may have tightened since the last one).
    const violation = checkTenantPolicy(session, this.#tenantPolicy);
    if (violation !== undefined) {
      this.#metrics?.error(session.metadata!.namespace ?? '', 'Pending', 'policy_violation');
      return { failed: violation.message, reason: 'PolicyViolation' };
    }
    const job = buildJob(session, attempt, {
      runnerImage: this.#runnerImage,
      startTimeoutSeconds: DEFAULTS.startTimeoutSeconds,
      automountServiceAccountToken: this.#tenantPolicy.serviceAccounts.automountToken,
    });
    const started = this.#clock.now();
    try {
      const created = await this.#client.create<Job>(job, { signal: ctx.signal });
      this.#metrics?.jobCreated((this.#clock.now() - started) / 1000);
      return { job: created };
    } catch (err) {
      if (isInvalid(err) || isBadRequest(err)) {
        // The API server refuses the Job this spec makes (something the CRD schema cannot
        // check, e.g. a label value): retrying cannot help, so the Session fails with why.
        this.#metrics?.error(session.metadata!.namespace ?? '', 'Pending', 'job_rejected');
        return {
          failed: `The API server rejected Job ${job.metadata!.name}: ${(err as Error).message}`,
          reason: 'JobRejected',
        };
      }
      if (!isAlreadyExists(err)) throw err;
    }
    // Created by an earlier reconcile (or an earlier process): adopt it if it is ours.
    const existing = await this.#client.get<Job>(JOB_GVK, keyOf(job), { signal: ctx.signal });
    if (!isControlledBy(existing, session)) {
      return {
        failed: `Job ${job.metadata!.name} exists and is not owned by this Session`,
        reason: 'JobNameConflict',
      };
    }
    ctx.logger.info('Adopted the existing Job of this attempt', { job: job.metadata!.name });
    return { job: existing };
  }

  /** The attempt's Job: from the cache, or from the API when the cache has not seen it yet. */
  async #getJob(session: Session, name: string, ctx: ReconcileContext): Promise<Job | undefined> {
    const key = { namespace: session.metadata!.namespace, name };
    for (const reader of [this.#reader, this.#client]) {
      try {
        const job = await reader.get<Job>(JOB_GVK, key, { signal: ctx.signal });
        return isControlledBy(job, session) ? job : undefined;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      if (reader === this.#client) break;
    }
    return undefined;
  }

  async #deleteJob(session: Session, name: string, ctx: ReconcileContext): Promise<void> {
    try {
      await this.#client.delete(
        JOB_GVK,
        { namespace: session.metadata!.namespace, name },
        { propagationPolicy: 'Background', signal: ctx.signal },
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #podView(session: Session, attempt: number, ctx: ReconcileContext): Promise<PodView | undefined> {
    const pods = await this.#reader.list<Pod>(POD_GVK, {
      namespace: session.metadata!.namespace,
      labelSelector: {
        [LABEL_SESSION]: sessionLabelValue(session.metadata!.name!),
        [LABEL_ATTEMPT]: String(attempt),
      },
      signal: ctx.signal,
    });
    const pod = pods.items[0];
    if (pod === undefined) return undefined;
    const cs =
      pod.status?.containerStatuses?.find((c) => c.name === 'session') ?? pod.status?.containerStatuses?.[0];
    const term = cs?.state?.terminated;
    const run = cs?.state?.running;
    return {
      running: run !== undefined || pod.status?.phase === 'Running',
      startedAt: ms(run?.startedAt ?? term?.startedAt) || undefined,
      exitCode: term?.exitCode,
      reason: term?.reason,
      message: term?.message,
    };
  }

  #supersede(before: Session, after: Session): void {
    const uid = after.metadata?.uid;
    const rv = before.metadata?.resourceVersion;
    if (!uid || !rv) return;
    this.#superseded.delete(uid);
    this.#superseded.set(uid, rv);
    if (this.#superseded.size > MAX_SUPERSEDED)
      this.#superseded.delete(this.#superseded.keys().next().value!);
  }

  /** Writes a phase change to the status subresource, records an event and counts it. */
  async #transition(session: Session, change: Change, ctx: ReconcileContext): Promise<Session> {
    const unwritten = (session as Unwritten)[PENDING_UNWRITTEN] === true;
    const from = session.status?.phase;
    const now = this.#clock.now();
    const next: SessionStatus = { ...session.status, ...change };
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(change)) body[k] = v === undefined ? null : v;
    body.observedGeneration = session.metadata?.generation;
    body.conditions = setConditions(
      session.status?.conditions,
      next.phase!,
      change.reason,
      change.message,
      iso(now),
      session.metadata?.generation,
    );
    const updated = await this.#client.patchStatus<Session>(
      SESSION_GVK,
      keyOf(session),
      {
        type: 'merge',
        // The resourceVersion makes the patch conditional on the state we decided from.
        body: { metadata: { resourceVersion: session.metadata!.resourceVersion }, status: body },
      },
      { signal: ctx.signal },
    );
    const namespace = session.metadata!.namespace ?? '';
    const to = change.phase;
    const steps: Array<[Phase | '', Phase]> = unwritten ? [['', 'Pending']] : [];
    if (from !== to) steps.push([from ?? '', to]);
    for (const [a, b] of steps) {
      if (a === '') this.#metrics?.created(namespace);
      this.#metrics?.transition(namespace, a, b, isTerminal(b));
      ctx.logger.info('Session phase changed', {
        from: a,
        to: b,
        reason: b === to ? change.reason : 'Created',
      });
    }
    const warning = to === 'Failed' || to === 'TimedOut' || change.reason === 'RetryBackoff';
    void this.#recorder?.event(updated, warning ? 'Warning' : 'Normal', change.reason, change.message);
    this.#supersede(session, updated);
    return updated;
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
