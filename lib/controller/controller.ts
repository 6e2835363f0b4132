import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { isError } from '../log/errors.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { type Clock, monotonicNow, realClock, type Timer } from '../util/clock.js';
import { checkNumber } from '../util/options.js';
import { RateLimitingQueue } from '../workqueue/rate-limiting.js';
import type { RateLimiter } from '../workqueue/rate-limiters.js';
import { type ControllerMetrics, controllerMetrics, type ReconcileOutcome } from './metrics.js';
import { checkResult } from './result.js';
import {
  ReconcileTimeoutError,
  TerminalError,
  type Reconciler,
  type ReconcileContext,
  type Request,
} from './types.js';

/** A controller's options: workers, rate limiter, reconcile timeout, panic recovery, metrics. */
export interface ControllerOptions {
  /** Workers reconciling in parallel (never two on one key). Default 1, as controller-runtime. */
  maxConcurrentReconciles?: number;
  /** Delays for retries after errors. Default `defaultControllerRateLimiter()`. */
  rateLimiter?: RateLimiter<Request>;
  /**
   * A reconcile running longer than this has its `AbortSignal` aborted with a
   * `ReconcileTimeoutError` and is counted. Default 0: no timeout.
   */
  reconcileTimeoutMs?: number;
  /**
   * Treat a panic (a bug: ReferenceError, TypeError without a cause, …) like any error: count,
   * log, retry. Default true. With false it is rethrown as an uncaught exception, which stops
   * the process, as controller-runtime does without recovery.
   */
  recoverPanic?: boolean;
  /** The work queue's aging bound; see `QueueOptions.maxPriorityWaitMs`. */
  maxPriorityWaitMs?: number;
  /**
   * How long the Manager waits for the caches of this controller's watches to sync before it
   * fails start-up with a `CacheSyncTimeoutError` (controller-runtime's CacheSyncTimeout).
   * Default: the Manager's `cacheSyncTimeoutMs` (2 minutes).
   */
  cacheSyncTimeoutMs?: number;
  logger?: Logger;
  /** Registry for controller-runtime's controller and work queue metrics. Default: none. */
  registry?: Registry;
  clock?: Clock;
}

/**
 * JavaScript's nearest thing to a Go panic: an error a correct program never throws. A
 * `TypeError` with a `cause` is excluded because `fetch` reports network failures that way.
 */
function isPanic(err: unknown): boolean {
  if (!isError(err)) return true;
  if (err instanceof ReferenceError || err instanceof SyntaxError || err instanceof EvalError) return true;
  return err instanceof TypeError && err.cause === undefined;
}

/**
 * Runs a `Reconciler` over a `RateLimitingQueue<Request>` with a pool of workers.
 *
 * Outcomes, as controller-runtime: a thrown error requeues the request with backoff; a
 * `TerminalError` is logged and counted and not requeued; `requeueAfterMs` forgets the backoff
 * and requeues after that long; `requeue: true` requeues with backoff; success forgets the
 * backoff. A returned value that is not a `Result` counts as an error (`InvalidResultError`).
 * No exception or rejection ever ends a worker.
 *
 * Usually built by the Manager's builder (`mgr.controller(name)…complete(r)`); build one by
 * hand only to drive it from your own event sources.
 */
export class Controller {
  readonly name: string;
  readonly queue: RateLimitingQueue<Request>;
  /** See `ControllerOptions.cacheSyncTimeoutMs`; undefined means the Manager's default. */
  readonly cacheSyncTimeoutMs: number | undefined;
  readonly #reconciler: Reconciler;
  readonly #workers: number;
  readonly #timeoutMs: number;
  readonly #recoverPanic: boolean;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #metrics: ControllerMetrics | undefined;
  // Aborted to cancel every in-flight reconcile at once (lost leadership, hard stop).
  readonly #hardStop = new AbortController();
  #started = false;
  #stopping = false;

  constructor(name: string, reconciler: Reconciler, opts: ControllerOptions = {}) {
    const what = `controller ${name}`;
    const workers =
      checkNumber(what, 'maxConcurrentReconciles', opts.maxConcurrentReconciles, { min: 1, integer: true }) ??
      1;
    const timeoutMs = checkNumber(what, 'reconcileTimeoutMs', opts.reconcileTimeoutMs) ?? 0;
    checkNumber(what, 'maxPriorityWaitMs', opts.maxPriorityWaitMs, { infinite: true });
    this.cacheSyncTimeoutMs = checkNumber(what, 'cacheSyncTimeoutMs', opts.cacheSyncTimeoutMs, {
      exclusive: true,
    });
    this.name = name;
    this.#reconciler = reconciler;
    this.#workers = workers;
    this.#timeoutMs = timeoutMs;
    this.#recoverPanic = opts.recoverPanic ?? true;
    this.#logger = (opts.logger ?? silentLogger()).child({ controller: name });
    this.#clock = opts.clock ?? realClock;
    this.#metrics = opts.registry ? controllerMetrics(opts.registry, name) : undefined;
    this.queue = new RateLimitingQueue<Request>({
      name,
      controller: name,
      clock: this.#clock,
      registry: opts.registry,
      rateLimiter: opts.rateLimiter,
      maxPriorityWaitMs: opts.maxPriorityWaitMs,
      keyOf: (r) => (r.namespace ? `${r.namespace}/${r.name}` : r.name),
    });
  }

  /** Queues a request (deduplicated by key). */
  enqueue(req: Request, priority?: number): void {
    this.queue.add(req, { priority });
  }

  /**
   * Runs the workers until `signal` aborts, then stops taking work and resolves when the
   * in-flight reconciles have finished. Bound that wait yourself (the Manager does, with
   * `gracefulShutdownTimeoutMs`) and call `abortInFlight()` when it runs out.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`controller ${this.name} was already started`);
    this.#started = true;
    this.#metrics?.setMaxConcurrent(this.#workers);
    const stop = () => {
      this.#stopping = true;
      this.queue.shutDown();
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    this.#logger.info('Starting workers', { workerCount: this.#workers });
    await Promise.all(Array.from({ length: this.#workers }, () => this.#worker()));
    signal.removeEventListener('abort', stop);
    this.#logger.info('All workers finished');
  }

  /** Aborts the signal of every in-flight reconcile (and of any started later). */
  abortInFlight(reason: unknown = new Error(`controller ${this.name} stopped`)): void {
    this.#stopping = true;
    this.queue.shutDown();
    this.#hardStop.abort(reason);
  }

  async #worker(): Promise<void> {
    while (!this.#stopping) {
      const req = await this.queue.get();
      if (req === undefined) return;
      if (this.#stopping) {
        // Stopping: do not start new work. The object is reconciled again by whichever
        // process runs next, from its initial list.
        this.queue.done(req);
        return;
      }
      await this.#process(req);
    }
  }

  async #process(req: Request): Promise<void> {
    const metrics = this.#metrics;
    metrics?.workerStarted();
    const started = monotonicNow(this.#clock);
    const reconcileID = randomUUID();
    const logger = this.#logger.child({ namespace: req.namespace, name: req.name, reconcileID });
    // Without a timeout the hard stop is the only reason to abort: no signal of its own (and
    // no AbortSignal.any, which costs more than many a reconcile).
    let timer: Timer | undefined;
    let signal = this.#hardStop.signal;
    if (this.#timeoutMs > 0) {
      const timeout = new AbortController();
      timer = this.#clock.setTimeout(() => {
        metrics?.timeout();
        logger.warn('Reconcile timed out; aborting it', { timeoutMs: this.#timeoutMs });
        timeout.abort(new ReconcileTimeoutError(this.#timeoutMs));
      }, this.#timeoutMs);
      signal = AbortSignal.any([signal, timeout.signal]);
    }
    const ctx: ReconcileContext = { logger, reconcileID, signal };
    let outcome: ReconcileOutcome;
    try {
      // A result that is not a Result is an error of the reconciler's (InvalidResultError).
      const result = checkResult(await this.#reconciler.reconcile(req, ctx));
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        this.queue.forget(req);
        this.queue.addAfter(req, result.requeueAfterMs, { priority: result.priority });
        outcome = 'requeue_after';
      } else if (result.requeue) {
        this.queue.addRateLimited(req, { priority: result.priority });
        outcome = 'requeue';
      } else {
        this.queue.forget(req);
        outcome = 'success';
      }
    } catch (err) {
      outcome = 'error';
      metrics?.error();
      if (err instanceof TerminalError) {
        metrics?.terminal();
        this.queue.forget(req);
        logger.error('Reconciler error (terminal, not retried)', { error: err });
      } else {
        this.queue.addRateLimited(req);
        const panic = isPanic(err);
        if (panic) metrics?.panic();
        logger.error(panic ? 'Observed a panic in reconciler' : 'Reconciler error', {
          error: err,
        });
        if (panic && !this.#recoverPanic) {
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      this.queue.done(req);
      metrics?.workerFinished();
    }
    metrics?.outcome(outcome, (monotonicNow(this.#clock) - started) / 1000);
  }
}
