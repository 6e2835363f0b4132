import { createHash } from 'node:crypto';
import {
  type Client,
  type Clock,
  isAlreadyExists,
  isBadRequest,
  isConflict,
  isInvalid,
  isNotFound,
  isControlledBy,
  isRequestEntityTooLarge,
  isStatusError,
  monotonicNow,
  type Reader,
  realClock,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
  setControllerReference,
} from '../../lib/index.js';
import {
  ANNOTATION_TASK,
  ANNOTATION_UPSTREAM,
  ANNOTATION_WORKFLOW,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  MAX_EVENT_MESSAGE_LENGTH,
  truncate,
  type Recorder,
  type Session,
  SESSION_GVK,
} from '../session/index.js';
import { boundTaskStatus, boundWorkflowMessage, taskMessageBytes } from './bounds.js';
import { decide, type Decision } from './dag.js';
import type { WorkflowMetrics } from './metrics.js';
import { taskSessionName, workflowLabelValue } from './names.js';
import { summarize, workflowConditions } from './status.js';
import { observeTask, sameTaskStatus, taskPatch } from './task-status.js';
import {
  isTaskTerminal,
  isWorkflowTerminal,
  LABEL_TASK,
  LABEL_WORKFLOW,
  MAX_TASKS,
  MAX_UPSTREAM_BYTES,
  type TaskPhase,
  type TaskStatus,
  type Workflow,
  WORKFLOW_GVK,
  type WorkflowPhase,
  type WorkflowStatus,
} from './types.js';
import { StartedSessions, type WorkflowRef } from './started.js';
import { DNS_LABEL, type InvalidWorkflow, parseWorkflow, type ParsedWorkflow } from './validate.js';

/** What a `WorkflowReconciler` is built with: client, cache reader, clock, recorder, metrics. */
export interface WorkflowReconcilerOptions {
  /** Writes (and reads that must not be stale: a Session missing from the cache). */
  client: Client;
  /** Reads of Workflows and Sessions. Default `client`; the Manager passes its cache. */
  reader?: Reader;
  recorder?: Recorder;
  metrics?: WorkflowMetrics;
  clock?: Clock;
  /** The Session operator's --runner-image, to judge task sessions without an image. */
  runnerImage?: string;
  /**
   * A running Workflow of BATCH_FROM_TASKS tasks or more is reconciled at most every this many ms
   * per task. Default RECONCILE_SPACING_PER_TASK_MS; 0 reconciles on every event.
   */
  reconcileSpacingPerTaskMs?: number;
  /**
   * Status writes of a running Workflow of BATCH_FROM_TASKS tasks or more come at most every
   * this many ms per task (capped at MAX_STATUS_INTERVAL_MS); the first and the terminal write
   * are never held back. Default STATUS_INTERVAL_PER_TASK_MS; 0 writes on every reconcile that
   * changes something.
   */
  statusIntervalPerTaskMs?: number;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ms = (t: string | undefined) => (t ? Date.parse(t) : NaN);

/** How soon to look again when the cache has not caught up with our own write yet. */
const STALE_RETRY_MS = 50;
const MAX_SUPERSEDED = 10_000;
/** Said in the message of a Workflow whose task entries are compact. */
const COMPACT_NOTE =
  '; task details left out of status.tasks (the full status would pass etcd’s size limit): see the tasks’ Sessions';
/**
 * How soon to look again for a Session of an earlier Workflow of the same name to be gone (its
 * deletion also brings us back; this is in case the garbage collector is slow).
 */
const PREVIOUS_SESSION_RETRY_MS = 5_000;
/** Backoff of Session creates the API server refused (a quota, an outage): 1 s doubling to 5 min. */
const CREATE_BACKOFF_MS = 1_000;
const MAX_CREATE_BACKOFF_MS = 300_000;
/**
 * How long a Session we created counts as existing while the cache does not show it yet. Past
 * it, the API is asked instead (a create the cache never shows would be a Session deleted at once).
 */
const EXPECTATION_MS = 30_000;
/**
 * Session creates in flight at once when many tasks start together (a layer of a wide DAG): one
 * after another they would take a round trip each, so a hundred ready tasks would start over
 * seconds. The client's rate limit (--kube-api-qps) still applies.
 */
const START_CONCURRENCY = 16;
/**
 * Every status write of a Workflow costs the API server work in proportion to the whole object
 * (decoding, validation, managed fields, etcd, every watcher), about a millisecond per task on a
 * small machine: a 1,000-task Workflow writing on every Session event would spend the API
 * server's time on itself and slow its own tasks. So the status of a running Workflow of
 * BATCH_FROM_TASKS tasks or more is written at most every 5 ms per task (a 100-task Workflow
 * every 0.5 s, a 1,000-task one every 5 s); smaller ones write on every reconcile that changes
 * something. Tasks start at once either way; the first and the terminal write are never held.
 */
export const STATUS_INTERVAL_PER_TASK_MS = 5;
export const MAX_STATUS_INTERVAL_MS = 5_000;
export const BATCH_FROM_TASKS = 100;
/**
 * And at least this many times as long as the last write took, so that a Workflow spends at
 * most about a fifth of its reconciles' time writing its status (up to 30 s between writes).
 */
const WRITE_TIME_FACTOR = 4;
const MAX_ADAPTIVE_INTERVAL_MS = 30_000;
/**
 * A reconcile looks at every task, so a Workflow of BATCH_FROM_TASKS tasks or more is reconciled
 * at most every this many ms per task (50 ms at 1,000 tasks, about ten times what such a
 * reconcile costs): the Session events that come meanwhile are handled together by the next one,
 * instead of one O(tasks) reconcile each (a 1,000-task Workflow had 1,400 of them). A task that
 * can start waits at most that long.
 */
export const RECONCILE_SPACING_PER_TASK_MS = 0.05;

/**
 * Runs a Workflow's tasks as Sessions, in dependency order.
 *
 * Each reconcile observes (the Workflow and its Sessions, from the cache), decides (the pure
 * `decide` of dag.ts: what starts, what is skipped or cancelled, the Workflow's phase), acts
 * (creates the Sessions of the tasks that start, cancels Sessions on spec.cancel) and writes the
 * status once: a merge patch of what changed, conditional on the resourceVersion read. Work is
 * linear in tasks + edges.
 *
 * Never two Sessions for one task: a task's Session has a deterministic name, so a create
 * repeated after a crash, a failover or a stale cache finds the Session made before
 * (AlreadyExists is adoption when the Workflow owns it). Sessions just created but not yet in
 * the cache count as started (expectations), so parallelism holds across reconciles. Terminal
 * task phases, once written, never change, even if a Session disappears afterwards.
 */
export class WorkflowReconciler implements Reconciler {
  readonly #client: Client;
  readonly #reader: Reader;
  readonly #recorder: Recorder | undefined;
  readonly #metrics: WorkflowMetrics | undefined;
  readonly #clock: Clock;
  readonly #runnerImage: string | undefined;
  // Workflow uid → the resourceVersion our last status write replaced, until the cache shows a
  // newer one. Bounded: entries of Workflows deleted meanwhile are dropped with the oldest.
  readonly #superseded = new Map<string, string>();
  readonly #started: StartedSessions;
  // Workflow (namespace/name) → when (monotonic ms) we last wrote its status, and how long that
  // write took, for batching.
  readonly #lastWrite = new Map<string, { at: number; tookMs: number }>();
  readonly #statusIntervalPerTaskMs: number;
  readonly #reconcileSpacingPerTaskMs: number;
  // Workflow (namespace/name) → when (monotonic ms) its last full reconcile ended, for spacing.
  readonly #lastReconcile = new Map<string, number>();
  // Uids of the Workflows whose full status etcd refused as too large: their task entries are
  // written compact (phase and Session) from then on.
  readonly #compact = new Set<string>();
  // Workflow uid → reconciles in a row whose Session creates the API server refused (backoff).
  readonly #createFailures = new Map<string, number>();
  // Workflow (namespace/name) → its parsed spec, for the uid and generation it was parsed from.
  readonly #parsedByKey = new Map<
    string,
    {
      uid: string;
      generation: number | undefined;
      parsed: ParsedWorkflow | InvalidWorkflow;
      digest: string;
    }
  >();

  constructor(opts: WorkflowReconcilerOptions) {
    this.#client = opts.client;
    this.#reader = opts.reader ?? opts.client;
    this.#recorder = opts.recorder;
    this.#metrics = opts.metrics;
    this.#clock = opts.clock ?? realClock;
    this.#runnerImage = opts.runnerImage;
    this.#started = new StartedSessions(this.#clock, EXPECTATION_MS);
    this.#statusIntervalPerTaskMs = opts.statusIntervalPerTaskMs ?? STATUS_INTERVAL_PER_TASK_MS;
    this.#reconcileSpacingPerTaskMs = opts.reconcileSpacingPerTaskMs ?? RECONCILE_SPACING_PER_TASK_MS;
  }

  async reconcile(req: Request, ctx: ReconcileContext): Promise<Result | void> {
    const key = `${req.namespace ?? ''}/${req.name}`;
    let wf: Workflow;
    try {
      wf = await this.#reader.get<Workflow>(WORKFLOW_GVK, req, { signal: ctx.signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // Deleted: its Sessions (and their Jobs) go with it through their owner references.
      this.#metrics?.forget(key);
      this.#started.forget(key);
      this.#lastWrite.delete(key);
      this.#lastReconcile.delete(key);
      this.#parsedByKey.delete(key);
      return;
    }
    const uid = wf.metadata?.uid ?? '';
    const stale = this.#superseded.get(uid);
    if (stale !== undefined) {
      // The cache still holds the version our last status write replaced: acting on it would
      // repeat that work (creates that find their Sessions, a patch that conflicts).
      if (stale === wf.metadata?.resourceVersion) return { requeueAfterMs: STALE_RETRY_MS };
      this.#superseded.delete(uid);
    }
    const wait = this.#spacing(wf, key);
    if (wait > 0) return { requeueAfterMs: wait };
    try {
      return await this.#run(wf, key, ctx);
    } catch (err) {
      if (isConflict(err)) {
        ctx.logger.debug('Conflict writing Workflow status; requeueing');
        this.#metrics?.error(req.namespace ?? '', 'conflict');
        return { requeue: true };
      }
      this.#metrics?.error(req.namespace ?? '', errorType(err));
      throw err;
    } finally {
      this.#lastReconcile.set(key, monotonicNow(this.#clock));
    }
  }

  /** How long a big running Workflow waits before its next reconcile (0: go ahead). */
  #spacing(wf: Workflow, key: string): number {
    const n = Array.isArray(wf.spec?.tasks) ? wf.spec.tasks.length : 0;
    const last = this.#lastReconcile.get(key);
    if (n < BATCH_FROM_TASKS || last === undefined || isWorkflowTerminal(wf.status?.phase)) return 0;
    if (wf.metadata?.deletionTimestamp || wf.spec?.cancel === true) return 0;
    return Math.max(0, last + n * this.#reconcileSpacingPerTaskMs - monotonicNow(this.#clock));
  }

  async #run(wf: Workflow, key: string, ctx: ReconcileContext): Promise<Result | void> {
    if (wf.metadata?.deletionTimestamp) return;
    const status = wf.status ?? {};
    const now = this.#clock.now();
    if (isWorkflowTerminal(status.phase)) {
      this.#forget(wf, key);
      return this.#ttl(wf, now, ctx);
    }
    const { parsed, digest } = this.#parse(wf, key);
    if (status.tasksDigest !== undefined && status.tasksDigest !== digest) {
      return this.#tasksChanged(wf, key, now, ctx);
    }
    if (status.tasksDigest === undefined) {
      // No status write has recorded the graph yet, but an earlier reconcile may have started
      // tasks before its write was lost (an edit made it conflict, the process died): their
      // Sessions must still agree with the spec.
      const started = await this.#startedUnder(wf, ctx);
      if (started !== undefined) return this.#tasksChanged(wf, key, now, ctx, started);
    }
    if ('problem' in parsed) {
      const { names, tasks } = invalidTasks(wf.spec, parsed, iso(now));
      const done = await this.#write(
        wf,
        { phase: 'Failed', reason: 'InvalidSpec', message: parsed.problem },
        names,
        tasks,
        now,
        ctx,
      );
      return this.#finished(done.wf, key, now, ctx);
    }

    const { tasks, sessions } = await this.#observe(wf, parsed, now, ctx);
    const cancel = parsed.spec.cancel === true;
    let decision: Decision;
    // Tasks whose Session the API server would not create this time (a quota, an outage):
    // they stay Pending, and are tried again after a backoff once the status is written.
    const refused = new Set<number>();
    const held: Held = { errors: [], previous: false };
    // Starting a task can also fail it at once (an upstream too large, a name taken) or find
    // it finished (a Session adopted); decide again so that the outcome propagates in this
    // same reconcile. Each further round follows a task that became terminal, so this ends.
    for (;;) {
      decision = decide({
        graph: parsed.graph,
        phases: tasks.map((t) => t.phase),
        onFailure: parsed.onFailure,
        parallelism: parsed.spec.parallelism,
        cancel,
      });
      const starting = decision.start.filter((i) => !refused.has(i));
      const started = await mapLimit(starting, START_CONCURRENCY, (i) =>
        this.#start(wf, parsed, i, sessions, now, ctx, held),
      );
      for (const [k, i] of starting.entries()) {
        tasks[i] = started[k]!;
        if (tasks[i].phase === 'Pending') refused.add(i);
      }
      if (started.every((t) => t.phase === 'Running' || t.phase === 'Pending')) break;
    }
    for (const i of refused) decision.phases[i] = 'Pending';
    const names = parsed.graph.names;
    for (const s of decision.skip) {
      const cause = names[s.cause]!;
      const causePhase = tasks[s.cause]!.phase === 'Cancelled' ? 'was cancelled' : 'failed';
      tasks[s.task] = {
        phase: 'Skipped',
        reason: s.reason,
        message:
          s.reason === 'UpstreamFailed'
            ? `Not started: upstream task ${cause} ${causePhase}`
            : `Not started: task ${cause} ${causePhase} and onFailure is Stop`,
        completionTime: iso(now),
      };
    }
    for (const i of decision.cancel) {
      tasks[i] = {
        phase: 'Cancelled',
        reason: 'Cancelled',
        message: 'Cancelled with the Workflow before it started',
        completionTime: iso(now),
      };
    }
    for (const i of decision.cancelRunning) {
      await this.#cancelSession(wf, taskSessionName(wf.metadata!.name!, names[i]!), sessions, ctx);
    }
    for (const [i, t] of tasks.entries()) tasks[i] = boundTaskStatus(t, parsed.messageBytes);
    const summary = summarize(parsed.graph, decision, tasks, { cancel, onFailure: parsed.onFailure });
    const done = await this.#write(wf, summary, names, tasks, now, ctx, digest);
    if (isWorkflowTerminal(summary.phase)) return this.#finished(done.wf, key, now, ctx);
    this.#metrics?.tasks(
      key,
      wf.metadata!.namespace ?? '',
      tasks.map((t) => t.phase),
    );
    let again = Math.min(done.deferMs ?? Infinity, held.previous ? PREVIOUS_SESSION_RETRY_MS : Infinity);
    if (held.errors.length > 0) again = Math.min(again, this.#createRefused(wf, held.errors[0], ctx));
    else this.#createFailures.delete(wf.metadata?.uid ?? '');
    if (again !== Infinity) return { requeueAfterMs: Math.max(1, again) };
  }

  /**
   * How long to wait before creating the refused Sessions again: 1 s, doubling per reconcile
   * that is refused again, up to 5 minutes. Kept here rather than thrown to the controller's
   * rate limiter, which any requeue (a stale cache's) resets: a lasting refusal would loop.
   */
  #createRefused(wf: Workflow, err: unknown, ctx: ReconcileContext): number {
    const uid = wf.metadata?.uid ?? '';
    const failures = (this.#createFailures.get(uid) ?? 0) + 1;
    this.#createFailures.delete(uid);
    this.#createFailures.set(uid, failures);
    if (this.#createFailures.size > MAX_SUPERSEDED)
      this.#createFailures.delete(this.#createFailures.keys().next().value!);
    const delay = Math.min(MAX_CREATE_BACKOFF_MS, CREATE_BACKOFF_MS * 2 ** Math.min(30, failures - 1));
    this.#metrics?.error(wf.metadata?.namespace ?? '', errorType(err));
    ctx.logger.warn('The API server did not create a task Session; trying again later', {
      error: (err as Error).message,
      retryInMs: delay,
    });
    return delay;
  }

  /**
   * Each task's status now: terminal ones as recorded, the others from their Sessions. A task
   * recorded as started whose Session neither the cache nor the API has was deleted under us.
   */
  async #observe(
    wf: Workflow,
    parsed: ParsedWorkflow,
    now: number,
    ctx: ReconcileContext,
  ): Promise<{ tasks: TaskStatus[]; sessions: Map<string, Session> }> {
    const sessions = await this.#sessions(wf, ctx);
    const recorded = wf.status?.tasks ?? {};
    const ref = refOf(wf);
    const out: TaskStatus[] = [];
    for (const name of parsed.graph.names) {
      const was = recorded[name];
      const sessionName = taskSessionName(wf.metadata!.name!, name);
      let session = sessions.get(sessionName);
      if (was?.session !== undefined) this.#started.recorded(ref, sessionName);
      else if (session !== undefined) this.#started.seen(ref, sessionName);
      if (session === undefined && !(was !== undefined && isTaskTerminal(was.phase))) {
        const known = this.#started.state(ref, sessionName);
        if (known === 'created') {
          // Created by us moments ago; the cache has not caught up.
          out.push({ ...was, phase: 'Running', session: sessionName, startTime: was?.startTime ?? iso(now) });
          continue;
        }
        if (known === 'seen' || was?.session !== undefined) {
          session = await this.#getSession(wf, sessionName, ctx);
          if (session !== undefined) sessions.set(sessionName, session);
          else {
            this.#started.recorded(ref, sessionName);
            out.push({
              ...was,
              phase: 'Failed',
              session: sessionName,
              reason: 'SessionDeleted',
              message: `Session ${sessionName} was deleted before it finished`,
              completionTime: iso(now),
            });
            continue;
          }
        }
      }
      out.push(observeTask(was, session));
    }
    return { tasks: out, sessions };
  }

  /** The Workflow's Sessions in the cache, by name (only those it controls). */
  async #sessions(wf: Workflow, ctx: ReconcileContext): Promise<Map<string, Session>> {
    const list = await this.#reader.list<Session>(SESSION_GVK, {
      namespace: wf.metadata!.namespace,
      labelSelector: { [LABEL_WORKFLOW]: workflowLabelValue(wf.metadata!.name!) },
      signal: ctx.signal,
    });
    const out = new Map<string, Session>();
    for (const s of list.items) if (isControlledBy(s, wf)) out.set(s.metadata!.name!, s);
    return out;
  }

  /**
   * A Session from the API, when the cache may not have it yet; undefined if gone or (unless
   * `anyOwner`) not ours.
   */
  async #getSession(
    wf: Workflow,
    name: string,
    ctx: ReconcileContext,
    opts: { anyOwner?: boolean } = {},
  ): Promise<Session | undefined> {
    try {
      const s = await this.#client.get<Session>(
        SESSION_GVK,
        { namespace: wf.metadata!.namespace, name },
        { signal: ctx.signal },
      );
      return opts.anyOwner || isControlledBy(s, wf) ? s : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Creates task `i`'s Session with its dependencies' results in STEWARD_UPSTREAM, or adopts the
   * one an earlier reconcile created. Returns the task's status: Running, Failed when the
   * Session cannot be made (refused as invalid, its name taken by another owner), or Pending:
   * reason SessionNotCreated when the create failed otherwise (a quota, an outage; the error
   * goes to `held.errors`, for a backoff once the status is written), reason
   * PreviousSessionExists while an earlier Workflow of this name still has the Session.
   */
  async #start(
    wf: Workflow,
    parsed: ParsedWorkflow,
    i: number,
    sessions: Map<string, Session>,
    now: number,
    ctx: ReconcileContext,
    held: Held,
  ): Promise<TaskStatus> {
    const { graph, spec } = parsed;
    const wfName = wf.metadata!.name!;
    const task = spec.tasks[i]!;
    const name = taskSessionName(wfName, task.name);
    const failed = (reason: string, message: string): TaskStatus => ({
      phase: 'Failed',
      reason,
      message,
      startTime: iso(now),
      completionTime: iso(now),
    });
    const upstream: Record<string, string | null> = {};
    for (const d of graph.deps[i]!) {
      const dep = graph.names[d]!;
      const depSession = taskSessionName(wfName, dep);
      const s = sessions.get(depSession) ?? (await this.#getSession(wf, depSession, ctx));
      // A dependency's Session deleted since it succeeded has no result to hand on: null.
      upstream[dep] = s === undefined ? null : (s.status?.result ?? '');
    }
    const upstreamJson = JSON.stringify(upstream);
    const bytes = Buffer.byteLength(upstreamJson);
    if (bytes > MAX_UPSTREAM_BYTES) {
      return failed(
        'UpstreamTooLarge',
        `The results of its dependencies come to ${bytes} bytes of JSON; STEWARD_UPSTREAM holds at most ${MAX_UPSTREAM_BYTES}`,
      );
    }
    const session: Session = {
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: {
        name,
        namespace: wf.metadata!.namespace,
        labels: {
          [LABEL_MANAGED_BY]: MANAGED_BY,
          [LABEL_WORKFLOW]: workflowLabelValue(wfName),
          [LABEL_TASK]: task.name,
        },
        annotations: {
          [ANNOTATION_WORKFLOW]: wfName,
          [ANNOTATION_TASK]: task.name,
          [ANNOTATION_UPSTREAM]: upstreamJson,
        },
      },
      spec: { ...task.session },
    };
    // Owned by the Workflow (blockOwnerDeletion): deleting it deletes its Sessions and their Jobs.
    setControllerReference({ apiVersion: 'steward.dev/v1alpha1', kind: 'Workflow', ...wf }, session);
    try {
      // Only its metadata back: the cache brings the Session; the server need not encode it whole.
      await this.#client.create<Session>(session, { signal: ctx.signal, metadataOnlyResponse: true });
      this.#started.add(refOf(wf), name);
      return { phase: 'Running', session: name, startTime: iso(now) };
    } catch (err) {
      if (isInvalid(err) || isBadRequest(err)) {
        return failed(
          'SessionRejected',
          `The API server rejected Session ${name}: ${(err as Error).message}`,
        );
      }
      if (!isAlreadyExists(err)) {
        if (ctx.signal.aborted) throw err;
        held.errors.push(err);
        return {
          phase: 'Pending',
          reason: 'SessionNotCreated',
          message: `Session ${name} could not be created yet (retrying): ${(err as Error).message}`,
        };
      }
    }
    // Made by an earlier reconcile or process whose status write we never saw: adopt it if ours.
    const existing = await this.#getSession(wf, name, ctx, { anyOwner: true });
    if (existing !== undefined && isControlledBy(existing, wf)) {
      ctx.logger.info('Adopted the existing Session of this task', { task: task.name, session: name });
      return observeTask(undefined, existing);
    }
    if (existing === undefined || isPrevious(existing, wf)) {
      // A Workflow of this name deleted moments ago (delete, then submit again): the garbage
      // collector deletes its Sessions soon, and their deletion brings us back.
      held.previous = true;
      return {
        phase: 'Pending',
        reason: 'PreviousSessionExists',
        message: `Waiting for Session ${name} of an earlier Workflow named ${wfName} to be deleted`,
      };
    }
    return failed('SessionNameConflict', `Session ${name} exists and is not owned by this Workflow`);
  }

  /** Sets spec.cancel on a running task's Session (once: a Session that has it is left alone). */
  async #cancelSession(
    wf: Workflow,
    name: string,
    sessions: ReadonlyMap<string, Session>,
    ctx: ReconcileContext,
  ): Promise<void> {
    if (sessions.get(name)?.spec?.cancel === true) return;
    try {
      await this.#client.patch(
        SESSION_GVK,
        { namespace: wf.metadata!.namespace, name },
        { type: 'merge', body: { spec: { cancel: true } } },
        { signal: ctx.signal },
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * Writes the new status in one merge patch, conditional on the resourceVersion read: the
   * Workflow's fields that changed and the entries of the tasks that changed. Then records an
   * event per transition and counts them. Returns the Workflow as written (or as read, if
   * nothing changed).
   */
  async #write(
    wf: Workflow,
    summary: { phase: Exclude<WorkflowPhase, 'Pending'>; reason: string; message: string },
    names: readonly string[],
    tasks: readonly TaskStatus[],
    now: number,
    ctx: ReconcileContext,
    digest?: string,
  ): Promise<{ wf: Workflow; deferMs?: number }> {
    const key = refOf(wf).key;
    const uid = wf.metadata?.uid ?? '';
    const before = wf.status ?? {};
    const terminal = isWorkflowTerminal(summary.phase);
    // The status patch: the Workflow's fields that changed and the entries of the tasks that
    // changed; `compact` keeps only each task's phase and Session (see below).
    const build = (compact: boolean) => {
      const message = boundWorkflowMessage(compact ? `${summary.message}${COMPACT_NOTE}` : summary.message);
      const bounded = { ...summary, message };
      const next: WorkflowStatus = {
        phase: summary.phase,
        reason: summary.reason,
        message,
        startTime: before.startTime ?? iso(now),
        completionTime: terminal ? iso(now) : undefined,
        progress: `${tasks.filter((t) => isTaskTerminal(t.phase)).length}/${names.length}`,
        tasksDigest: before.tasksDigest ?? digest,
        observedGeneration: wf.metadata?.generation,
      };
      const conditions = workflowConditions(before.conditions, bounded, iso(now), wf.metadata?.generation);
      const body: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(next) as Array<[keyof WorkflowStatus, unknown]>) {
        if (before[k] !== v) body[k] = v === undefined ? null : v;
      }
      if (conditions !== before.conditions) body.conditions = conditions;
      const taskBody: Record<string, unknown> = {};
      const changed: number[] = [];
      for (const [i, name] of names.entries()) {
        const was = before.tasks?.[name];
        const entry = compact ? compactTask(tasks[i]!) : tasks[i]!;
        if (!sameTaskStatus(was, entry)) {
          taskBody[name] = taskPatch(was, entry);
          changed.push(i);
        }
      }
      if (changed.length > 0) body.tasks = taskBody;
      return { body, changed, message };
    };
    let compact = this.#compact.has(uid);
    let { body, changed, message } = build(compact);
    if (Object.keys(body).length === 0) return { wf };
    const last = this.#lastWrite.get(key);
    const interval =
      names.length < BATCH_FROM_TASKS
        ? 0
        : Math.max(
            Math.min(MAX_STATUS_INTERVAL_MS, this.#statusIntervalPerTaskMs * names.length),
            // The reconcile waits for its write, and new tasks with it: on a loaded API server,
            // where a write takes long, write less often.
            Math.min(MAX_ADAPTIVE_INTERVAL_MS, WRITE_TIME_FACTOR * (last?.tookMs ?? 0)),
          );
    const since = last === undefined ? Infinity : monotonicNow(this.#clock) - last.at;
    if (!terminal && before.phase !== undefined && since < interval) {
      // Written moments ago: this change goes with the next write (which the requeue ensures).
      return { wf, deferMs: interval - since };
    }
    const writeStart = monotonicNow(this.#clock);
    const patch = (status: Record<string, unknown>) =>
      this.#client.patchStatus<Workflow>(
        WORKFLOW_GVK,
        { namespace: wf.metadata!.namespace, name: wf.metadata!.name! },
        // The resourceVersion makes the patch conditional on the state we decided from.
        { type: 'merge', body: { metadata: { resourceVersion: wf.metadata!.resourceVersion }, status } },
        { signal: ctx.signal },
      );
    let updated: Workflow;
    try {
      updated = await patch(body);
    } catch (err) {
      // The bounds leave every task room, but a spec near etcd's limit can leave too little:
      // then the task entries keep their phase and Session only (the Sessions keep the rest),
      // so that this Workflow still reaches its terminal phase.
      if (compact || !isRequestEntityTooLarge(err)) throw err;
      ctx.logger.info('Workflow status too large for etcd; writing task phases only');
      compact = true;
      this.#compact.add(uid);
      if (this.#compact.size > MAX_SUPERSEDED) this.#compact.delete(this.#compact.values().next().value!);
      ({ body, changed, message } = build(compact));
      updated = await patch(body);
    }
    summary = { ...summary, message };
    this.#supersede(wf, updated);
    const writeEnd = monotonicNow(this.#clock);
    this.#lastWrite.set(key, { at: writeEnd, tookMs: writeEnd - writeStart });

    const namespace = wf.metadata!.namespace ?? '';
    for (const i of changed) {
      const was = before.tasks?.[names[i]!]?.phase ?? 'Pending';
      const t = tasks[i]!;
      if (t.phase === was) continue;
      if (isTaskTerminal(t.phase)) this.#metrics?.taskCompleted(namespace, t.phase);
      // An invalid spec ends every task at once: its one InvalidSpec event says it all.
      if (summary.reason !== 'InvalidSpec') this.#taskEvent(updated, names[i]!, t);
    }
    if (before.phase !== summary.phase) {
      if (before.phase === undefined) this.#metrics?.created(namespace);
      if (terminal) {
        const created = ms(wf.metadata?.creationTimestamp);
        this.#metrics?.completed(
          namespace,
          summary.phase,
          Number.isNaN(created) ? 0 : (now - created) / 1000,
        );
      }
      ctx.logger.info('Workflow phase changed', {
        from: before.phase ?? '',
        to: summary.phase,
        reason: summary.reason,
      });
      const warning = summary.phase === 'Failed';
      void this.#recorder?.event(
        updated,
        warning ? 'Warning' : 'Normal',
        summary.reason,
        truncate(summary.message, MAX_EVENT_MESSAGE_LENGTH),
      );
    }
    return { wf: updated };
  }

  #taskEvent(wf: Workflow, task: string, t: TaskStatus): void {
    const events: Partial<Record<TaskPhase, [string, string, 'Normal' | 'Warning']>> = {
      Running: ['TaskStarted', `Task ${task} started as Session ${t.session}`, 'Normal'],
      Succeeded: ['TaskSucceeded', `Task ${task} succeeded`, 'Normal'],
      Failed: ['TaskFailed', `Task ${task} failed (${t.reason}): ${t.message}`, 'Warning'],
      Skipped: ['TaskSkipped', `Task ${task} skipped: ${t.message}`, 'Normal'],
      Cancelled: ['TaskCancelled', `Task ${task} cancelled`, 'Normal'],
    };
    const e = events[t.phase];
    if (e !== undefined) void this.#recorder?.event(wf, e[2], e[0], truncate(e[1], MAX_EVENT_MESSAGE_LENGTH));
  }

  /** A Workflow that just became terminal: drop what we kept for it, then apply the TTL. */
  async #finished(wf: Workflow, key: string, now: number, ctx: ReconcileContext): Promise<Result | void> {
    this.#forget(wf, key);
    return this.#ttl(wf, now, ctx);
  }

  /**
   * The Workflow's spec checked, its graph built and its digest taken, once per generation: the
   * tasks cannot change (a ValidatingAdmissionPolicy; without it, #tasksChanged), so a reconcile
   * of a 1,000-task Workflow does not validate 1,000 task sessions and rebuild the graph on every
   * Session event.
   */
  #parse(wf: Workflow, key: string): { parsed: ParsedWorkflow | InvalidWorkflow; digest: string } {
    const uid = wf.metadata?.uid ?? '';
    const generation = wf.metadata?.generation;
    const hit = this.#parsedByKey.get(key);
    if (hit !== undefined && hit.uid === uid && hit.generation === generation) return hit;
    const entry = {
      uid,
      generation,
      parsed: parseWorkflow(wf.spec, this.#runnerImage),
      digest: tasksDigest(wf.spec?.tasks),
    };
    this.#parsedByKey.set(key, entry);
    return entry;
  }

  /**
   * The task graph (names, dependencies) differs from the one the Workflow started with: the
   * tasks-immutable policy is not installed. Its status describes a DAG that no longer exists,
   * so it ends Failed (InvalidSpec): tasks already ended keep their outcome, running ones are
   * cancelled, the others are skipped; tasks the edit added never start.
   */
  async #tasksChanged(
    wf: Workflow,
    key: string,
    now: number,
    ctx: ReconcileContext,
    recorded: Record<string, TaskStatus> = wf.status?.tasks ?? {},
  ): Promise<Result | void> {
    const names = Object.keys(recorded);
    const message =
      'spec.tasks changed after the Workflow started; tasks are immutable (the ValidatingAdmissionPolicy ' +
      'workflows.steward.dev-tasks-immutable in manifests/crd refuses such edits: is it installed?)';
    ctx.logger.warn('Workflow tasks changed after it started; failing it', { tasks: names.length });
    // What each recorded task's Session says now: one that ended keeps its outcome.
    const sessions = await this.#sessions(wf, ctx);
    const observed = names.map((n) => {
      const t = recorded[n]!;
      const session = t.session === undefined ? undefined : sessions.get(t.session);
      return session === undefined ? t : observeTask(t, session);
    });
    const running = observed.filter((t) => !isTaskTerminal(t.phase) && t.session !== undefined);
    await mapLimit(running, START_CONCURRENCY, (t) => this.#cancelSession(wf, t.session!, sessions, ctx));
    const tasks = observed.map((t): TaskStatus => {
      if (isTaskTerminal(t.phase)) return t;
      const why = { reason: 'InvalidSpec', completionTime: iso(now) };
      return t.session === undefined
        ? { phase: 'Skipped', message: 'Not started: the Workflow’s tasks changed after it started', ...why }
        : {
            ...t,
            phase: 'Cancelled',
            message: 'Cancelled: the Workflow’s tasks changed after it started',
            ...why,
          };
    });
    const done = await this.#write(
      wf,
      { phase: 'Failed', reason: 'InvalidSpec', message },
      names,
      tasks,
      now,
      ctx,
    );
    return this.#finished(done.wf, key, now, ctx);
  }

  /**
   * Before the first status write: undefined if the Workflow's Sessions agree with its spec (each
   * for a task it names, started with that task's dependencies' results); otherwise the task
   * entries to end it with, the spec's tasks and those of the Sessions that no longer fit, each
   * Session's task as Running, so that the Sessions are cancelled and the status says what ran.
   */
  async #startedUnder(wf: Workflow, ctx: ReconcileContext): Promise<Record<string, TaskStatus> | undefined> {
    const sessions = await this.#sessions(wf, ctx);
    // Those this process created moments ago may not be in the cache yet.
    const missing = this.#started.names(refOf(wf)).filter((n) => !sessions.has(n));
    await mapLimit(missing, START_CONCURRENCY, async (n) => {
      const s = await this.#getSession(wf, n, ctx);
      if (s !== undefined) sessions.set(n, s);
    });
    if (sessions.size === 0) return undefined;
    const deps = new Map(taskGraph(wf.spec?.tasks).map(([name, d]) => [name, new Set(d)]));
    const started = new Map<string, string>();
    let agree = true;
    for (const [name, s] of sessions) {
      const task = s.metadata?.annotations?.[ANNOTATION_TASK] ?? s.metadata?.labels?.[LABEL_TASK];
      if (task === undefined) continue;
      started.set(task, name);
      const want = deps.get(task);
      const had = upstreamNames(s.metadata?.annotations?.[ANNOTATION_UPSTREAM]);
      if (want === undefined || (had !== undefined && !sameSet(had, want))) agree = false;
    }
    if (agree) return undefined;
    const out: Record<string, TaskStatus> = {};
    for (const name of deps.keys()) out[name] = { phase: 'Pending' };
    for (const [task, session] of started) out[task] = { phase: 'Running', session };
    return out;
  }

  #forget(wf: Workflow, key: string): void {
    this.#compact.delete(wf.metadata?.uid ?? '');
    this.#createFailures.delete(wf.metadata?.uid ?? '');
    this.#parsedByKey.delete(key);
    this.#metrics?.forget(key);
    this.#started.forget(key);
    this.#lastWrite.delete(key);
    this.#lastReconcile.delete(key);
  }

  /** Deletes a finished Workflow (its Sessions and Jobs with it) ttlSecondsAfterFinished after it ended. */
  async #ttl(wf: Workflow, now: number, ctx: ReconcileContext): Promise<Result | void> {
    const ttl = wf.spec?.ttlSecondsAfterFinished;
    if (typeof ttl !== 'number') return;
    const at = ms(wf.status?.completionTime) + ttl * 1000;
    if (Number.isNaN(at)) return;
    if (now < at) return { requeueAfterMs: at - now };
    try {
      await this.#client.delete(
        WORKFLOW_GVK,
        { namespace: wf.metadata!.namespace, name: wf.metadata!.name! },
        { propagationPolicy: 'Background', preconditions: { uid: wf.metadata!.uid }, signal: ctx.signal },
      );
      ctx.logger.info('Deleted finished Workflow after its TTL', { ttlSecondsAfterFinished: ttl });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  #supersede(before: Workflow, after: Workflow): void {
    const uid = after.metadata?.uid;
    const rv = before.metadata?.resourceVersion;
    if (!uid || !rv) return;
    this.#superseded.delete(uid);
    this.#superseded.set(uid, rv);
    if (this.#superseded.size > MAX_SUPERSEDED)
      this.#superseded.delete(this.#superseded.keys().next().value!);
  }
}

/** `fn` over `items` with at most `limit` calls pending, results in order; rejects on the first error. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** What a reconcile holds back besides its status: create errors to throw, Sessions to wait for. */
interface Held {
  /** Errors of Session creates to try again after a backoff (a quota, an outage). */
  errors: unknown[];
  /** A task waits for the Session of an earlier Workflow of the same name to go. */
  previous: boolean;
}

/**
 * Whether `s` belongs to an earlier Workflow of `wf`'s name, now deleted (its controller has
 * the name and another uid; two Workflows of one name cannot exist at once), or is being
 * deleted: either way it goes soon.
 */
function isPrevious(s: Session, wf: Workflow): boolean {
  if (s.metadata?.deletionTimestamp) return true;
  const owner = s.metadata?.ownerReferences?.find((r) => r.controller);
  return (
    owner !== undefined &&
    owner.kind === 'Workflow' &&
    owner.apiVersion.startsWith('steward.dev/') &&
    owner.name === wf.metadata?.name &&
    owner.uid !== wf.metadata?.uid
  );
}

/**
 * The task entries of an invalid Workflow, so that every task ends terminal: the task at fault
 * (an invalid session) Failed with the problem, every other Skipped. Only tasks whose names are
 * DNS labels, and none past MAX_TASKS: the status map's schema allows no more.
 */
function invalidTasks(
  spec: unknown,
  invalid: InvalidWorkflow,
  now: string,
): { names: string[]; tasks: TaskStatus[] } {
  const list = (spec as { tasks?: unknown } | undefined)?.tasks;
  if (!Array.isArray(list) || list.length > MAX_TASKS) return { names: [], tasks: [] };
  const seen = new Set<string>();
  const names: string[] = [];
  const tasks: TaskStatus[] = [];
  const messageBytes = taskMessageBytes(list.length, Buffer.byteLength(JSON.stringify(list)));
  for (const [i, t] of list.entries()) {
    const name = (t as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name.length > 63 || !DNS_LABEL.test(name) || seen.has(name)) continue;
    seen.add(name);
    names.push(name);
    const atFault = i === invalid.task;
    tasks.push(
      boundTaskStatus(
        {
          phase: atFault ? 'Failed' : 'Skipped',
          reason: 'InvalidSpec',
          message: atFault ? invalid.problem : 'Not started: the Workflow’s spec is invalid',
          completionTime: now,
        },
        messageBytes,
      ),
    );
  }
  return { names, tasks };
}

/**
 * `sha256:` and the hex digest of the task graph: each task's name and its dependencies (sorted),
 * in order. Not the tasks' session templates: their defaults are the CRD's, which an upgrade of
 * the CRD may extend, and that must not make running Workflows look changed.
 */
export function tasksDigest(tasks: unknown): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(taskGraph(tasks)))
    .digest('hex')}`;
}

/** Each task's name and its dependencies (sorted), in order, read from a spec as stored (valid or not). */
function taskGraph(tasks: unknown): Array<[string, string[]]> {
  return (Array.isArray(tasks) ? tasks : []).map((t) => {
    const task = (t ?? {}) as { name?: unknown; dependsOn?: unknown };
    return [String(task.name), Array.isArray(task.dependsOn) ? task.dependsOn.map(String).sort() : []];
  });
}

/** The task names in a Session's STEWARD_UPSTREAM annotation; undefined if it has none readable. */
function upstreamNames(json: string | undefined): string[] | undefined {
  if (json === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(json);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : undefined;
  } catch {
    return undefined;
  }
}

function sameSet(xs: readonly string[], set: ReadonlySet<string>): boolean {
  return xs.length === set.size && xs.every((x) => set.has(x));
}

/** A task entry with its phase and Session only. */
function compactTask(t: TaskStatus): TaskStatus {
  return t.session === undefined ? { phase: t.phase } : { phase: t.phase, session: t.session };
}

function refOf(wf: Workflow): WorkflowRef {
  return { key: `${wf.metadata?.namespace ?? ''}/${wf.metadata!.name!}`, uid: wf.metadata!.uid! };
}

function errorType(err: unknown): string {
  if (isStatusError(err)) return `api_${err.reason || err.status}`.toLowerCase();
  if (err instanceof Error && err.name === 'AbortError') return 'aborted';
  return 'internal';
}
