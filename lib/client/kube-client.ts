import type { KubeConfigLike } from './kubeconfig.js';
import type {
  Client,
  DeleteOptions,
  GetOptions,
  ListOptions,
  PatchOptions,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './client.js';
import { isNotFound } from './errors.js';
import type { GVK } from './gvk.js';
import { apiVersionOf, gvkOf, gvkString } from './gvk.js';
import type { KubernetesObject, ObjectKey, ObjectList } from './object.js';
import { objectKeyOf } from './object.js';
import type { Patch } from './patch.js';
import { patchContentType } from './patch.js';
import type { APIResource, ResourceMapping, RESTMapper } from './rest-mapper.js';
import { DiscoveryRESTMapper } from './rest-mapper.js';
import { formatFieldSelector, formatLabelSelector } from './selectors.js';
import type { HttpMethod, TransportOptions } from './transport.js';
import { METADATA_ONLY, RestTransport } from './transport.js';
import { readChunks } from './read-chunks.js';
import { parseWatchStream } from './watch-stream.js';

/** Options of `KubeClient`: the transport's (throttling, retries, metrics) and the REST mapper. */
export interface KubeClientOptions extends TransportOptions {
  /**
   * GVK → resource mapping. Default: a `DiscoveryRESTMapper` over this client's transport, which
   * answers the stable built-in kinds from a static table and discovers everything else once
   * per group version.
   */
  restMapper?: RESTMapper;
}

/**
 * The API-server-backed `Client`. Generic over kinds: objects are plain JSON with apiVersion and
 * kind, so custom resources need no generated code. Typed by the caller's `T`.
 *
 * Every request is throttled (one budget, default 100 QPS, burst 150), retried on 429/5xx as `retry` allows,
 * and counted in `rest_client_*` metrics when a registry is given.
 */
export class KubeClient implements Client {
  readonly restMapper: RESTMapper;
  #transport: RestTransport;

  constructor(kubeConfig: KubeConfigLike, opts: KubeClientOptions = {}) {
    this.#transport = new RestTransport(kubeConfig, opts);
    this.restMapper =
      opts.restMapper ??
      new DiscoveryRESTMapper((gv) => this.#discover(gv), opts.clock ? { clock: opts.clock } : {});
  }

  async isNamespaced(gvk: GVK): Promise<boolean> {
    return (await this.restMapper.mappingFor(gvk)).namespaced;
  }

  async get<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    key: ObjectKey,
    opts: GetOptions = {},
  ): Promise<T> {
    const path = await this.#path(gvk, key.namespace, key.name);
    return (await this.#call('GET', path, opts.signal)) as T;
  }

  async list<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    opts: ListOptions = {},
  ): Promise<ObjectList<T>> {
    const path = await this.#path(gvk, opts.namespace, undefined, undefined, true);
    const list = (await this.#transport.request({
      method: 'GET',
      path,
      query: {
        labelSelector: formatLabelSelector(opts.labelSelector) || undefined,
        fieldSelector: formatFieldSelector(opts.fieldSelector) || undefined,
        limit: opts.limit,
        continue: opts.continue || undefined,
        resourceVersion: opts.resourceVersion || undefined,
        resourceVersionMatch: opts.resourceVersionMatch,
      },
      signal: opts.signal,
    })) as ObjectList<T>;
    // The server omits apiVersion/kind on list items; fill them in so items can be written back.
    const apiVersion = apiVersionOf(gvk);
    for (const item of list.items ?? []) {
      item.apiVersion ??= apiVersion;
      item.kind ??= gvk.kind;
    }
    list.items ??= [];
    list.metadata ??= {};
    return list;
  }

  async create<T extends KubernetesObject>(obj: T, opts: WriteOptions = {}): Promise<T & KubernetesObject> {
    const gvk = gvkOf(obj);
    const path = await this.#path(gvk, obj.metadata?.namespace);
    return (await this.#write('POST', path, obj, opts)) as T;
  }

  async update<T extends KubernetesObject>(obj: T, opts: WriteOptions = {}): Promise<T & KubernetesObject> {
    const gvk = gvkOf(obj);
    const key = objectKeyOf(obj);
    const path = await this.#path(gvk, key.namespace, key.name);
    return (await this.#write('PUT', path, obj, opts)) as T;
  }

  async updateStatus<T extends KubernetesObject>(
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T & KubernetesObject> {
    const gvk = gvkOf(obj);
    const key = objectKeyOf(obj);
    const path = await this.#path(gvk, key.namespace, key.name, 'status');
    return (await this.#write('PUT', path, obj, opts)) as T;
  }

  patch<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    key: ObjectKey,
    patch: Patch,
    opts: PatchOptions = {},
  ): Promise<T> {
    return this.#patch<T>(gvk, key, patch, opts, undefined);
  }

  patchStatus<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    key: ObjectKey,
    patch: Patch,
    opts: PatchOptions = {},
  ): Promise<T> {
    return this.#patch<T>(gvk, key, patch, opts, 'status');
  }

  apply<T extends KubernetesObject>(
    obj: T,
    opts: { fieldManager: string; force?: boolean; dryRun?: boolean; signal?: AbortSignal },
  ): Promise<T & KubernetesObject> {
    const patch: Patch = { type: 'apply', body: obj, fieldManager: opts.fieldManager, force: opts.force };
    return this.#patch<T>(gvkOf(obj), objectKeyOf(obj), patch, opts, undefined);
  }

  async delete(gvk: GVK, key: ObjectKey, opts: DeleteOptions = {}): Promise<void> {
    const path = await this.#path(gvk, key.namespace, key.name);
    const body = {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: opts.propagationPolicy,
      preconditions: opts.preconditions,
      gracePeriodSeconds: opts.gracePeriodSeconds,
      dryRun: opts.dryRun ? ['All'] : undefined,
    };
    await this.#call('DELETE', path, opts.signal, body);
  }

  async *watch<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    opts: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const path = await this.#path(gvk, opts.namespace, undefined, undefined, true);
    let res;
    try {
      res = await this.#transport.stream({
        method: 'GET',
        path,
        query: {
          watch: 'true',
          labelSelector: formatLabelSelector(opts.labelSelector) || undefined,
          fieldSelector: formatFieldSelector(opts.fieldSelector) || undefined,
          resourceVersion: opts.resourceVersion || undefined,
          allowWatchBookmarks: opts.allowWatchBookmarks || undefined,
          timeoutSeconds: opts.timeoutSeconds,
        },
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    const apiVersion = apiVersionOf(gvk);
    try {
      for await (const ev of parseWatchStream<T>(readChunks(res))) {
        if (ev.type !== 'BOOKMARK') {
          ev.object.apiVersion ??= apiVersion;
          ev.object.kind ??= gvk.kind;
        }
        yield ev;
      }
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    } finally {
      res.destroy();
    }
  }

  /** Closes idle keep-alive connections; call when done with the client. */
  close(): void {
    this.#transport.close();
  }

  async #patch<T>(
    gvk: GVK,
    key: ObjectKey,
    patch: Patch,
    opts: PatchOptions,
    subresource: string | undefined,
  ): Promise<T> {
    const path = await this.#path(gvk, key.namespace, key.name, subresource);
    const query = this.#writeQuery(opts);
    if (patch.type === 'apply') {
      query.fieldManager = patch.fieldManager;
      const force = opts.force ?? patch.force;
      if (force) query.force = 'true';
    }
    const body = patch.type === 'json' ? patch.ops : patch.body;
    return (await this.#transport.request({
      method: 'PATCH',
      path,
      query,
      body,
      contentType: patchContentType(patch),
      accept: opts.metadataOnlyResponse ? METADATA_ONLY : undefined,
      signal: opts.signal,
    })) as T;
  }

  #write(method: HttpMethod, path: string, body: unknown, opts: WriteOptions): Promise<unknown> {
    return this.#transport.request({
      method,
      path,
      body,
      query: this.#writeQuery(opts),
      accept: opts.metadataOnlyResponse ? METADATA_ONLY : undefined,
      signal: opts.signal,
    });
  }

  #writeQuery(opts: WriteOptions): Record<string, string | undefined> {
    return { dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager };
  }

  #call(
    method: HttpMethod,
    path: string,
    signal?: AbortSignal,
    body?: unknown,
    query?: Record<string, string | undefined>,
  ): Promise<unknown> {
    return this.#transport.request({ method, path, body, query, signal });
  }

  async #path(
    gvk: GVK,
    namespace: string | undefined,
    name?: string,
    subresource?: string,
    collection = false,
  ): Promise<string> {
    const m: ResourceMapping = await this.restMapper.mappingFor(gvk);
    let path = gvk.group === '' ? `/api/${gvk.version}` : `/apis/${gvk.group}/${gvk.version}`;
    if (m.namespaced) {
      if (namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
      else if (!collection) throw new TypeError(`${gvkString(gvk)} is namespaced; a namespace is required`);
    }
    path += `/${m.resource}`;
    if (name !== undefined) {
      if (name === '') throw new TypeError('name must not be empty');
      path += `/${encodeURIComponent(name)}`;
    }
    if (subresource) path += `/${subresource}`;
    return path;
  }

  async #discover(groupVersion: string): Promise<{ resources: APIResource[] } | undefined> {
    const path = groupVersion.includes('/') ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
    try {
      return (await this.#transport.request({ method: 'GET', path })) as { resources: APIResource[] };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

/** Creates the API-server-backed client. */
export function createClient(kubeConfig: KubeConfigLike, opts?: KubeClientOptions): KubeClient {
  return new KubeClient(kubeConfig, opts);
}
