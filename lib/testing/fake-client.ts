/**
 * An in-memory `Client` for users' unit tests: the same interface as `KubeClient`, with the API
 * server's bookkeeping (resourceVersions, uids, generation, the status subresource, finalizers,
 * optimistic concurrency, selectors, pagination and watch) but no server. Prefer the real
 * control plane (`startControlPlane`) for anything where admission, validation, defaulting,
 * garbage collection or exact server-side apply semantics matter: the fake has none of them.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { applyJsonPatch, applyMergePatch, JsonPatchError } from '../client/apply-patch.js';
import type {
  Client,
  DeleteOptions,
  GetOptions,
  ListOptions,
  PatchOptions,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../client/client.js';
import type { StatusError } from '../client/errors.js';
import { statusErrorFrom } from '../client/errors.js';
import type { GVK } from '../client/gvk.js';
import { apiVersionOf, gvkOf, gvkString } from '../client/gvk.js';
import type { KubernetesObject, ObjectKey, ObjectList } from '../client/object.js';
import { objectKeyOf } from '../client/object.js';
import type { Patch } from '../client/patch.js';
import type { ResourceMapping } from '../client/rest-mapper.js';
import { StaticRESTMapper } from '../client/rest-mapper.js';
import { fieldMatcher, labelMatcher } from '../client/selectors.js';
import { rfc3339Time } from '../client/time.js';
import type { Clock } from '../util/clock.js';
import { realClock } from '../util/clock.js';
import { WatchHub } from './fake-watch.js';

/** The request kinds a `FakeReactor` sees. */
export type FakeVerb =
  'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'updateStatus' | 'patchStatus';

/** A request as the fake sees it, for reactors. */
export interface FakeAction {
  verb: FakeVerb;
  gvk: GVK;
  namespace?: string;
  name?: string;
  object?: KubernetesObject;
}

/** Runs before the fake handles a request; returning (or throwing) an error fails the request with it. */
export type FakeReactor = (action: FakeAction) => Error | undefined | void;

/** Options of `FakeClient`. */
export interface FakeClientOptions {
  /** Objects present from the start (each needs apiVersion, kind and name). */
  objects?: KubernetesObject[];
  /** Kinds beyond the built-ins (CRDs). Unknown kinds are treated as namespaced. */
  kinds?: ResourceMapping[];
  /** For creation and deletion timestamps. Default the real clock. */
  clock?: Clock;
  /** Watch history kept for resuming watches; older resourceVersions get 410 Gone. Default 10 000 events. */
  historyLimit?: number;
}

/**
 * What the API server answers a write asked with `metadataOnlyResponse`: the object's metadata
 * as a `PartialObjectMetadata`, so that code under test sees the same shape it gets from a real
 * server.
 */
function answer<T extends KubernetesObject>(obj: T, opts: WriteOptions): T {
  if (!opts.metadataOnlyResponse) return obj;
  return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: obj.metadata } as T;
}

/**
 * A deep copy. The API server stores objects nested up to 10,000 levels, deeper than
 * structuredClone's recursion goes: those are copied without recursion (they are JSON data).
 */
function clone<T>(v: T): T {
  try {
    return structuredClone(v);
  } catch (err) {
    if ((err as Error | undefined)?.name !== 'RangeError') throw err;
    return cloneJsonData(v);
  }
}

function cloneJsonData<T>(root: T): T {
  const copyOf = (v: unknown): unknown =>
    v === null || typeof v !== 'object' ? v : v instanceof Date ? new Date(v) : Array.isArray(v) ? [] : {};
  const out = copyOf(root);
  const todo: Array<[unknown, unknown]> = [[root, out]];
  while (todo.length > 0) {
    const [from, to] = todo.pop()!;
    if (from === null || typeof from !== 'object' || from instanceof Date) continue;
    for (const [k, v] of Object.entries(from)) {
      const c = copyOf(v);
      (to as Record<string, unknown>)[k] = c;
      todo.push([v, c]);
    }
  }
  return out as T;
}

function fail(status: number, reason: string, message: string): StatusError {
  return statusErrorFrom({
    status,
    reason,
    body: { kind: 'Status', status: 'Failure', code: status, reason, message },
  });
}

// Everything except metadata and status; a change here is a spec change and bumps generation.
function specOf(obj: KubernetesObject): object {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

export class FakeClient implements Client {
  #mapper: StaticRESTMapper;
  #clock: Clock;
  // kind key (group/kind) -> store key (ns/name or name) -> object
  #objects = new Map<string, Map<string, KubernetesObject>>();
  #rv = 0;
  #hub: WatchHub;
  #reactors: FakeReactor[] = [];

  constructor(opts: FakeClientOptions = {}) {
    this.#mapper = new StaticRESTMapper();
    for (const k of opts.kinds ?? []) this.#mapper.add(k);
    this.#clock = opts.clock ?? realClock;
    this.#hub = new WatchHub(opts.historyLimit ?? 10_000);
    for (const obj of opts.objects ?? []) this.#insert(clone(obj));
  }

  /** Adds a reactor that runs before the others; returns a function that removes it. */
  prependReactor(reactor: FakeReactor): () => void {
    this.#reactors.unshift(reactor);
    return () => {
      this.#reactors = this.#reactors.filter((r) => r !== reactor);
    };
  }

  /** The current resourceVersion (the last write's). */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Open watches. */
  get watchCount(): number {
    return this.#hub.count;
  }

  /** Forgets watch history: resuming a watch from any version up to now gets 410 Gone (etcd compaction). */
  compact(): void {
    this.#hub.compact(this.#rv);
  }

  /** Ends every open watch, as the server does at a watch timeout or restart. */
  closeWatches(): void {
    this.#hub.closeAll();
  }

  /**
   * While silent, open watches receive nothing (a proxy that stopped forwarding); writes still
   * happen and are delivered to watches opened later, which resume from their resourceVersion.
   */
  setWatchesSilent(silent: boolean): void {
    this.#hub.setSilent(silent);
  }

  /** Sends a BOOKMARK with the current resourceVersion to every open watch. */
  bookmark(): void {
    this.#hub.bookmark(this.#rv);
  }

  async isNamespaced(gvk: GVK): Promise<boolean> {
    return this.#mapper.lookup(gvk)?.namespaced ?? true;
  }

  async get<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    key: ObjectKey,
    _opts?: GetOptions,
  ): Promise<T> {
    this.#react({ verb: 'get', gvk, namespace: key.namespace, name: key.name });
    const obj = this.#bucket(gvk).get(this.#storeKey(gvk, key.namespace, key.name));
    if (!obj) throw this.#notFound(gvk, key.name);
    return clone(obj) as T;
  }

  async list<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    opts: ListOptions = {},
  ): Promise<ObjectList<T>> {
    this.#react({ verb: 'list', gvk, namespace: opts.namespace });
    const matches = this.#matcher(opts);
    const all = [...this.#bucket(gvk).entries()]
      .filter(([, o]) => (!opts.namespace || o.metadata?.namespace === opts.namespace) && matches(o))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const start = opts.continue
      ? all.findIndex(([k]) => k > Buffer.from(opts.continue!, 'base64url').toString())
      : 0;
    const from = start < 0 ? all.length : start;
    const page = opts.limit && opts.limit > 0 ? all.slice(from, from + opts.limit) : all.slice(from);
    const more = from + page.length < all.length;
    return {
      apiVersion: apiVersionOf(gvk),
      kind: `${gvk.kind}List`,
      metadata: {
        resourceVersion: String(this.#rv),
        ...(more
          ? {
              continue: Buffer.from(page[page.length - 1]![0]).toString('base64url'),
              remainingItemCount: all.length - from - page.length,
            }
          : {}),
      },
      items: page.map(([, o]) => clone(o) as T),
    };
  }

  async create<T extends KubernetesObject>(obj: T, opts: WriteOptions = {}): Promise<T & KubernetesObject> {
    return answer(await this.#create(obj, opts), opts);
  }

  async #create<T extends KubernetesObject>(obj: T, opts: WriteOptions): Promise<T & KubernetesObject> {
    const gvk = gvkOf(obj);
    this.#react({
      verb: 'create',
      gvk,
      namespace: obj.metadata?.namespace,
      name: obj.metadata?.name,
      object: obj,
    });
    const o = clone(obj) as KubernetesObject;
    o.metadata ??= {};
    if (!o.metadata.name) {
      if (!o.metadata.generateName)
        throw fail(422, 'Invalid', 'metadata.name: Required value: name or generateName is required');
      o.metadata.name = o.metadata.generateName + randomUUID().slice(0, 5);
    }
    if (await this.isNamespaced(gvk)) {
      if (!o.metadata.namespace) throw fail(422, 'Invalid', 'metadata.namespace: Required value');
    } else delete o.metadata.namespace;
    const key = this.#storeKey(gvk, o.metadata.namespace, o.metadata.name);
    if (this.#bucket(gvk).has(key)) {
      throw fail(409, 'AlreadyExists', `${gvk.kind.toLowerCase()} "${o.metadata.name}" already exists`);
    }
    delete o.metadata.resourceVersion;
    if (opts.dryRun) return o as T;
    return clone(this.#insert(o)) as T;
  }

  async update<T extends KubernetesObject>(obj: T, opts: WriteOptions = {}): Promise<T & KubernetesObject> {
    return answer(await this.#update(obj, 'update', opts), opts);
  }

  async updateStatus<T extends KubernetesObject>(
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T & KubernetesObject> {
    return answer(await this.#update(obj, 'updateStatus', opts), opts);
  }

  async patch<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    key: ObjectKey,
    patch: Patch,
    opts: PatchOptions = {},
  ): Promise<T> {
    return answer(await this.#patch<T>(gvk, key, patch, opts, 'patch'), opts);
  }

  async patchStatus<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    key: ObjectKey,
    patch: Patch,
    opts: PatchOptions = {},
  ): Promise<T> {
    return answer(await this.#patch<T>(gvk, key, patch, opts, 'patchStatus'), opts);
  }

  /**
   * Server-side apply, approximated: creates the object if missing, else merge-patches it with
   * `obj`. There is no field ownership, so no apply conflicts and no removal of fields a manager
   * stopped applying.
   */
  async apply<T extends KubernetesObject>(
    obj: T,
    opts: { fieldManager: string; force?: boolean; dryRun?: boolean },
  ): Promise<T & KubernetesObject> {
    const gvk = gvkOf(obj);
    const key = objectKeyOf(obj);
    if (!this.#bucket(gvk).has(this.#storeKey(gvk, key.namespace, key.name))) return this.#create(obj, opts);
    return this.#patch(
      gvk,
      key,
      { type: 'apply', body: obj, fieldManager: opts.fieldManager, force: opts.force },
      opts,
      'patch',
    );
  }

  async delete(gvk: GVK, key: ObjectKey, opts: DeleteOptions = {}): Promise<void> {
    this.#react({ verb: 'delete', gvk, namespace: key.namespace, name: key.name });
    const storeKey = this.#storeKey(gvk, key.namespace, key.name);
    const cur = this.#bucket(gvk).get(storeKey);
    if (!cur) throw this.#notFound(gvk, key.name);
    const pre = opts.preconditions;
    if (
      (pre?.uid && pre.uid !== cur.metadata?.uid) ||
      (pre?.resourceVersion && pre.resourceVersion !== cur.metadata?.resourceVersion)
    ) {
      throw fail(409, 'Conflict', `Precondition failed: UID or resourceVersion mismatch for ${key.name}`);
    }
    if (opts.dryRun) return;
    if ((cur.metadata?.finalizers?.length ?? 0) > 0) {
      // Finalizers hold the object: mark it, and delete it when the last finalizer is removed.
      if (cur.metadata!.deletionTimestamp) return;
      const next = clone(cur);
      next.metadata!.deletionTimestamp = rfc3339Time(this.#clock.now());
      next.metadata!.deletionGracePeriodSeconds = 0;
      this.#write(gvk, storeKey, next, cur);
      return;
    }
    this.#remove(gvk, storeKey, cur);
  }

  watch<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    opts: WatchOptions = {},
  ): AsyncIterable<WatchEvent<T>> {
    this.#react({ verb: 'watch', gvk, namespace: opts.namespace });
    const sel = this.#matcher(opts);
    const matches = (o: KubernetesObject): boolean =>
      (!opts.namespace || o.metadata?.namespace === opts.namespace) && sel(o);
    return this.#hub.open(
      this.#kindKey(gvk),
      gvk,
      matches,
      opts.resourceVersion ? Number(opts.resourceVersion) : undefined,
      () => [...this.#bucket(gvk).values()].map(clone),
      opts.signal,
    ) as AsyncIterable<WatchEvent<T>>;
  }

  async #update<T extends KubernetesObject>(
    obj: T,
    verb: 'update' | 'updateStatus',
    opts: WriteOptions,
  ): Promise<T & KubernetesObject> {
    const gvk = gvkOf(obj);
    const key = objectKeyOf(obj);
    this.#react({ verb, gvk, namespace: key.namespace, name: key.name, object: obj });
    const storeKey = this.#storeKey(gvk, key.namespace, key.name);
    const cur = this.#bucket(gvk).get(storeKey);
    if (!cur) throw this.#notFound(gvk, key.name);
    const rv = obj.metadata?.resourceVersion;
    if (rv && rv !== cur.metadata?.resourceVersion) throw this.#conflict(gvk, key.name);
    return this.#commit<T>(gvk, storeKey, cur, clone(obj) as KubernetesObject, verb === 'updateStatus', opts);
  }

  async #patch<T>(
    gvk: GVK,
    key: ObjectKey,
    patch: Patch,
    opts: PatchOptions,
    verb: 'patch' | 'patchStatus',
  ): Promise<T> {
    this.#react({ verb, gvk, namespace: key.namespace, name: key.name });
    const storeKey = this.#storeKey(gvk, key.namespace, key.name);
    const cur = this.#bucket(gvk).get(storeKey);
    if (!cur) throw this.#notFound(gvk, key.name);
    let next: KubernetesObject;
    try {
      next = (
        patch.type === 'json' ? applyJsonPatch(cur, patch.ops) : applyMergePatch(cur, patch.body)
      ) as KubernetesObject;
    } catch (err) {
      if (err instanceof JsonPatchError) throw fail(422, 'Invalid', err.message);
      throw err;
    }
    // A patch that names a resourceVersion is a conditional write, as on the server.
    const rv = next.metadata?.resourceVersion;
    if (rv && rv !== cur.metadata?.resourceVersion) throw this.#conflict(gvk, key.name);
    return this.#commit<T>(gvk, storeKey, cur, next, verb === 'patchStatus', opts);
  }

  // Applies the API server's rules for a write to an existing object and stores the result.
  #commit<T>(
    gvk: GVK,
    storeKey: string,
    cur: KubernetesObject,
    next: KubernetesObject,
    statusOnly: boolean,
    opts: WriteOptions,
  ): T {
    let out: KubernetesObject;
    if (statusOnly) {
      out = clone(cur);
      if (next.status === undefined) delete out.status;
      else out.status = next.status;
    } else {
      out = next;
      if (cur.status === undefined) delete out.status;
      else out.status = clone(cur.status);
    }
    const meta = (out.metadata ??= {});
    const was = cur.metadata ?? {};
    // Fields only the server sets keep their stored values (absent stays absent).
    for (const f of [
      'name',
      'namespace',
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
    ] as const) {
      if (was[f] === undefined) delete meta[f];
      else (meta as Record<string, unknown>)[f] = was[f];
    }
    if (!statusOnly && !isDeepStrictEqual(specOf(out), specOf(cur)))
      meta.generation = (was.generation ?? 1) + 1;
    if (opts.dryRun) return clone(out) as T;
    if (meta.deletionTimestamp && (meta.finalizers?.length ?? 0) === 0) {
      this.#remove(gvk, storeKey, cur);
      return clone(out) as T;
    }
    meta.resourceVersion = was.resourceVersion;
    // A no-op write keeps the resourceVersion and sends no event, as on the server.
    if (isDeepStrictEqual(out, cur)) return clone(out) as T;
    return clone(this.#write(gvk, storeKey, out, cur)) as T;
  }

  #insert(obj: KubernetesObject): KubernetesObject {
    const gvk = gvkOf(obj);
    const meta = (obj.metadata ??= {});
    meta.uid ??= randomUUID();
    meta.creationTimestamp ??= rfc3339Time(this.#clock.now());
    meta.generation ??= 1;
    return this.#write(gvk, this.#storeKey(gvk, meta.namespace, meta.name ?? ''), obj, undefined);
  }

  #write(
    gvk: GVK,
    storeKey: string,
    obj: KubernetesObject,
    old: KubernetesObject | undefined,
  ): KubernetesObject {
    obj.metadata!.resourceVersion = String(++this.#rv);
    this.#bucket(gvk).set(storeKey, obj);
    this.#hub.record({
      rv: this.#rv,
      kindKey: this.#kindKey(gvk),
      type: old ? 'MODIFIED' : 'ADDED',
      obj: clone(obj),
      old,
    });
    return obj;
  }

  #remove(gvk: GVK, storeKey: string, cur: KubernetesObject): void {
    this.#bucket(gvk).delete(storeKey);
    const last = clone(cur);
    last.metadata!.resourceVersion = String(++this.#rv);
    this.#hub.record({ rv: this.#rv, kindKey: this.#kindKey(gvk), type: 'DELETED', obj: last, old: cur });
  }

  #react(action: FakeAction): void {
    for (const r of this.#reactors) {
      const err = r(action);
      if (err) throw err;
    }
  }

  #matcher(opts: {
    labelSelector?: ListOptions['labelSelector'];
    fieldSelector?: ListOptions['fieldSelector'];
  }): (o: KubernetesObject) => boolean {
    const labels = labelMatcher(opts.labelSelector);
    const fields = fieldMatcher(opts.fieldSelector);
    return (o) => labels(o.metadata?.labels) && fields(o);
  }

  #kindKey(gvk: GVK): string {
    return `${gvk.group}/${gvk.kind}`;
  }

  #bucket(gvk: GVK): Map<string, KubernetesObject> {
    const k = this.#kindKey(gvk);
    let m = this.#objects.get(k);
    if (!m) this.#objects.set(k, (m = new Map()));
    return m;
  }

  #storeKey(gvk: GVK, namespace: string | undefined, name: string): string {
    const namespaced = this.#mapper.lookup(gvk)?.namespaced ?? true;
    return namespaced && namespace ? `${namespace}/${name}` : name;
  }

  #notFound(gvk: GVK, name: string): StatusError {
    return fail(404, 'NotFound', `${gvkString(gvk)} "${name}" not found`);
  }

  #conflict(gvk: GVK, name: string): StatusError {
    return fail(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${gvk.kind.toLowerCase()} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    );
  }
}
