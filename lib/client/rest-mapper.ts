import type { Clock } from '../util/clock.js';
import { monotonicNow, realClock } from '../util/clock.js';
import { checkNumber } from '../util/options.js';
import { BUILTIN_KINDS } from './builtin-kinds.js';
import { NoKindMatchError } from './errors.js';
import type { GVK } from './gvk.js';
import { apiVersionOf, gvkString } from './gvk.js';

/** Where a kind lives in the REST API. */
export interface ResourceMapping {
  readonly gvk: GVK;
  /** Lower-case plural resource name, e.g. `deployments`. */
  readonly resource: string;
  /** Namespaced kinds live under `/namespaces/{ns}/`; cluster-scoped ones do not. */
  readonly namespaced: boolean;
}

/** Maps a GVK to its resource. */
export interface RESTMapper {
  /** Rejects with `NoKindMatchError` when the kind is unknown. */
  mappingFor(gvk: GVK): Promise<ResourceMapping>;
}

/** A fixed table of mappings. Useful for tests and for clients that must never call discovery. */
export class StaticRESTMapper implements RESTMapper {
  #byKey = new Map<string, ResourceMapping>();

  constructor(mappings: Iterable<ResourceMapping> = BUILTIN_KINDS) {
    for (const m of mappings) this.add(m);
  }

  /** Adds (or replaces) the mapping of one kind, e.g. a CRD this process knows about. */
  add(mapping: ResourceMapping): void {
    this.#byKey.set(gvkString(mapping.gvk), mapping);
  }

  /** The mapping if known, without rejecting. */
  lookup(gvk: GVK): ResourceMapping | undefined {
    return this.#byKey.get(gvkString(gvk));
  }

  async mappingFor(gvk: GVK): Promise<ResourceMapping> {
    const m = this.lookup(gvk);
    if (!m) throw new NoKindMatchError(`no mapping for kind ${gvkString(gvk)}`);
    return m;
  }
}

/** One entry of an `APIResourceList` from discovery. */
export interface APIResource {
  name: string;
  namespaced: boolean;
  kind: string;
}

/**
 * Fetches `/api/v1` or `/apis/{group}/{version}`; resolves undefined when the server does not
 * serve that group version (404).
 */
export type DiscoveryFetcher = (groupVersion: string) => Promise<{ resources: APIResource[] } | undefined>;

/** Options of `DiscoveryRESTMapper`. */
export interface DiscoveryRESTMapperOptions {
  /** Mappings answered without discovery. Default: the stable built-in kinds. */
  static?: Iterable<ResourceMapping>;
  /**
   * How long a group version's discovery answer counts as fresh for a kind it did not list.
   * A miss older than this triggers one re-discovery, so a CRD installed after start is found,
   * while a tight loop asking for a missing kind costs at most one request per interval.
   * Default 10 000 ms.
   */
  missRefreshIntervalMs?: number;
  clock?: Clock;
}

interface GroupVersionEntry {
  /** Monotonic ms: a wall-clock step neither expires nor extends an answer. */
  fetchedAt: number;
  // kind -> mapping for the top-level resources of this group version (subresources skipped).
  kinds: Map<string, ResourceMapping>;
}

/**
 * GVK → resource through API discovery, cached per group version, with a static table for the
 * built-in kinds in front. Discovery is fetched lazily, one group version at a time, because a
 * controller touches a handful of kinds and the full discovery document is large. Concurrent
 * lookups of the same group version share one request.
 */
export class DiscoveryRESTMapper implements RESTMapper {
  #static: StaticRESTMapper;
  #fetch: DiscoveryFetcher;
  #clock: Clock;
  #missRefreshIntervalMs: number;
  #cache = new Map<string, GroupVersionEntry>();
  #inflight = new Map<string, Promise<GroupVersionEntry>>();

  constructor(fetch: DiscoveryFetcher, opts: DiscoveryRESTMapperOptions = {}) {
    this.#fetch = fetch;
    this.#static = new StaticRESTMapper(opts.static ?? BUILTIN_KINDS);
    this.#clock = opts.clock ?? realClock;
    this.#missRefreshIntervalMs =
      checkNumber('DiscoveryRESTMapper', 'missRefreshIntervalMs', opts.missRefreshIntervalMs) ?? 10_000;
  }

  async mappingFor(gvk: GVK): Promise<ResourceMapping> {
    const known = this.#static.lookup(gvk);
    if (known) return known;
    const gv = apiVersionOf(gvk);
    let entry = this.#cache.get(gv);
    if (
      !entry ||
      (!entry.kinds.has(gvk.kind) &&
        monotonicNow(this.#clock) - entry.fetchedAt >= this.#missRefreshIntervalMs)
    ) {
      entry = await this.#discover(gv, gvk);
    }
    const m = entry.kinds.get(gvk.kind);
    if (!m) throw new NoKindMatchError(`the server does not serve kind ${gvkString(gvk)}`);
    return m;
  }

  /** Forgets discovered group versions (not the static table). */
  reset(): void {
    this.#cache.clear();
  }

  #discover(gv: string, gvk: GVK): Promise<GroupVersionEntry> {
    let p = this.#inflight.get(gv);
    if (!p) {
      p = this.#fetch(gv)
        .then((list) => {
          const kinds = new Map<string, ResourceMapping>();
          for (const r of list?.resources ?? []) {
            if (r.name.includes('/')) continue;
            kinds.set(r.kind, {
              gvk: { group: gvk.group, version: gvk.version, kind: r.kind },
              resource: r.name,
              namespaced: r.namespaced,
            });
          }
          const entry = { fetchedAt: monotonicNow(this.#clock), kinds };
          this.#cache.set(gv, entry);
          return entry;
        })
        .finally(() => this.#inflight.delete(gv));
      this.#inflight.set(gv, p);
    }
    return p;
  }
}
