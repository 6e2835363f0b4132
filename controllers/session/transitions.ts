import {
  type Client,
  type Clock,
  isRequestEntityTooLarge,
  type KubernetesObject,
  type ReconcileContext,
} from '../../lib/index.js';
import { MAX_EVENT_MESSAGE_LENGTH, truncate } from './bounds.js';
import type { SessionMetrics } from './metrics.js';
import { boundStatus, patchedSession, setConditions, smallestTerminal } from './status.js';
import { isTerminal, type Phase, type Session, SESSION_GVK, type SessionStatus } from './types.js';

/** Where transition events go; `EventRecorder` fits. */
export interface Recorder {
  /** Records one Event about `obj`; never throws. */
  event(obj: KubernetesObject, type: 'Normal' | 'Warning', reason: string, message: string): unknown;
}

/** A status change: the new phase with a reason and message, plus any other fields. */
export type Change = Omit<SessionStatus, 'phase' | 'reason' | 'message' | 'conditions'> & {
  phase: Phase;
  reason: string;
  message: string;
};

/** Marks an in-memory Session whose Pending phase has not been written yet. */
const PENDING_UNWRITTEN = Symbol('pendingUnwritten');
type Unwritten = { [PENDING_UNWRITTEN]?: boolean };

/** A new Session as Pending in memory only, to be written along with its first real step. */
export function pendingUnwritten(session: Session): Session {
  const status = session.status ?? {};
  const pending: Session = {
    ...session,
    status: { ...status, phase: 'Pending', reason: 'Created', message: 'Waiting to start', attempt: 0 },
  };
  (pending as Unwritten)[PENDING_UNWRITTEN] = true;
  return pending;
}

export const isUnwritten = (session: Session): boolean => (session as Unwritten)[PENDING_UNWRITTEN] === true;

/** How soon to look again when the cache has not caught up with our own write: doubling, capped. */
const STALE_RETRY_MS = 50;
const STALE_RETRY_MAX_MS = 5_000;
/** Bound on Sessions tracked: the oldest entries are dropped (Sessions deleted meanwhile). */
const MAX_TRACKED = 10_000;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Reasons of a phase that is not terminal that still ask for the user's attention. */
const WARNING_REASONS: ReadonlySet<string> = new Set([
  'RetryBackoff',
  'JobCreateFailed',
  'FailedCreate',
  'Unschedulable',
  'ImagePull',
]);

/**
 * The Session's status writes: each a merge patch of the status subresource conditional on the
 * resourceVersion the decision was made from, with every string bounded to what the schema
 * allows, the conditions kept in step, an event and the metrics. It remembers the version each
 * write replaced until the cache shows a newer one, so that a reconcile reading from a cache
 * that has not caught up with the operator's own write waits instead of repeating the step.
 */
export class SessionTransitions {
  readonly #client: Client;
  readonly #clock: Clock;
  readonly #recorder: Recorder | undefined;
  readonly #metrics: SessionMetrics | undefined;
  // Session uid → the resourceVersion our last status write replaced, and how many times a
  // reconcile waited for the cache to move past it.
  readonly #superseded = new Map<string, { rv: string; waits: number }>();

  constructor(opts: { client: Client; clock: Clock; recorder?: Recorder; metrics?: SessionMetrics }) {
    this.#client = opts.client;
    this.#clock = opts.clock;
    this.#recorder = opts.recorder;
    this.#metrics = opts.metrics;
  }

  /**
   * How long to wait before acting on `session` as read, or undefined to act now: it is the
   * version our last write replaced, so acting would repeat that step (a create that finds its
   * Job, a patch that conflicts). The wait backs off (50 ms doubling to 5 s) in case the cache
   * is slow to catch up (a watch reconnecting), and each is counted.
   */
  staleDelay(session: Session): number | undefined {
    const uid = session.metadata?.uid ?? '';
    const stale = this.#superseded.get(uid);
    if (stale === undefined) return undefined;
    if (stale.rv !== session.metadata?.resourceVersion) {
      this.#superseded.delete(uid);
      return undefined;
    }
    this.#metrics?.staleCache(session.metadata?.namespace ?? '');
    const delay = Math.min(STALE_RETRY_MS * 2 ** stale.waits, STALE_RETRY_MAX_MS);
    stale.waits++;
    return delay;
  }

  /** Writes a phase change to the status subresource, records an event and counts it. */
  async write(session: Session, change: Change, ctx: ReconcileContext): Promise<Session> {
    const unwritten = isUnwritten(session);
    const from = session.status?.phase;
    const now = this.#clock.now();
    // Every string is cut to what the schema allows, so that no status write (least of all a
    // terminal one) can be refused for its size.
    let bounded = boundStatus(change);
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(bounded)) body[k] = v === undefined ? null : v;
    body.observedGeneration = session.metadata?.generation;
    body.conditions = setConditions(
      session.status?.conditions,
      bounded.phase,
      bounded.reason,
      bounded.message,
      iso(now),
      session.metadata?.generation,
    );
    let updated: Session;
    try {
      updated = await this.#patch(session, body, ctx);
    } catch (err) {
      if (!isRequestEntityTooLarge(err)) throw err;
      // The Session itself leaves no room for this status (its spec is within a few KB of
      // etcd's limit): record the smallest terminal status instead, which says so.
      bounded = smallestTerminal(bounded, err.message, iso(now));
      ctx.logger.warn('The Session is too large for its status; recording the smallest terminal one', {
        error: err.message,
      });
      updated = await this.#patch(
        session,
        {
          ...bounded,
          nextRetryTime: null,
          conditions: null,
          observedGeneration: session.metadata?.generation,
        },
        ctx,
      );
    }
    const namespace = session.metadata!.namespace ?? '';
    const to = bounded.phase;
    const steps: Array<[Phase | '', Phase]> = unwritten ? [['', 'Pending']] : [];
    if (from !== to) steps.push([from ?? '', to]);
    for (const [a, b] of steps) {
      if (a === '') this.#metrics?.created(namespace);
      this.#metrics?.transition(namespace, a, b, isTerminal(b));
      ctx.logger.info('Session phase changed', {
        from: a,
        to: b,
        reason: b === to ? bounded.reason : 'Created',
      });
    }
    const warning = to === 'Failed' || to === 'TimedOut' || WARNING_REASONS.has(bounded.reason);
    void this.#recorder?.event(
      updated,
      warning ? 'Warning' : 'Normal',
      bounded.reason,
      truncate(bounded.message, MAX_EVENT_MESSAGE_LENGTH),
    );
    this.#supersede(session, updated);
    return updated;
  }

  /**
   * A merge patch of the status, conditional on the resourceVersion the decision was made from.
   * The server answers with the metadata only (the Session's spec and status would be most of
   * the bytes it encodes and the operator parses): the write applied to exactly the object that
   * was read (same resourceVersion), so the Session as written is that object with the patch
   * merged into its status and the server's new metadata (`patchedSession`).
   */
  async #patch(session: Session, status: Record<string, unknown>, ctx: ReconcileContext): Promise<Session> {
    const answer = await this.#client.patchStatus<KubernetesObject>(
      SESSION_GVK,
      { namespace: session.metadata?.namespace, name: session.metadata!.name! },
      { type: 'merge', body: { metadata: { resourceVersion: session.metadata!.resourceVersion }, status } },
      { signal: ctx.signal, metadataOnlyResponse: true },
    );
    return patchedSession(session, answer.metadata, status);
  }

  #supersede(before: Session, after: Session): void {
    const uid = after.metadata?.uid;
    const rv = before.metadata?.resourceVersion;
    if (!uid || !rv) return;
    this.#superseded.delete(uid);
    this.#superseded.set(uid, { rv, waits: 0 });
    if (this.#superseded.size > MAX_TRACKED) this.#superseded.delete(this.#superseded.keys().next().value!);
  }
}
