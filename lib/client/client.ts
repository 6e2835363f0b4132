import type { GVK } from './gvk.js';
import type { KubernetesObject, ObjectKey, ObjectList } from './object.js';
import type { Patch } from './patch.js';
import type { FieldSelectorInput, LabelSelectorInput } from './selectors.js';

/** Options of `get`. */
export interface GetOptions {
  signal?: AbortSignal;
}

/** Options of `list`: where, which (selectors), how many (pages), how fresh (resourceVersion). */
export interface ListOptions {
  /** Namespace to list in; omitted lists all namespaces (and is ignored for cluster-scoped kinds). */
  namespace?: string;
  labelSelector?: LabelSelectorInput;
  fieldSelector?: FieldSelectorInput;
  /** Page size. The response's `metadata.continue` fetches the next page. */
  limit?: number;
  continue?: string;
  /** '' (default) is a consistent read; '0' allows any cached state. */
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  signal?: AbortSignal;
}

/** Options of `create`, `update` and `updateStatus` (and the base of `PatchOptions`). */
export interface WriteOptions {
  /** Validate and default on the server but persist nothing. */
  dryRun?: boolean;
  /** Recorded in managedFields. */
  fieldManager?: string;
  /**
   * Ask the server to answer with the written object's metadata only (a `PartialObjectMetadata`,
   * apiVersion `meta.k8s.io/v1`, no spec or status), for a caller that needs no more of the
   * result than its uid, resourceVersion and timestamps: the server encodes, and the client
   * reads and parses, a fraction of the object (a Job's response is mostly its pod template).
   * `FakeClient` answers the same way. A hint, not a promise (another `Client` may answer with
   * the whole object), so read only `metadata` of what it returns.
   */
  metadataOnlyResponse?: boolean;
  signal?: AbortSignal;
}

/** Options of `patch` and `patchStatus`. */
export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take ownership of conflicting fields. Overrides the patch's own `force`. */
  force?: boolean;
}

/** Options of `delete`: propagation to dependents, preconditions, grace period. */
export interface DeleteOptions {
  /** Default: the kind's default (Background for most, Orphan for a few legacy kinds). */
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  /** Delete only if the object still has this uid and/or resourceVersion (else ConflictError). */
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** Options of `watch`: where, which, and from which resourceVersion. */
export interface WatchOptions {
  namespace?: string;
  labelSelector?: LabelSelectorInput;
  fieldSelector?: FieldSelectorInput;
  /** Start after this version; '' starts with synthetic ADDED events for everything. */
  resourceVersion?: string;
  /** Ask for BOOKMARK events carrying the latest resourceVersion. */
  allowWatchBookmarks?: boolean;
  /** The server ends the watch after this long. */
  timeoutSeconds?: number;
  /** Aborting ends the iteration quietly. */
  signal?: AbortSignal;
}

/** What happened to the object of a watch event; BOOKMARK only moves the resourceVersion on. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/** One change seen by a watch. */
export interface WatchEvent<T extends KubernetesObject = KubernetesObject> {
  type: WatchEventType;
  /** For BOOKMARK only `metadata.resourceVersion` is meaningful. */
  object: T;
}

/** Reads objects. Implemented by the API client and by the cache-backed reader. */
export interface Reader {
  /** Rejects with `NotFoundError` when the object does not exist. */
  get<T extends KubernetesObject = KubernetesObject>(gvk: GVK, key: ObjectKey, opts?: GetOptions): Promise<T>;
  /** Lists objects of a kind; one page when `opts.limit` is set (follow `metadata.continue`). */
  list<T extends KubernetesObject = KubernetesObject>(gvk: GVK, opts?: ListOptions): Promise<ObjectList<T>>;
}

/** Writes objects. The GVK comes from the object's apiVersion and kind. */
export interface Writer {
  /** Rejects with `AlreadyExistsError` when the name is taken. */
  create<T extends KubernetesObject>(obj: T, opts?: WriteOptions): Promise<T & KubernetesObject>;
  /** Replaces the object; rejects with `ConflictError` when its resourceVersion is stale. */
  update<T extends KubernetesObject>(obj: T, opts?: WriteOptions): Promise<T & KubernetesObject>;
  /**
   * Patches the object (merge, JSON, strategic or apply patch); a resourceVersion in the patch
   * makes it conditional.
   */
  patch<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    key: ObjectKey,
    patch: Patch,
    opts?: PatchOptions,
  ): Promise<T>;
  /** Server-side apply of `obj` (which must carry apiVersion, kind, name) as `fieldManager`. */
  apply<T extends KubernetesObject>(
    obj: T,
    opts: { fieldManager: string; force?: boolean; dryRun?: boolean; signal?: AbortSignal },
  ): Promise<T & KubernetesObject>;
  /** Rejects with `NotFoundError` when already gone. */
  delete(gvk: GVK, key: ObjectKey, opts?: DeleteOptions): Promise<void>;
}

/** Writes the status subresource, which plain update/patch leave untouched. */
export interface StatusWriter {
  /**
   * Replaces the status subresource; rejects with `ConflictError` when the resourceVersion is
   * stale.
   */
  updateStatus<T extends KubernetesObject>(obj: T, opts?: WriteOptions): Promise<T & KubernetesObject>;
  /** Patches the status subresource only, as `patch` patches the object. */
  patchStatus<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    key: ObjectKey,
    patch: Patch,
    opts?: PatchOptions,
  ): Promise<T>;
}

/** Streams changes. */
export interface Watcher {
  /**
   * Watches a kind. Iteration ends when the server closes the watch or `signal` aborts; an ERROR
   * event (e.g. 410 Gone for a too-old resourceVersion) is thrown as the matching `StatusError`.
   */
  watch<T extends KubernetesObject = KubernetesObject>(
    gvk: GVK,
    opts?: WatchOptions,
  ): AsyncIterable<WatchEvent<T>>;
}

/** What the reflector needs: list and watch. The API client and the fake client both provide it. */
export type ListerWatcher = Pick<Reader, 'list'> & Watcher;

/** The full client: CRUD, status subresource and watch. */
export interface Client extends Reader, Writer, StatusWriter, Watcher {
  /** Whether a kind is namespaced (through the REST mapper). */
  isNamespaced(gvk: GVK): Promise<boolean>;
}
