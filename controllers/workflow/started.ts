import { type Clock, monotonicNow } from '../../lib/index.js';

/** What this process knows of a task Session the cache does not show. */
export type StartedState = 'created' | 'seen';

/** A Workflow, as `namespace/name` (so a deletion can forget it) and uid (so a new one with the same name starts afresh). */
export interface WorkflowRef {
  key: string;
  uid: string;
}

/**
 * The task Sessions this process created, per Workflow, until the Workflow's status records
 * them (the status is then the record). It bridges two gaps: a Session just created that the
 * cache does not show yet counts as started (so parallelism holds and nothing is created twice),
 * and a Session that was seen and is gone again was deleted, even if no status write recorded
 * it yet (status writes of large Workflows are batched). An entry never seen for `ttlMs` stops
 * counting: the API is asked instead.
 */
export class StartedSessions {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #byWorkflow = new Map<
    string,
    { uid: string; sessions: Map<string, { until: number; seen: boolean }> }
  >();

  constructor(clock: Clock, ttlMs: number) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  #of(wf: WorkflowRef, create: boolean): Map<string, { until: number; seen: boolean }> | undefined {
    const e = this.#byWorkflow.get(wf.key);
    if (e !== undefined && e.uid === wf.uid) return e.sessions;
    if (!create) return undefined;
    const sessions = new Map<string, { until: number; seen: boolean }>();
    this.#byWorkflow.set(wf.key, { uid: wf.uid, sessions });
    return sessions;
  }

  add(wf: WorkflowRef, session: string): void {
    this.#of(wf, true)!.set(session, { until: monotonicNow(this.#clock) + this.#ttlMs, seen: false });
  }

  /** 'created' while not yet seen in the cache (and not for too long); 'seen' once it was. */
  state(wf: WorkflowRef, session: string): StartedState | undefined {
    const e = this.#of(wf, false)?.get(session);
    if (e === undefined) return undefined;
    if (e.seen) return 'seen';
    return e.until > monotonicNow(this.#clock) ? 'created' : undefined;
  }

  seen(wf: WorkflowRef, session: string): void {
    const e = this.#of(wf, false)?.get(session);
    if (e !== undefined) e.seen = true;
  }

  /** The Sessions of the Workflow this process created that its status does not record yet. */
  names(wf: WorkflowRef): string[] {
    return [...(this.#of(wf, false)?.keys() ?? [])];
  }

  /** The Workflow's status records the Session now. */
  recorded(wf: WorkflowRef, session: string): void {
    const mine = this.#of(wf, false);
    if (mine === undefined) return;
    mine.delete(session);
    if (mine.size === 0) this.#byWorkflow.delete(wf.key);
  }

  /** A Workflow that finished or was deleted. */
  forget(key: string): void {
    this.#byWorkflow.delete(key);
  }
}
