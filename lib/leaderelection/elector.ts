import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfigLike } from '../client/kubeconfig.js';
import type { Registry } from 'prom-client';
import type { Client } from '../client/client.js';
import { isAlreadyExists, isConflict } from '../client/errors.js';
import { KubeClient } from '../client/kube-client.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { type Clock, monotonicNow, realClock } from '../util/clock.js';
import { checkNumber } from '../util/options.js';
import { GaugeFamily, type GaugeSeries, registerFamily } from '../util/metrics.js';
import { AttemptFailures } from './attempt-failures.js';
import { type LeaderElectionRecord, LeaseLock } from './lease-lock.js';

/** Options of `LeaderElector` (client-go's LeaderElectionConfig). */
export interface LeaderElectorOptions {
  /** Where the Lease lives. One of `client` or `kubeConfig` is required. */
  client?: Client;
  kubeConfig?: KubeConfigLike;
  namespace: string;
  /** The Lease's name: one per set of replicas that must not run together. */
  name: string;
  /** Unique per process. Default `<hostname>_<uuid>`. */
  identity?: string;
  /**
   * How long followers wait, after the record last changed, before taking over. Default 15 000.
   * Must exceed `renewDeadlineMs`.
   */
  leaseDurationMs?: number;
  /**
   * How long the leader keeps retrying a failed renewal before giving up, measured from its
   * last successful renewal. Default 10 000. Must exceed 1.2 × `retryPeriodMs`.
   */
  renewDeadlineMs?: number;
  /** How often the leader renews (and candidates retry). Default 2 000. */
  retryPeriodMs?: number;
  /** Give the lease up when `run`'s signal aborts, so a follower takes over at once. Default false. */
  releaseOnCancel?: boolean;
  /** Called on becoming leader; `signal` aborts when leadership ends. */
  onStartedLeading?: (signal: AbortSignal) => void;
  /** Called when leadership ends (lost or given up); not called if it was never held. */
  onStoppedLeading?: () => void;
  /** Called when a different holder is observed (including this process). */
  onNewLeader?: (identity: string) => void;
  /**
   * Durations (expiry, the renew deadline) are read from its monotonic reading
   * (`monotonicNow`); the Lease's acquireTime and renewTime from its wall clock (`now`).
   */
  clock?: Clock;
  logger?: Logger;
  /** Registry for `leader_election_master_status{name}`. */
  registry?: Registry;
}

const WHAT = 'LeaderElector';

/** An unchanged acquire/renew failure is logged as a warning at most this often. */
const FAILURE_REPORT_EVERY_MS = 60_000;

/** client-go's jitter factor: the renew deadline must exceed it times the retry period. */
const JITTER_FACTOR = 1.2;

/** Waits `ms` on `clock`, or less if `signal` aborts. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Leader election on a coordination.k8s.io Lease, with client-go's record and algorithm.
 *
 * A follower takes over once the record has not changed for the holder's lease duration,
 * measured on the follower's own clock from when it last saw the record change: the remote
 * timestamps are never compared with local time, so clock skew between nodes does not matter.
 * Followers check the Lease every quarter to half retry period, so a released Lease changes
 * hands within about half a retry period.
 *
 * On lost leadership, stop doing the leader's work at once (the Manager exits the process:
 * a fresh process is the only safe follower).
 */
export class LeaderElector {
  readonly identity: string;
  readonly #lock: LeaseLock;
  readonly #leaseMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  readonly #releaseOnCancel: boolean;
  readonly #opts: LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #status: GaugeSeries | undefined;
  #observed: LeaderElectionRecord | undefined;
  #observedRaw = '';
  // Monotonic time at which the record was last seen to change: the base of expiry. Never the
  // wall clock, which an NTP step moves by any amount in either direction.
  #observedAt = 0;
  #leading = false;
  // Monotonic time of the last successful acquire or renewal: the base of the renew deadline.
  #lastRenewAt = 0;
  // Leadership was lost (not given up): see fenced().
  #lost = false;
  #running = false;
  // Failed attempts: one warning per run of failures (then one a minute), and why for check().
  readonly #failures = new AttemptFailures(FAILURE_REPORT_EVERY_MS);

  constructor(opts: LeaderElectorOptions) {
    const positive = { exclusive: true };
    // The Lease holds it as whole seconds in an int32 (leaseDurationSeconds).
    this.#leaseMs =
      checkNumber(WHAT, 'leaseDurationMs', opts.leaseDurationMs, {
        ...positive,
        max: (2 ** 31 - 1) * 1000,
      }) ?? 15_000;
    this.#renewDeadlineMs = checkNumber(WHAT, 'renewDeadlineMs', opts.renewDeadlineMs, positive) ?? 10_000;
    this.#retryMs = checkNumber(WHAT, 'retryPeriodMs', opts.retryPeriodMs, positive) ?? 2_000;
    if (!(this.#leaseMs > this.#renewDeadlineMs)) {
      throw new RangeError(
        `${WHAT}: leaseDurationMs (${this.#leaseMs}) must be greater than renewDeadlineMs (${this.#renewDeadlineMs})`,
      );
    }
    if (!(this.#renewDeadlineMs > JITTER_FACTOR * this.#retryMs)) {
      throw new RangeError(
        `${WHAT}: renewDeadlineMs (${this.#renewDeadlineMs}) must be greater than ${JITTER_FACTOR} × retryPeriodMs (${this.#retryMs})`,
      );
    }
    if (!opts.namespace || !opts.name) throw new RangeError('leader election needs a namespace and a name');
    const client = opts.client ?? (opts.kubeConfig ? new KubeClient(opts.kubeConfig) : undefined);
    if (client === undefined) throw new TypeError('LeaderElector needs a client or a kubeConfig');
    this.#lock = new LeaseLock(client, opts.namespace, opts.name);
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
    this.#releaseOnCancel = opts.releaseOnCancel ?? false;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#logger = (opts.logger ?? silentLogger()).child({
      lease: this.#lock.describe(),
      identity: this.identity,
    });
    if (opts.registry !== undefined) {
      this.#status = registerFamily(
        opts.registry,
        new GaugeFamily(
          'leader_election_master_status',
          "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease. Please make sure to group by name.",
          ['name'],
        ),
      ).series({ name: opts.name });
      this.#status.set(0);
    }
  }

  /** Whether this process holds the Lease now. */
  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder last observed, or '' if none. */
  leader(): string {
    return this.#observed?.holderIdentity ?? '';
  }

  /**
   * Why this process must not write as the leader now, or undefined. Set while it leads but its
   * last renewal is older than the renew deadline, and once leadership was lost. After a pause
   * (a stopped process thawed, a starved event loop) every timer fires at once: the renew loop
   * would give up on its next step, but a reconcile, acting on a cache as old as the pause, may
   * run first, while another replica may already lead. A process that never led is not fenced:
   * what runs on every replica may write. The Manager's client asks this before every write.
   */
  fenced(): string | undefined {
    if (this.#lost) return `leadership of the Lease ${this.#lock.describe()} was lost`;
    if (!this.#leading) return undefined;
    const since = this.#monotonic() - this.#lastRenewAt;
    if (since < this.#renewDeadlineMs) return undefined;
    return `the Lease ${this.#lock.describe()} was last renewed ${Math.round(since)} ms ago, past the renew deadline (${this.#renewDeadlineMs} ms)`;
  }

  /**
   * Healthy unless (a) this process believes it leads but has not renewed for longer than the
   * lease duration plus `toleranceMs` (another process may be leading too), or (b) it cannot
   * take part at all: its attempts fail for another reason than a Lease held by someone else
   * (a missing namespace, no RBAC rights, an unreachable API server) since it started, or for
   * a lease duration. The error says which, with the API's answer.
   */
  check(toleranceMs = 0): Error | undefined {
    const now = this.#monotonic();
    if (this.#leading) {
      const since = now - this.#lastRenewAt;
      if (since > this.#leaseMs + toleranceMs) {
        return new Error(`failed to renew the lease ${this.#lock.describe()} for ${Math.round(since)} ms`);
      }
      return undefined;
    }
    const failure = this.#failures.persistent(now, this.#leaseMs + toleranceMs);
    if (failure === undefined) return undefined;
    const why = failure instanceof Error ? failure.message : String(failure);
    return new Error(`cannot acquire the Lease ${this.#lock.describe()}: ${why}`);
  }

  /**
   * Campaigns until leader, then renews until `signal` aborts or leadership is lost. Resolves
   * then (after releasing the Lease if `releaseOnCancel`). Rejects only on misuse.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error('LeaderElector.run is already running');
    this.#running = true;
    try {
      if (!(await this.#acquire(signal))) return;
      const leadership = new AbortController();
      this.#lost = false;
      this.#setLeading(true);
      this.#logger.info('Became leader');
      this.#opts.onStartedLeading?.(leadership.signal);
      const lost = await this.#renewUntilLostOrAborted(signal);
      this.#lost = lost;
      this.#setLeading(false);
      leadership.abort(new Error(lost ? 'leadership lost' : 'stopped'));
      if (lost)
        this.#logger.error('Leadership lost: the lease could not be renewed within the renew deadline');
      else if (this.#releaseOnCancel) await this.#release();
      this.#opts.onStoppedLeading?.();
    } finally {
      this.#running = false;
    }
  }

  #setLeading(v: boolean): void {
    this.#leading = v;
    this.#status?.set(v ? 1 : 0);
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    this.#logger.info('Attempting to acquire the leader lease');
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(signal)) {
        this.#lastRenewAt = this.#monotonic();
        return true;
      }
      await sleep(this.#clock, this.#retryMs * (0.25 + Math.random() * 0.25), signal);
    }
    return false;
  }

  /** Renews every retry period; true when the renew deadline passed without a renewal. */
  async #renewUntilLostOrAborted(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      const deadline = this.#lastRenewAt + this.#renewDeadlineMs;
      // Never sleep past the deadline: a renewal that could still make it is tried first.
      await sleep(this.#clock, Math.min(this.#retryMs, deadline - this.#monotonic()), signal);
      if (signal.aborted) return false;
      const left = deadline - this.#monotonic();
      if (left <= 0) return true;
      // The attempt gets the time left and no more: a renewal that lands after the deadline
      // would extend a leadership this process has already given up.
      const timeout = new AbortController();
      const timer = this.#clock.setTimeout(() => timeout.abort(new Error('renew deadline passed')), left);
      const ok = await this.#tryAcquireOrRenew(AbortSignal.any([signal, timeout.signal]));
      this.#clock.clearTimeout(timer);
      if (signal.aborted) return false;
      if (ok) this.#lastRenewAt = this.#monotonic();
      else if (this.#monotonic() >= deadline) return true;
    }
  }

  /**
   * One step of client-go's algorithm; true when this process holds the lease afterwards.
   * Failures are retried by the caller next period; those that are not a lost race are
   * reported (rate-limited) and kept for `check()`.
   */
  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    try {
      const ok = await this.#attempt(signal);
      this.#attemptSucceeded();
      return ok;
    } catch (err) {
      if (signal.aborted) {
        // Stopped, or cut off at the renew deadline (which the renew loop reports).
        this.#logger.debug('Lease attempt aborted', { error: err });
        return false;
      }
      if (isConflict(err) || isAlreadyExists(err)) {
        // Another candidate wrote first: the API works, this is the lock doing its job.
        this.#logger.debug('Lost the race for the Lease', { error: err });
        this.#attemptSucceeded();
        return false;
      }
      this.#attemptFailed(err);
      return false;
    }
  }

  #attemptSucceeded(): void {
    const failedForMs = this.#failures.succeeded(this.#monotonic());
    if (failedForMs !== undefined) this.#logger.info('The Lease is reachable again', { failedForMs });
  }

  #attemptFailed(err: unknown): void {
    const { report, suppressed } = this.#failures.failed(err, this.#monotonic());
    if (!report) {
      this.#logger.debug('Lease attempt failed', { error: err });
      return;
    }
    this.#logger.warn(
      this.#leading
        ? 'Cannot renew the leader lease; retrying until the renew deadline'
        : 'Cannot acquire the leader lease; retrying',
      { error: err, retryPeriodMs: this.#retryMs, failedAttemptsNotLogged: suppressed },
    );
  }

  async #attempt(signal: AbortSignal): Promise<boolean> {
    // Wall time for what is written to the Lease; monotonic time for judging expiry.
    const wall = this.#clock.now();
    const started = this.#monotonic();
    const mine: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000),
      acquireTime: wall,
      renewTime: wall,
      leaderTransitions: 0,
    };
    // client-go's fast path: a leader whose lease is still valid writes its renewal over the
    // Lease it last wrote, one PUT conditional on that resourceVersion. Only when that fails
    // (a conflict: someone else wrote the Lease) does it read the Lease again.
    if (this.#leading && this.#observed !== undefined && this.#leaseValidAt(started)) {
      mine.acquireTime = this.#observed.acquireTime;
      mine.leaderTransitions = this.#observed.leaderTransitions;
      try {
        this.#observe(mine, await this.#lock.update(mine, signal));
        return true;
      } catch (err) {
        if (signal.aborted) return false;
        this.#logger.debug('Optimistic Lease renewal failed; reading the Lease again', {
          error: err,
        });
      }
    }
    const current = await this.#lock.get(signal);
    if (current === undefined) {
      this.#observe(mine, await this.#lock.create(mine, signal));
      return true;
    }
    if (current.raw !== this.#observedRaw) this.#observe(current.record, current.raw);
    const holder = current.record.holderIdentity;
    if (holder !== '' && holder !== this.identity && this.#leaseValidAt(started)) return false;
    if (holder === this.identity) {
      mine.acquireTime = current.record.acquireTime;
      mine.leaderTransitions = current.record.leaderTransitions;
    } else {
      mine.leaderTransitions = current.record.leaderTransitions + 1;
    }
    this.#observe(mine, await this.#lock.update(mine, signal));
    return true;
  }

  // The lease this process last observed has not yet run out (client-go's isLeaseValid).
  #leaseValidAt(monotonicNowMs: number): boolean {
    const seconds = this.#observed?.leaseDurationSeconds ?? 0;
    return this.#observedAt + seconds * 1000 > monotonicNowMs;
  }

  #monotonic(): number {
    return monotonicNow(this.#clock);
  }

  // Stamped when the answer arrived, not when the request left: a slow answer must not make the
  // record look older than it is.
  #observe(record: LeaderElectionRecord, raw: string): void {
    const previous = this.#observed?.holderIdentity;
    this.#observed = record;
    this.#observedRaw = raw;
    this.#observedAt = this.#monotonic();
    if (record.holderIdentity !== previous && record.holderIdentity !== '') {
      this.#logger.info('New leader observed', { leader: record.holderIdentity });
      this.#opts.onNewLeader?.(record.holderIdentity);
    }
  }

  async #release(): Promise<void> {
    const now = this.#clock.now();
    const released: LeaderElectionRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaderTransitions: this.#observed?.leaderTransitions ?? 0,
    };
    try {
      this.#observe(released, await this.#lock.update(released, AbortSignal.timeout(5_000)));
      this.#logger.info('Released the leader lease');
    } catch (err) {
      this.#logger.warn('Failed to release the leader lease', { error: err });
    }
  }
}
