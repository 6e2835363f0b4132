import type { KubernetesObject } from '../client/object.js';
import { describeValue } from '../util/options.js';

/** Computes the index values of an object; an object may sit under several values or none. */
export type IndexFunc<T extends KubernetesObject = KubernetesObject> = (obj: T) => string[];

/** An index function threw for an object; `cause` is what it threw. */
export class IndexFunctionError extends Error {
  readonly code = 'ERR_INDEX_FUNCTION';
  constructor(
    readonly index: string,
    readonly key: string,
    cause: unknown,
  ) {
    super(
      `index function ${JSON.stringify(index)} threw for ${key}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'IndexFunctionError';
  }
}

/** Options of `Store`. */
export interface StoreOptions<T extends KubernetesObject = KubernetesObject> {
  /**
   * Called when an index function throws (or returns something that is not an array). The
   * object is stored all the same, with no values in that index, so the store stays consistent.
   * Default: `set` (or `addIndexer`) throws an `IndexFunctionError` once it has finished.
   */
  onIndexError?: (err: IndexFunctionError, obj: T) => void;
}

function sameValues(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The key objects are stored under: `namespace/name`, or `name` when cluster-scoped. */
export function storeKeyOf(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/**
 * A keyed object store with secondary indexes (client-go's thread-safe store + indexer). Values
 * are stored as given; the informer stores frozen objects, so the store never copies.
 *
 * Invariant: for every index `n` and every stored key `k`, `#indices[n][v]` contains `k` exactly
 * for the values `v` in `#indexValues[n][k]`, which is what the index function returned when
 * `k` was last stored (none if it threw then). A throwing index function therefore never leaves
 * an index half updated or pointing at an older version of the object.
 */
export class Store<T extends KubernetesObject = KubernetesObject> {
  #items = new Map<string, T>();
  #indexers = new Map<string, IndexFunc<T>>();
  #indices = new Map<string, Map<string, Set<string>>>();
  #indexValues = new Map<string, Map<string, string[]>>();
  #onIndexError: ((err: IndexFunctionError, obj: T) => void) | undefined;

  constructor(indexers: Record<string, IndexFunc<T>> = {}, opts: StoreOptions<T> = {}) {
    this.#onIndexError = opts.onIndexError;
    for (const [name, fn] of Object.entries(indexers)) this.addIndexer(name, fn);
  }

  /** Adds an index and builds it over the current contents. Names are unique. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.#indexers.has(name)) throw new Error(`indexer ${JSON.stringify(name)} already exists`);
    this.#indexers.set(name, fn);
    this.#indices.set(name, new Map());
    this.#indexValues.set(name, new Map());
    let failed: IndexFunctionError | undefined;
    for (const [key, obj] of this.#items) failed = this.#indexOne(name, fn, key, obj) ?? failed;
    if (failed !== undefined) throw failed;
  }

  /** Whether an index of this name exists. */
  hasIndexer(name: string): boolean {
    return this.#indexers.has(name);
  }

  get size(): number {
    return this.#items.size;
  }

  /** The object stored under `key` (`namespace/name`, or `name` for cluster-scoped kinds). */
  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  /** Whether an object is stored under `key`. */
  has(key: string): boolean {
    return this.#items.has(key);
  }

  /** Every stored object (a new array). */
  list(): T[] {
    return [...this.#items.values()];
  }

  /** Every key (a new array). */
  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** Every stored object, without copying the list. */
  values(): IterableIterator<T> {
    return this.#items.values();
  }

  /** Objects whose index `name` produced `value`. Throws for an unknown index. */
  byIndex(name: string, value: string): T[] {
    return this.indexKeys(name, value).map((k) => this.#items.get(k)!);
  }

  /** Keys of the objects whose index `name` produced `value`. */
  indexKeys(name: string, value: string): string[] {
    const index = this.#indices.get(name);
    if (!index) throw new Error(`no indexer ${JSON.stringify(name)}`);
    return [...(index.get(value) ?? [])];
  }

  /**
   * Stores `obj` under `key`, returning the object it replaced. If an index function throws,
   * see `StoreOptions.onIndexError`.
   */
  set(key: string, obj: T): T | undefined {
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    let failed: IndexFunctionError | undefined;
    for (const [name, fn] of this.#indexers) failed = this.#reindexOne(name, fn, key, obj) ?? failed;
    if (failed !== undefined) throw failed;
    return old;
  }

  /** Removes `key`, returning the object it held. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#items.delete(key);
    for (const name of this.#indexers.keys()) this.#unindexOne(name, key);
    return old;
  }

  /**
   * Indexes one object; the index is untouched if `fn` throws. Returns the error to throw when
   * there is no `onIndexError` to hand it to.
   */
  #indexOne(name: string, fn: IndexFunc<T>, key: string, obj: T): IndexFunctionError | undefined {
    const values = this.#valuesOf(name, fn, key, obj);
    if (values instanceof IndexFunctionError) return values;
    this.#addValues(name, key, values);
    return undefined;
  }

  /**
   * Re-indexes `key` for its new object. Most updates leave an object's index values as they
   * were (its namespace, owner, labels): then the index is not touched at all.
   */
  #reindexOne(name: string, fn: IndexFunc<T>, key: string, obj: T): IndexFunctionError | undefined {
    const values = this.#valuesOf(name, fn, key, obj);
    if (values instanceof IndexFunctionError) {
      this.#unindexOne(name, key);
      return values;
    }
    const current = this.#indexValues.get(name)!.get(key) ?? [];
    if (sameValues(current, values)) return undefined;
    this.#unindexOne(name, key);
    this.#addValues(name, key, values);
    return undefined;
  }

  /**
   * What `fn` returns for `obj`, without duplicates; on a throw, the error to throw when there
   * is no `onIndexError` to hand it to (or one already handed to it, then an empty list).
   */
  #valuesOf(name: string, fn: IndexFunc<T>, key: string, obj: T): string[] | IndexFunctionError {
    try {
      const returned: unknown = fn(obj);
      // Checked, not trusted: a string is iterable too, and would index the object under
      // each of its characters.
      if (!Array.isArray(returned) || !returned.every((v) => typeof v === 'string'))
        throw new TypeError(`returned ${describeValue(returned)}, not an array of strings`);
      const values = returned as string[];
      // A copy: the function may hand out an array it changes later.
      return values.length < 2 ? values.slice() : [...new Set(values)];
    } catch (cause) {
      const err = new IndexFunctionError(name, key, cause);
      if (this.#onIndexError === undefined) return err;
      this.#onIndexError(err, obj);
      return [];
    }
  }

  #addValues(name: string, key: string, values: string[]): void {
    if (values.length === 0) return;
    const index = this.#indices.get(name)!;
    this.#indexValues.get(name)!.set(key, values);
    for (const v of values) {
      let set = index.get(v);
      if (!set) index.set(v, (set = new Set()));
      set.add(key);
    }
  }

  #unindexOne(name: string, key: string): void {
    const byKey = this.#indexValues.get(name)!;
    const values = byKey.get(key);
    if (!values) return;
    byKey.delete(key);
    const index = this.#indices.get(name)!;
    for (const v of values) {
      const set = index.get(v);
      if (!set) continue;
      set.delete(key);
      if (set.size === 0) index.delete(v);
    }
  }
}
