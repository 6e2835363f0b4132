import type { Registry } from 'prom-client';
import type { GetOptions, ListerWatcher, ListOptions, Reader } from '../client/client.js';
import { NotFoundError } from '../client/errors.js';
import type { GVK } from '../client/gvk.js';
import { apiVersionOf, gvkString } from '../client/gvk.js';
import type { KubernetesObject, ObjectKey, ObjectList } from '../client/object.js';
import type { FieldSelectorInput, LabelSelectorInput } from '../client/selectors.js';
import { compileLabelSelector, formatFieldSelector, formatLabelSelector } from '../client/selectors.js';
import type { Clock } from '../util/clock.js';
import { realClock } from '../util/clock.js';
import { checkNumber } from '../util/options.js';
import { checkReflectorTuning } from './reflector-tuning.js';
import { CacheNotStartedError, NoInformerError } from './errors.js';
import { FIELD_INDEX_PREFIX, fieldIndexFunc, LABEL_INDEX_PREFIX, labelIndexFunc } from './indexers.js';
import type { IndexFunc } from './store.js';
import type { InformerOptions, ReflectorTuning } from './informer.js';
import { SharedInformer } from './informer.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { InformerMetrics } from './metrics.js';
import { selectFromStore } from './select.js';
import type { Transform } from './transform.js';

/** Options of `InformerCache`: the defaults every informer it creates gets. */
export interface InformerCacheOptions {
  /** Lists and watches; usually the `KubeClient`. `isNamespaced`, when present, lets
   * informers for cluster-scoped kinds ignore the namespace restriction. */
  client: ListerWatcher & {
    /** Whether a kind is namespaced (as `KubeClient.isNamespaced`). */
    isNamespaced?(gvk: GVK): Promise<boolean>;
  };
  /** Default namespaces for informers that do not name their own; omitted means all. */
  namespaces?: string[];
  /** Default resync period. Default 10 hours; 0 disables. */
  resyncPeriodMs?: number;
  /** Default transform. Default `dropManagedFields`; `false` stores objects as received. */
  transform?: Transform | false;
  reflector?: ReflectorTuning;
  /** Where to register informer metrics; none means no metrics. */
  registry?: Registry;
  clock?: Clock;
  /** Jitter source, for tests. Default `Math.random`. */
  random?: () => number;
  logger?: Logger;
}

/** Per-informer choices; each distinct combination gets its own informer. */
export interface InformerRequest {
  namespaces?: string[];
  labelSelector?: LabelSelectorInput;
  fieldSelector?: FieldSelectorInput;
  resyncPeriodMs?: number;
  transform?: Transform | false;
}

/**
 * Shared informers, one per GVK + selectors + namespace set, and a `Reader` over them.
 *
 * Reads never reach the API server and never start watches: `get`/`list` for a kind (or a
 * namespace) that no registered informer covers reject with `NoInformerError`. Reads wait for
 * the serving informer's initial sync.
 */
export class InformerCache implements Reader {
  #opts: InformerCacheOptions;
  #clock: Clock;
  #logger: Logger;
  #metrics: InformerMetrics | undefined;
  #informers = new Map<string, SharedInformer>();
  // Per kind (gvkString), the indexes every informer of the kind gets: index name → function.
  #indexes = new Map<string, Map<string, IndexFunc>>();
  #signal: AbortSignal | undefined;
  #runs: Promise<void>[] = [];

  constructor(opts: InformerCacheOptions) {
    checkNumber('InformerCache', 'resyncPeriodMs', opts.resyncPeriodMs);
    checkReflectorTuning('InformerCache', opts.reflector ?? {}, 'reflector.');
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#logger = opts.logger ?? silentLogger();
    this.#metrics = opts.registry ? new InformerMetrics(opts.registry) : undefined;
  }

  /** Gets or creates the informer for `gvk` with these choices; started at once if the cache runs. */
  informerFor<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    req: InformerRequest = {},
  ): SharedInformer<T> {
    const namespaces = [...new Set(req.namespaces ?? this.#opts.namespaces ?? [])].sort();
    const key = JSON.stringify([
      gvkString(gvk),
      namespaces,
      formatLabelSelector(req.labelSelector),
      formatFieldSelector(req.fieldSelector),
    ]);
    let inf = this.#informers.get(key);
    if (!inf) {
      const client = this.#opts.client;
      const opts: InformerOptions = {
        gvk,
        namespaces,
        labelSelector: req.labelSelector,
        fieldSelector: req.fieldSelector,
        resyncPeriodMs: req.resyncPeriodMs ?? this.#opts.resyncPeriodMs,
        transform: req.transform ?? this.#opts.transform,
        isNamespaced: client.isNamespaced ? () => client.isNamespaced!(gvk) : undefined,
        reflector: this.#opts.reflector,
        clock: this.#clock,
        random: this.#opts.random,
        logger: this.#logger,
        metrics: this.#metrics,
      };
      inf = new SharedInformer(client, opts);
      for (const [name, fn] of this.#indexes.get(gvkString(gvk)) ?? []) inf.addIndexer(name, fn);
      this.#informers.set(key, inf);
      if (this.#signal) this.#runs.push(inf.run(this.#signal));
    }
    return inf as unknown as SharedInformer<T>;
  }

  /**
   * Indexes `gvk` objects by `field` (any name; by convention a JSON path such as
   * `spec.nodeName`) so that `list(gvk, { fieldSelector: { [field]: value } })` is an index
   * lookup. Applies to existing and future informers of the kind.
   */
  indexField<T extends KubernetesObject>(gvk: GVK, field: string, extract: (obj: T) => string[]): void {
    this.#addIndex(gvk, FIELD_INDEX_PREFIX + field, `field index ${field}`, fieldIndexFunc(extract));
  }

  /**
   * Indexes `gvk` objects by the value of label `key`, so that a `list` whose label selector
   * requires `key=value` looks the objects up instead of scanning the namespace: a controller
   * that lists "the Jobs of this Session" by label on every reconcile does O(own objects) work,
   * not O(every cached object). Applies to existing and future informers of the kind. Costs an
   * index entry per labelled object; worth it for a label a reconciler lists by.
   */
  indexLabel(gvk: GVK, key: string): void {
    this.#addIndex(gvk, LABEL_INDEX_PREFIX + key, `label index ${key}`, labelIndexFunc(key));
  }

  #addIndex<T extends KubernetesObject>(gvk: GVK, name: string, what: string, fn: IndexFunc<T>): void {
    const k = gvkString(gvk);
    let m = this.#indexes.get(k);
    if (!m) this.#indexes.set(k, (m = new Map()));
    if (m.has(name)) throw new Error(`${what} for ${k} already exists`);
    m.set(name, fn as IndexFunc);
    for (const inf of this.#informers.values()) {
      if (gvkString(inf.gvk) === k) inf.addIndexer(name, fn as unknown as IndexFunc);
    }
  }

  /** Runs every informer, present and future, until `signal` aborts. Resolves after they stop. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#signal) throw new Error('the cache is already started');
    this.#signal = signal;
    for (const inf of this.#informers.values()) this.#runs.push(inf.run(signal));
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    // Informers added while we waited pushed their runs too.
    await Promise.all(this.#runs);
  }

  /** Resolves true once every informer registered so far has synced; false if `signal` aborts first. */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.#informers.values()].map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  /** Whether every informer registered so far has synced (without waiting). */
  hasSynced(): boolean {
    return [...this.#informers.values()].every((i) => i.hasSynced());
  }

  /** The informers created so far. */
  informers(): SharedInformer[] {
    return [...this.#informers.values()];
  }

  async get<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    key: ObjectKey,
    opts: GetOptions = {},
  ): Promise<T> {
    const inf = await this.#serving(gvk, key.namespace, opts.signal);
    // Cluster-scoped objects are stored by name alone; a namespace given for one is ignored.
    const obj =
      (key.namespace ? inf.store.get(`${key.namespace}/${key.name}`) : undefined) ?? inf.store.get(key.name);
    if (obj === undefined) {
      throw new NotFoundError({
        status: 404,
        reason: 'NotFound',
        message: `${gvkString(gvk)} ${key.namespace ? `${key.namespace}/` : ''}${key.name} not found in cache`,
      });
    }
    return obj as T;
  }

  /**
   * Lists from the informer of this kind (created on first use), with the selectors applied in
   * memory.
   */
  async list<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    opts: ListOptions = {},
  ): Promise<ObjectList<T>> {
    const inf = await this.#serving(gvk, opts.namespace, opts.signal);
    const items = selectFromStore(inf.store, {
      namespace: opts.namespace,
      labels: compileLabelSelector(opts.labelSelector),
      fieldSelector: opts.fieldSelector,
      gvk,
    });
    return {
      apiVersion: apiVersionOf(gvk),
      kind: `${gvk.kind}List`,
      metadata: { resourceVersion: inf.lastSyncResourceVersion },
      items: items as T[],
    };
  }

  // The informer that answers reads of `gvk` in `namespace`: one whose namespace set covers it,
  // preferring one without selectors (which sees every object).
  async #serving(gvk: GVK, namespace: string | undefined, signal?: AbortSignal): Promise<SharedInformer> {
    const k = gvkString(gvk);
    const candidates = [...this.#informers.values()].filter((i) => gvkString(i.gvk) === k);
    if (candidates.length === 0) throw new NoInformerError(gvk);
    if (!this.#signal) throw new CacheNotStartedError();
    // A read without a namespace is answered from whatever namespaces an informer watches
    // (controller-runtime's multi-namespace cache does the same).
    const covers = (i: SharedInformer): boolean =>
      namespace === undefined ||
      i.namespaces.length === 0 ||
      i.clusterScoped === true ||
      i.namespaces.includes(namespace);
    let covering = candidates.filter(covers);
    if (covering.length === 0) {
      // A namespace-restricted informer may turn out to serve a cluster-scoped kind once it has
      // asked the server; wait for those answers before refusing.
      const undecided = candidates.filter((i) => i.clusterScoped === undefined);
      await Promise.all(undecided.map((i) => i.waitForSync(signal)));
      covering = candidates.filter(covers);
    }
    if (covering.length === 0) {
      throw new NoInformerError(gvk, `in namespace ${namespace}`);
    }
    const unfiltered = (i: SharedInformer): boolean =>
      i.labelSelector === undefined && i.fieldSelector === undefined;
    const inf =
      covering.find((i) => unfiltered(i) && i.namespaces.length === 0) ??
      covering.find(unfiltered) ??
      covering[0]!;
    if (!(await inf.waitForSync(signal))) throw signal?.reason ?? new CacheNotStartedError();
    return inf;
  }
}
