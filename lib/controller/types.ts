import type { Logger } from '../log/logger.js';

/** What a reconciler is asked to reconcile: one object, by key. Not the object itself. */
export interface Request {
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

/** What a reconcile asks of the queue when it succeeds. */
export interface Result {
  /** Reconcile again after this long (the rate limiter's history is cleared). */
  requeueAfterMs?: number;
  /** Reconcile again after the rate limiter's delay (counts as a retry). */
  requeue?: boolean;
  /** Priority of the requeued request. Default 0. */
  priority?: number;
}

/**
 * An error that retrying cannot fix (a bad spec, a forbidden operation): it is logged and
 * counted, and the request is not requeued. Wrap the cause: `new TerminalError('…', { cause })`.
 */
export class TerminalError extends Error {
  readonly code = 'ERR_TERMINAL';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** Raised in a reconcile's `AbortSignal` when it runs past `reconcileTimeoutMs`. */
export class ReconcileTimeoutError extends Error {
  readonly code = 'ERR_RECONCILE_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`reconcile did not finish within ${timeoutMs} ms`);
    this.name = 'ReconcileTimeoutError';
  }
}

/** What a reconcile runs with: its logger, abort signal and id. */
export interface ReconcileContext {
  /** Carries `controller`, `namespace`, `name` and `reconcileID` on every line. */
  logger: Logger;
  /**
   * Aborted when the reconcile runs past its timeout or the controller is stopped hard. Pass
   * it to every call that takes one; check `signal.aborted` between steps.
   */
  signal: AbortSignal;
  /** Unique per reconcile, for correlating log lines. */
  reconcileID: string;
}

/**
 * Drives the cluster toward what the object named by `req` asks for. Called with one request
 * at a time per key; it must be idempotent, because it is called again after any failure,
 * restart or resync. Throw to retry with backoff; throw `TerminalError` to give up.
 */
export interface Reconciler {
  /**
   * Brings the object named by `req` towards its desired state; the outcome decides the requeue.
   */
  reconcile(req: Request, ctx: ReconcileContext): Promise<Result | void>;
}

/** Adapts a function to a `Reconciler`. */
export function reconcilerFunc(
  fn: (req: Request, ctx: ReconcileContext) => Promise<Result | void>,
): Reconciler {
  return { reconcile: fn };
}
