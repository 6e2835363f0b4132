import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { KubeConfigLike } from '../client/kubeconfig.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { InformerCache } from '../cache/informer-cache.js';
import type { HandlerRegistration } from '../cache/handlers.js';
import type { SharedInformer } from '../cache/informer.js';
import type { Client } from '../client/client.js';
import { KubeClient } from '../client/kube-client.js';
import type { Controller } from '../controller/controller.js';
import { EventRecorder } from '../events/recorder.js';
import { LeaderElector } from '../leaderelection/elector.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { type Clock, monotonicNow, realClock, type Timer } from '../util/clock.js';
import { checkNumber, describeValue } from '../util/options.js';
import { ControllerBuilder } from './builder.js';
import {
  DEFAULT_CACHE_SYNC_TIMEOUT_MS,
  describeUnsynced,
  type SyncTarget,
  waitForSync,
} from './cache-sync.js';
import {
  BindError,
  type Check,
  healthServer,
  type HttpServer,
  metricsServer,
  parseBindAddress,
} from './servers.js';

/** The Manager's leader election: on or off, the Lease's name and namespace, timings. */
export interface LeaderElectionOptions {
  /** Default false: every replica reconciles. Enable for HA Deployments. */
  enabled: boolean;
  /** The Lease name; replicas with one id elect one leader. */
  id: string;
  /** Default: the namespace the process runs in (service account), else `default`. */
  namespace?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Release the Lease on a graceful stop so a follower takes over at once. Default true. */
  releaseOnCancel?: boolean;
  identity?: string;
  /**
   * The client for the Lease alone. Default: one built from `kubeConfig` with its own
   * connection pool and throttle (`qps`, `burst`), as controller-runtime builds a separate
   * client for leader election, so that renewals never queue behind reconcile traffic. When
   * the Manager was given a `client` and this is not set, the Lease goes through that client.
   */
  client?: Client;
  /**
   * The leader-election client's own rate limit. Defaults 5 QPS, burst 10: a leader writes
   * once per retry period and a follower reads up to four times per retry period, so this is
   * a safety net, never a queue.
   */
  qps?: number;
  burst?: number;
}

/** Options of `Manager.create`. */
export interface ManagerOptions {
  kubeConfig: KubeConfigLike;
  /** Use this client instead of one built from `kubeConfig` (e.g. impersonating, or a fake). */
  client?: Client;
  leaderElection?: LeaderElectionOptions;
  /** `:8080` by default; `0` disables the metrics server. */
  metricsBindAddress?: string;
  /** `:8081` by default; `0` disables the health server. */
  healthProbeBindAddress?: string;
  /** How long a graceful stop waits for in-flight reconciles. Default 30 000. */
  gracefulShutdownTimeoutMs?: number;
  /**
   * How long `start()` waits for the caches to sync before it fails with a
   * `CacheSyncTimeoutError` naming the kinds that did not and the API's answer (a missing CRD,
   * a forbidden list). Default 120 000 (controller-runtime's CacheSyncTimeout). A controller's
   * own `cacheSyncTimeoutMs` (`withOptions`) applies to the kinds it watches.
   */
  cacheSyncTimeoutMs?: number;
  /** Namespaces the cache watches. Default: all. */
  namespaces?: string[];
  /** Client-side rate limit for the API server, one budget for the process. Defaults 100 QPS, burst 150. */
  qps?: number;
  burst?: number;
  logger?: Logger;
  /** Registry for every metric. Default: a new one with Node process metrics. */
  registry?: Registry;
  clock?: Clock;
}

/**
 * A client budget (`qps`, `burst`), checked even when a given client makes it unused, so that
 * a bad value fails with the Manager option's name. Any qps <= 0 turns throttling off.
 */
function checkBudget(prefix: string, opts: { qps?: number; burst?: number }): void {
  if (opts.qps !== undefined && (typeof opts.qps !== 'number' || Number.isNaN(opts.qps))) {
    throw new RangeError(
      `Manager: ${prefix}qps must be a number (<= 0 disables throttling), got ${describeValue(opts.qps)}`,
    );
  }
  checkNumber('Manager', `${prefix}burst`, opts.burst, { min: 1 });
}

/** The Manager stopped because this process lost its leader Lease; exit and start afresh. */
export class LeaderElectionLostError extends Error {
  readonly code = 'ERR_LEADER_ELECTION_LOST';
  constructor() {
    super('leader election lost');
    this.name = 'LeaderElectionLostError';
  }
}

/** Something started by the Manager with the rest: it must resolve once `signal` aborts. */
export interface Runnable {
  /** Runs until `signal` aborts, then resolves. */
  start(signal: AbortSignal): Promise<void>;
  /** Run only on the leader (default true), or on every replica. */
  needLeaderElection?: boolean;
}

interface ControllerEntry {
  controller: Controller;
  watch: (c: Controller) => HandlerRegistration[];
  informers: SharedInformer[];
}

/** The namespace of the pod we run in: POD_NAMESPACE, else the service account's, else none. */
function inClusterNamespace(): string | undefined {
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  try {
    return (
      readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** Something the leader runs, watched so that shutdown can name what did not finish. */
interface LeaderRun {
  name: string;
  done: Promise<void>;
  settled: boolean;
}

function track(name: string, p: Promise<void>): LeaderRun {
  const run: LeaderRun = { name, done: Promise.resolve(), settled: false };
  // A run that rejects has ended too; its error was the runnable's to report.
  run.done = p.then(
    () => void (run.settled = true),
    () => void (run.settled = true),
  );
  return run;
}

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Runs controllers, the informer cache, leader election, and the metrics and health servers.
 *
 * `start(signal)`: servers and caches run on every replica; controllers and leader runnables
 * only on the leader, once the caches have synced. When `signal` aborts the Manager stops
 * taking work, lets in-flight reconciles finish (up to `gracefulShutdownTimeoutMs`), releases
 * the Lease and resolves. If the Lease is lost, reconciles are aborted at once and `start`
 * rejects with `LeaderElectionLostError`: exit non-zero and let a fresh process take over.
 */
export class Manager {
  readonly client: Client;
  readonly cache: InformerCache;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly #opts: ManagerOptions;
  readonly #clock: Clock;
  readonly #controllers: ControllerEntry[] = [];
  readonly #runnables: Runnable[] = [];
  readonly #healthz = new Map<string, Check>();
  readonly #readyz = new Map<string, Check>();
  #elector: LeaderElector | undefined;
  // The leader election client the Manager built (and so closes), if it built one.
  #leaderElectionKubeClient: KubeClient | undefined;
  #onStartedLeading: (() => void) | undefined;
  #started = false;
  #cacheSynced = false;
  readonly #gracefulShutdownTimeoutMs: number;
  readonly #cacheSyncTimeoutMs: number;
  #metricsAddress: string | undefined;
  #healthAddress: string | undefined;

  private constructor(opts: ManagerOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#gracefulShutdownTimeoutMs =
      checkNumber('Manager', 'gracefulShutdownTimeoutMs', opts.gracefulShutdownTimeoutMs) ?? 30_000;
    this.#cacheSyncTimeoutMs =
      checkNumber('Manager', 'cacheSyncTimeoutMs', opts.cacheSyncTimeoutMs, { exclusive: true }) ??
      DEFAULT_CACHE_SYNC_TIMEOUT_MS;
    checkBudget('', opts);
    if (opts.leaderElection !== undefined) checkBudget('leaderElection.', opts.leaderElection);
    this.logger = opts.logger ?? silentLogger();
    this.registry = opts.registry ?? Manager.#defaultRegistry();
    this.client =
      opts.client ??
      new KubeClient(opts.kubeConfig, {
        qps: opts.qps,
        burst: opts.burst,
        registry: this.registry,
        clock: opts.clock,
        userAgent: 'steward',
        // No write leaves a replica that may have lost its Lease (LeaderElector.fenced); without
        // leader election there is nothing to ask on each write.
        writeFence: opts.leaderElection?.enabled ? () => this.#elector?.fenced() : undefined,
      });
    this.cache = new InformerCache({
      client: this.client,
      namespaces: opts.namespaces,
      registry: this.registry,
      clock: opts.clock,
      logger: this.logger.child({ component: 'cache' }),
    });
    this.#healthz.set('ping', () => {});
    this.#readyz.set('cache-sync', () => {
      if (this.#cacheSynced) return;
      const unsynced = this.cache.informers().filter((i) => !i.hasSynced());
      throw new Error(
        unsynced.length === 0
          ? 'caches have not synced yet'
          : `caches have not synced yet: ${describeUnsynced(unsynced)}`,
      );
    });
    // Parse now so a bad address fails at construction, not halfway through start().
    parseBindAddress(opts.metricsBindAddress ?? ':8080');
    parseBindAddress(opts.healthProbeBindAddress ?? ':8081');
  }

  static #defaultRegistry(): Registry {
    const r = new Registry();
    // The event-loop delay is sampled every 100 ms rather than prom-client's 10 ms: a timer
    // every 10 ms was most of an idle operator's CPU (4 ms/s of 3.3-7), and delays that matter
    // to an operator last longer than 100 ms anyway.
    collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 100 });
    return r;
  }

  /** Builds a Manager. Nothing runs until `start`. */
  static async create(opts: ManagerOptions): Promise<Manager> {
    const mgr = new Manager(opts);
    const le = opts.leaderElection;
    if (le?.enabled) {
      if (!le.id) throw new RangeError('leader election needs an id (the Lease name)');
      mgr.#elector = new LeaderElector({
        client: le.client ?? opts.client ?? mgr.#leaderElectionClient(le),
        namespace: le.namespace ?? inClusterNamespace() ?? 'default',
        name: le.id,
        identity: le.identity,
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        releaseOnCancel: le.releaseOnCancel ?? true,
        clock: opts.clock,
        logger: mgr.logger.child({ component: 'leader-election' }),
        registry: mgr.registry,
        onStartedLeading: () => mgr.#onStartedLeading?.(),
      });
      const elector = mgr.#elector;
      mgr.#readyz.set('leader-election', () => {
        const err = elector.check(2_000);
        if (err) throw err;
      });
    }
    return mgr;
  }

  // A client of its own for the Lease: own token bucket, own keep-alive connections, and a
  // request timeout of half the renew deadline (client-go's), so one stuck request cannot eat
  // the whole deadline. Its requests are counted in the same rest_client_* metrics.
  #leaderElectionClient(le: LeaderElectionOptions): Client {
    const renewDeadlineMs = le.renewDeadlineMs ?? 10_000;
    return (this.#leaderElectionKubeClient = new KubeClient(this.#opts.kubeConfig, {
      qps: le.qps ?? 5,
      burst: le.burst ?? 10,
      registry: this.registry,
      clock: this.#opts.clock,
      userAgent: 'steward/leader-election',
      requestTimeoutMs: Math.max(1_000, renewDeadlineMs / 2),
    }));
  }

  /** Starts declaring a controller; see `ControllerBuilder`. */
  controller(name: string): ControllerBuilder {
    if (this.#controllers.some((c) => c.controller.name === name)) {
      throw new Error(`a controller named ${name} already exists`);
    }
    return new ControllerBuilder(name, {
      cache: this.cache,
      controllerDefaults: { logger: this.logger, registry: this.registry, clock: this.#opts.clock },
      addController: (controller, watch, informers) =>
        this.#controllers.push({ controller, watch, informers }),
    });
  }

  /** An event recorder whose events name `component` as their source. */
  eventRecorder(component: string): EventRecorder {
    return new EventRecorder(this.client, {
      component,
      instance: this.#elector?.identity ?? hostname(),
      clock: this.#opts.clock,
      logger: this.logger,
    });
  }

  /** Adds a liveness check, served at /healthz. */
  addHealthCheck(name: string, check: Check): void {
    this.#healthz.set(name, check);
  }

  /** Adds a readiness check, served at /readyz with the defaults (caches synced, leader election). */
  addReadyCheck(name: string, check: Check): void {
    this.#readyz.set(name, check);
  }

  /** Adds something to run with the Manager. */
  add(runnable: Runnable): void {
    this.#runnables.push(runnable);
  }

  /** The identity used for leader election, if enabled. */
  get identity(): string | undefined {
    return this.#elector?.identity;
  }

  /** Whether this process leads (always true once started without leader election). */
  isLeader(): boolean {
    return this.#elector ? this.#elector.isLeader() : this.#started;
  }

  /** `host:port` the metrics server listens on, once started (useful with port 0). */
  get metricsAddress(): string | undefined {
    return this.#metricsAddress;
  }

  get healthAddress(): string | undefined {
    return this.#healthAddress;
  }

  /**
   * Starts caches, servers, leader election and controllers; resolves after a graceful stop once
   * `signal` aborts, rejects with `LeaderElectionLostError` when the Lease is lost.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error('the manager was already started');
    this.#started = true;
    const log = this.logger;
    const servers = await this.#startServers();
    const cacheStop = new AbortController();
    const cacheRun = this.cache.start(cacheStop.signal);
    const leaderStop = new AbortController();
    const leaderRuns: LeaderRun[] = [];
    let lost = false;
    let leading = false;
    const everyReplica = this.#runnables.filter((r) => r.needLeaderElection === false);
    const replicaStop = new AbortController();
    const replicaRuns = everyReplica.map((r, i) =>
      track(`runnable ${i} (every replica)`, r.start(replicaStop.signal)),
    );
    const startLeading = () => {
      leading = true;
      log.info('Starting controllers', { controllers: this.#controllers.map((c) => c.controller.name) });
      for (const { controller, watch } of this.#controllers) {
        const registrations = watch(controller);
        leaderRuns.push(
          track(
            `controller ${controller.name}`,
            controller.start(leaderStop.signal).finally(() => registrations.forEach((r) => r.remove())),
          ),
        );
      }
      this.#runnables.forEach((r, i) => {
        if (r.needLeaderElection !== false)
          leaderRuns.push(track(`runnable ${i}`, r.start(leaderStop.signal)));
      });
    };
    const stopNow = () => {
      for (const { controller } of this.#controllers) controller.abortInFlight(new LeaderElectionLostError());
      leaderStop.abort();
    };

    let electorRun: Promise<void> | undefined;
    const electorStop = new AbortController();
    try {
      log.info('Waiting for caches to sync');
      // A CacheSyncTimeoutError ends start(); the caller logs it (cmd/manager.ts does, once).
      if (await waitForSync(this.#syncTargets(), this.#clock, signal)) {
        this.#cacheSynced = true;
        log.info('Caches synced');
        if (this.#elector === undefined) {
          startLeading();
          await aborted(signal);
        } else {
          this.#onStartedLeading = startLeading;
          electorRun = this.#elector.run(electorStop.signal);
          // The elector's run ends only when stopped or when leadership is lost.
          await Promise.race([electorRun, aborted(signal)]);
          if (!signal.aborted && leading) {
            lost = true;
            log.error('Leader election lost: stopping reconciles now');
            stopNow();
          }
        }
      }
    } finally {
      // Graceful stop: no new work; in-flight reconciles and runnables share one budget of
      // gracefulShutdownTimeoutMs, as in controller-runtime, whatever ignores its signal.
      const deadline = monotonicNow(this.#clock) + this.#gracefulShutdownTimeoutMs;
      leaderStop.abort();
      await this.#drain(leaderRuns, deadline);
      electorStop.abort();
      await electorRun;
      replicaStop.abort();
      await this.#abandonLate(replicaRuns, deadline);
      cacheStop.abort();
      await cacheRun;
      await Promise.all(servers.map((s) => s.close()));
      this.#leaderElectionKubeClient?.close();
      log.info('Manager stopped');
    }
    if (lost) throw new LeaderElectionLostError();
  }

  // Every informer registered so far, each with the shortest cacheSyncTimeoutMs among the
  // controllers that watch it (the Manager's default for the rest).
  #syncTargets(): SyncTarget[] {
    const timeouts = new Map<SharedInformer, number>();
    for (const { controller, informers } of this.#controllers) {
      if (controller.cacheSyncTimeoutMs === undefined) continue;
      for (const inf of informers) {
        timeouts.set(inf, Math.min(timeouts.get(inf) ?? Infinity, controller.cacheSyncTimeoutMs));
      }
    }
    return this.cache.informers().map((informer) => ({
      informer,
      timeoutMs: timeouts.get(informer) ?? this.#cacheSyncTimeoutMs,
    }));
  }

  /**
   * Waits for the leader's controllers and runnables to finish, until `deadline` (monotonic)
   * at most. When it passes, the signals of in-flight reconciles are aborted and whatever
   * still runs is abandoned: a reconcile that ignores its signal must not keep the process
   * (or, after a lost Lease, a replacement) waiting without bound.
   */
  async #drain(runs: LeaderRun[], deadline: number): Promise<void> {
    if (runs.length === 0) return;
    const finished = Promise.all(runs.map((r) => r.done));
    if (await this.#settledBy(finished, deadline)) return;
    for (const { controller } of this.#controllers) controller.abortInFlight();
    // One turn of the event loop for reconciles that honour their signal to settle.
    await Promise.race([finished, new Promise((resolve) => setImmediate(resolve))]);
    const stuck = runs.filter((r) => !r.settled).map((r) => r.name);
    const timeoutMs = this.#gracefulShutdownTimeoutMs;
    if (stuck.length > 0) {
      this.logger.error('Graceful shutdown timed out; abandoning reconciles that ignore their signal', {
        timeoutMs,
        stuck,
      });
    } else {
      this.logger.warn('Graceful shutdown timed out; in-flight reconciles were aborted', { timeoutMs });
    }
  }

  /** Waits for `runs` until `deadline` (monotonic); then names and abandons those still running. */
  async #abandonLate(runs: LeaderRun[], deadline: number): Promise<void> {
    if (runs.length === 0) return;
    if (await this.#settledBy(Promise.all(runs.map((r) => r.done)), deadline)) return;
    this.logger.error('Graceful shutdown timed out; abandoning runnables that ignore their signal', {
      timeoutMs: this.#gracefulShutdownTimeoutMs,
      stuck: runs.filter((r) => !r.settled).map((r) => r.name),
    });
  }

  /** True if `p` settles before `deadline` (monotonic), false once it passes. */
  async #settledBy(p: Promise<unknown>, deadline: number): Promise<boolean> {
    let timer: Timer | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve(false), deadline - monotonicNow(this.#clock));
    });
    const settled = await Promise.race([p.then(() => true), late]);
    if (timer !== undefined) this.#clock.clearTimeout(timer);
    return settled;
  }

  // Rejects with a BindError naming the option and address when a port cannot be bound (the
  // servers already started are closed first).
  async #startServers(): Promise<HttpServer[]> {
    const servers: HttpServer[] = [];
    const listen = async (
      option: string,
      address: string,
      server: HttpServer,
    ): Promise<string | undefined> => {
      const addr = parseBindAddress(address);
      if (addr === undefined) return undefined;
      try {
        const a = await server.listen(addr);
        servers.push(server);
        return `${a.address}:${a.port}`;
      } catch (err) {
        await Promise.all(servers.map((x) => x.close()));
        throw new BindError(option, address, err);
      }
    };
    this.#metricsAddress = await listen(
      'metricsBindAddress',
      this.#opts.metricsBindAddress ?? ':8080',
      metricsServer(this.registry),
    );
    if (this.#metricsAddress) this.logger.info('Serving metrics', { address: this.#metricsAddress });
    this.#healthAddress = await listen(
      'healthProbeBindAddress',
      this.#opts.healthProbeBindAddress ?? ':8081',
      healthServer(this.#healthz, this.#readyz),
    );
    if (this.#healthAddress) this.logger.info('Serving health probes', { address: this.#healthAddress });
    return servers;
  }
}
