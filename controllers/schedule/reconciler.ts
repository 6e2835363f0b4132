import {
  type Client,
  type Clock,
  type ConditionInput,
  isControlledBy,
  isAlreadyExists,
  isBadRequest,
  isConflict,
  isForbidden,
  isInvalid,
  isNotFound,
  type KubernetesObject,
  type Reader,
  realClock,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
  rfc3339Time,
  setCondition,
} from '../../lib/index.js';
import { checkTenantPolicy, type Session, SESSION_GVK, type TenantPolicy } from '../session/index.js';
import { type Decision, decide, type DecideInput, withRunStarted, withStartFailed } from './decide.js';
import type { ScheduleMetrics } from './metrics.js';
import {
  buildRun,
  RUN_KINDS,
  type RunKind,
  runKindOf,
  type RunView,
  scheduleLabelValue,
  viewRun,
} from './runs.js';
import {
  CONDITION_FAILED,
  CONDITION_READY,
  LABEL_SCHEDULE,
  type Schedule,
  SCHEDULE_GVK,
  type ScheduleStatus,
} from './types.js';
import { type SpecProblem, validateScheduleSpec } from './validate.js';

/** Where events go; `EventRecorder` fits. */
export interface Recorder {
  /** Records an Event on `obj`. */
  event(obj: KubernetesObject, type: 'Normal' | 'Warning', reason: string, message: string): unknown;
}

/** What a `ScheduleReconciler` reads, writes and reports through. */
export interface ScheduleReconcilerOptions {
  /** Writes, and the read of a run that AlreadyExists. */
  client: Client;
  /** Reads of Schedules and their runs. Default `client`; the Manager passes its cache. */
  reader?: Reader;
  /**
   * Reads of the runs only. Default `reader`. `setupScheduleController` passes a reader over the
   * very informers whose run events trigger reconciles: another informer of the kind (the
   * Workflow controller's, which the cache would answer from) can lag behind the one that
   * delivered the event, and a reconcile that read a finished run as active would never be
   * triggered again for it (a suspended Schedule has no next time to requeue for).
   */
  runReader?: Pick<Reader, 'list'>;
  recorder?: Recorder;
  metrics?: ScheduleMetrics;
  clock?: Clock;
  /**
   * The run kinds whose objects this operator watches (and so can list). A Schedule of another
   * kind gets Ready=False, reason RunKindNotInstalled. Default: Sessions and Workflows.
   */
  runKinds?: readonly RunKind[];
  /** The Session operator's --runner-image, for validating Session templates that name none. */
  runnerImage?: string;
  /**
   * The Session operator's tenant policy (--tenant-policy). A run whose Sessions it refuses is
   * not created (each would end Failed, PolicyViolation): the Schedule gets Ready=False, reason
   * PolicyViolation, and the time is retried as any refused create is. Default: not checked.
   */
  tenantPolicy?: TenantPolicy;
}

/**
 * The tenant policy's verdict on a run's Sessions (a Session run, or each task of a Workflow
 * run), as the Session controller would give it before their first attempt; undefined if none.
 */
function policyViolation(run: KubernetesObject, policy: TenantPolicy): string | undefined {
  const asSession = (spec: unknown): Session => ({ metadata: run.metadata, spec: spec as Session['spec'] });
  if (run.kind === SESSION_GVK.kind) return checkTenantPolicy(asSession(run.spec), policy)?.message;
  const tasks = (run.spec as { tasks?: Array<{ name?: string; session?: unknown }> }).tasks ?? [];
  for (const t of tasks) {
    const v = checkTenantPolicy(asSession(t.session), policy);
    if (v) return `task ${t.name}: ${v.message}`;
  }
  return undefined;
}

/** How much of the API server's refusal the Ready condition and the event quote. */
const MAX_REFUSAL_CHARS = 1_000;

const VALID: ConditionInput = { type: CONDITION_FAILED, status: 'False', reason: 'SpecValid', message: '' };

/**
 * A run that was not created (refused by the API server, or by the tenant policy); `reason` is
 * the Ready condition's. Thrown by the
 * reconcile (after the status records it) so that the work queue retries with backoff.
 */
export class RunCreateError extends Error {
  readonly code = 'ERR_RUN_CREATE';
  constructor(
    readonly reason:
      'RunForbidden' | 'RunRejected' | 'RunNameConflict' | 'RunCreateFailed' | 'PolicyViolation',
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'RunCreateError';
  }
}

/**
 * Starts the runs of a Schedule at its scheduled times, exactly once per time:
 *
 *     observe: the Schedule and the runs it owns (from the cache)
 *     decide:  decide() — which time is due, what to start, skip, cancel, prune (pure)
 *     act:     cancel (Replace), create the run, write the status, then prune
 *
 * A run's name is derived from the Schedule and its scheduled time, so a second create for a
 * time — after a crash between the create and the status write, a leader failover, or a stale
 * cache — gets AlreadyExists and adopts the run instead of starting another. The status patch
 * carries the resourceVersion read, so a decision made from a stale Schedule is discarded by a
 * conflict (and made again from a fresh read) before its missed and skipped times are counted.
 * Pruning comes after the status write, so a pruned run's time is always covered by
 * lastScheduleTime. The reconcile asks to be requeued for exactly the next scheduled time.
 */
export class ScheduleReconciler implements Reconciler {
  readonly #client: Client;
  readonly #reader: Reader;
  readonly #runReader: Pick<Reader, 'list'>;
  readonly #recorder: Recorder | undefined;
  readonly #metrics: ScheduleMetrics | undefined;
  readonly #clock: Clock;
  readonly #kinds: readonly RunKind[];
  readonly #runnerImage: string | undefined;
  readonly #tenantPolicy: TenantPolicy | undefined;

  constructor(opts: ScheduleReconcilerOptions) {
    this.#client = opts.client;
    this.#reader = opts.reader ?? opts.client;
    this.#runReader = opts.runReader ?? this.#reader;
    this.#recorder = opts.recorder;
    this.#metrics = opts.metrics;
    this.#clock = opts.clock ?? realClock;
    this.#kinds = opts.runKinds ?? RUN_KINDS;
    this.#runnerImage = opts.runnerImage;
    this.#tenantPolicy = opts.tenantPolicy;
  }

  async reconcile(req: Request, ctx: ReconcileContext): Promise<Result | void> {
    let schedule: Schedule;
    try {
      schedule = await this.#reader.get<Schedule>(SCHEDULE_GVK, req, { signal: ctx.signal });
    } catch (err) {
      if (isNotFound(err)) return; // Deleted: its runs go with it (owner references).
      throw err;
    }
    if (schedule.metadata?.deletionTimestamp) return;
    this.#metrics?.namespaceSeen(schedule.metadata?.namespace ?? '');
    try {
      return await this.#run(schedule, ctx);
    } catch (err) {
      if (isConflict(err)) {
        // Decided from a stale read: read again and decide again.
        ctx.logger.debug('Conflict writing Schedule status; requeueing');
        return { requeue: true };
      }
      throw err;
    }
  }

  async #run(schedule: Schedule, ctx: ReconcileContext): Promise<Result | void> {
    const checked = validateScheduleSpec(schedule.spec, { runnerImage: this.#runnerImage });
    if ('problem' in checked) return this.#invalid(schedule, checked.problem, ctx);
    const kind = runKindOf(schedule.spec)!;
    if (!this.#kinds.includes(kind)) {
      const message =
        `${kind.gvk.kind} runs need the ${kind.gvk.kind} CRD (${kind.gvk.group}), which was not installed ` +
        'when the operator started: install it and restart the operator';
      await this.#writeStatus(schedule, { nextScheduleTime: undefined }, [
        { type: CONDITION_READY, status: 'False', reason: 'RunKindNotInstalled', message },
        VALID,
      ]);
      return;
    }

    const runs = await this.#listRuns(schedule, ctx);
    const input: DecideInput = { now: this.#clock.now(), schedule, cron: checked.cron, runs };
    let decision = decide(input);
    const namespace = schedule.metadata!.namespace ?? '';

    let failed: RunCreateError | undefined;
    if (decision.start !== undefined) {
      const outcome = await this.#start(schedule, kind, decision.start, decision.cancel, ctx);
      if (outcome instanceof RunCreateError) {
        failed = outcome;
        decision = withStartFailed(input, decision);
      } else {
        decision = withRunStarted(input, decision, viewRun(kind, outcome));
      }
    }

    const ready: ConditionInput = failed
      ? { type: CONDITION_READY, status: 'False', reason: failed.reason, message: failed.message }
      : { type: CONDITION_READY, ...decision.ready };
    await this.#writeStatus(schedule, decision.status, [ready, VALID]);

    // Counted only now that the status holds them: a conflict above means they are decided again.
    if (decision.skipped !== undefined) {
      this.#metrics?.runs(namespace, 'skipped');
      const active = decision.status.active?.map((r) => r.name).join(', ');
      void this.#recorder?.event(
        schedule,
        'Normal',
        'Skipped',
        `Skipped ${rfc3339Time(decision.skipped)}: ${active} still active (concurrencyPolicy Forbid)`,
      );
    }
    if (decision.missed) this.#recordMissed(schedule, decision, ctx);
    for (const r of decision.prune) await this.#prune(schedule, r, ctx);
    // The time is still due: the work queue retries it with its backoff (never a hot loop).
    if (failed) throw failed;
    return decision.requeueAfterMs === undefined ? undefined : { requeueAfterMs: decision.requeueAfterMs };
  }

  /** The runs the Schedule owns, of every kind this operator watches. */
  async #listRuns(schedule: Schedule, ctx: ReconcileContext): Promise<RunView[]> {
    const out: RunView[] = [];
    for (const kind of this.#kinds) {
      const list = await this.#runReader.list(kind.gvk, {
        namespace: schedule.metadata!.namespace,
        labelSelector: { [LABEL_SCHEDULE]: scheduleLabelValue(schedule.metadata!.name!) },
        signal: ctx.signal,
      });
      for (const obj of list.items) {
        if (isControlledBy(obj, schedule)) out.push(viewRun(kind, obj));
      }
    }
    return out;
  }

  /**
   * Creates the run for `scheduledMs`, after cancelling the runs it replaces (concurrencyPolicy
   * Replace); AlreadyExists with our owner is the same run. A refusal
   * comes back as a RunCreateError (with a FailedCreate event): the caller records it in the
   * Ready condition and retries the time.
   */
  async #start(
    schedule: Schedule,
    kind: RunKind,
    scheduledMs: number,
    replace: RunView[],
    ctx: ReconcileContext,
  ): Promise<KubernetesObject | RunCreateError> {
    const run = buildRun(schedule, kind, scheduledMs);
    const name = run.metadata!.name!;
    const namespace = schedule.metadata!.namespace ?? '';
    const what = `${kind.gvk.kind} ${name} for ${rfc3339Time(scheduledMs)}`;
    const refused = (reason: RunCreateError['reason'], why: string, cause?: unknown) => {
      // An admission webhook's answer can be any length; a condition message is at most 32,768.
      const said = why.length > MAX_REFUSAL_CHARS ? `${why.slice(0, MAX_REFUSAL_CHARS)}…` : why;
      const err = new RunCreateError(reason, `Cannot create ${what}: ${said}; retrying with backoff`, cause);
      void this.#recorder?.event(schedule, 'Warning', 'FailedCreate', err.message);
      return err;
    };
    const violation = this.#tenantPolicy && policyViolation(run, this.#tenantPolicy);
    if (violation) return refused('PolicyViolation', violation);
    // concurrencyPolicy Replace: only for a run that may start (the policy passed it).
    for (const r of replace) await this.#cancel(schedule, r, scheduledMs, ctx);
    let created: KubernetesObject;
    try {
      created = await this.#client.create(run, { signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) throw err; // Shutting down: nothing to report.
      const why = err instanceof Error ? err.message : String(err);
      // A quota, RBAC or an admission webhook (403); an admission policy or a template the run's
      // own schema refuses (422, 400): a later attempt may pass (the quota frees up, the policy
      // changes), so the time is retried, not dropped.
      if (isForbidden(err)) return refused('RunForbidden', why, err);
      if (isInvalid(err) || isBadRequest(err)) return refused('RunRejected', why, err);
      if (!isAlreadyExists(err)) return refused('RunCreateFailed', why, err);
      const existing = await this.#client.get(kind.gvk, { namespace, name }, { signal: ctx.signal });
      if (!isControlledBy(existing, schedule)) {
        // Never adopted: it may be anyone's. Retried, so the time runs once it is deleted.
        return refused(
          'RunNameConflict',
          `${kind.gvk.kind} ${name} exists and is not owned by this Schedule (delete or rename it)`,
        );
      }
      ctx.logger.debug('The run of this time exists already', { run: name });
      return existing;
    }
    const delaySeconds = (this.#clock.now() - scheduledMs) / 1000;
    this.#metrics?.runs(namespace, 'started');
    this.#metrics?.startDelay(namespace, delaySeconds);
    ctx.logger.info('Started run', {
      run: name,
      kind: kind.gvk.kind,
      scheduledTime: rfc3339Time(scheduledMs),
      delaySeconds,
    });
    void this.#recorder?.event(
      schedule,
      'Normal',
      'Started',
      `Started ${kind.gvk.kind} ${name} for ${rfc3339Time(scheduledMs)}`,
    );
    return created;
  }

  /** concurrencyPolicy Replace: `spec.cancel: true` on an active run (it then ends Cancelled). */
  async #cancel(schedule: Schedule, run: RunView, forMs: number, ctx: ReconcileContext): Promise<void> {
    const kind = this.#kindOf(run);
    if (kind === undefined) return;
    try {
      // The uid makes the patch a precondition: never cancel a newer object of the same name.
      await this.#client.patch(
        kind.gvk,
        { namespace: run.ref.namespace, name: run.ref.name },
        { type: 'merge', body: { metadata: { uid: run.ref.uid }, spec: { cancel: true } } },
        { signal: ctx.signal },
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    ctx.logger.info('Cancelled active run (concurrencyPolicy Replace)', { run: run.ref.name });
    void this.#recorder?.event(
      schedule,
      'Normal',
      'Replaced',
      `Cancelled active ${run.ref.kind} ${run.ref.name} for the run of ${rfc3339Time(forMs)} (concurrencyPolicy Replace)`,
    );
  }

  #kindOf(run: RunView): RunKind | undefined {
    return this.#kinds.find((k) => k.gvk.kind === run.ref.kind);
  }

  async #prune(schedule: Schedule, run: RunView, ctx: ReconcileContext): Promise<void> {
    const kind = this.#kindOf(run);
    if (kind === undefined) return;
    try {
      await this.#client.delete(
        kind.gvk,
        { namespace: run.ref.namespace, name: run.ref.name },
        { propagationPolicy: 'Background', preconditions: { uid: run.ref.uid }, signal: ctx.signal },
      );
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
    const limit = run.state === 'succeeded' ? 'successfulRunsHistoryLimit' : 'failedRunsHistoryLimit';
    void this.#recorder?.event(
      schedule,
      'Normal',
      'SuccessfulDelete',
      `Deleted finished ${run.ref.kind} ${run.ref.name} (${run.phase ?? run.state}; ${limit})`,
    );
  }

  #recordMissed(schedule: Schedule, decision: Decision, ctx: ReconcileContext): void {
    const m = decision.missed!;
    this.#metrics?.runs(schedule.metadata!.namespace ?? '', 'missed', m.count);
    const count = `${m.exact ? '' : 'about '}${m.count} scheduled time${m.count === 1 ? '' : 's'}`;
    const span =
      m.count === 1 ? rfc3339Time(m.latest) : `from ${rfc3339Time(m.first)} to ${rfc3339Time(m.latest)}`;
    const why = m.pastDeadline
      ? `; the latest is past startingDeadlineSeconds (${schedule.spec!.startingDeadlineSeconds}s), so none runs`
      : decision.start !== undefined || decision.skipped !== undefined
        ? '; only the latest due time is handled'
        : '';
    const message = `Missed ${count} ${span}${why}`;
    ctx.logger.info('Missed scheduled times', {
      count: m.count,
      exact: m.exact,
      first: m.first,
      latest: m.latest,
    });
    void this.#recorder?.event(schedule, 'Warning', 'MissedSchedule', message);
  }

  async #invalid(schedule: Schedule, problem: SpecProblem, ctx: ReconcileContext): Promise<void> {
    const prev = schedule.status?.conditions?.find((c) => c.type === CONDITION_FAILED);
    const changed = await this.#writeStatus(schedule, { nextScheduleTime: undefined }, [
      { type: CONDITION_READY, status: 'False', reason: problem.reason, message: problem.message },
      { type: CONDITION_FAILED, status: 'True', reason: problem.reason, message: problem.message },
    ]);
    if (changed && (prev?.status !== 'True' || prev.message !== problem.message)) {
      ctx.logger.info('Schedule spec is invalid', { reason: problem.reason, message: problem.message });
      void this.#recorder?.event(schedule, 'Warning', problem.reason, problem.message);
    }
  }

  /**
   * Merge-patches the status with `fields` and `conditions`, conditional on the resourceVersion
   * read. Returns false (and writes nothing) when nothing would change.
   */
  async #writeStatus(
    schedule: Schedule,
    fields: Partial<ScheduleStatus>,
    conditions: ConditionInput[],
  ): Promise<boolean> {
    const old = schedule.status ?? {};
    const now = this.#clock.now();
    const generation = schedule.metadata?.generation;
    const next: ScheduleStatus = {
      ...old,
      ...fields,
      observedGeneration: generation,
      conditions: conditions.reduce(
        (cs, c) => setCondition(cs, { ...c, observedGeneration: generation }, now),
        old.conditions ?? [],
      ),
    };
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(next) as Array<[keyof ScheduleStatus, unknown]>) {
      const empty = v === undefined || (Array.isArray(v) && v.length === 0 && k === 'active');
      const was = old[k];
      if (JSON.stringify(empty ? undefined : v) !== JSON.stringify(was)) body[k] = empty ? null : v;
    }
    if (Object.keys(body).length === 0) return false;
    await this.#client.patchStatus(
      SCHEDULE_GVK,
      { namespace: schedule.metadata!.namespace, name: schedule.metadata!.name! },
      {
        type: 'merge',
        body: { metadata: { resourceVersion: schedule.metadata!.resourceVersion }, status: body },
      },
    );
    return true;
  }
}
