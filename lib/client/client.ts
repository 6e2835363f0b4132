import type { GVK } from './gvk.js';
import type { KubernetesObject, ObjectKey, ObjectList } from './object.js';
import type { Patch } from './patch.js';
import type { FieldSelectorInput, LabelSelectorInput } from './selectors.js';

export interface GetOptions {
  signal?: AbortSignal;
}

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

export interface WriteOptions {
  /** Validate and default on the server but persist nothing. */
  dryRun?: boolean;
  /** Recorded in managedFields. */
  fieldManager?: string;
  signal?: AbortSignal;
}

export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take ownership of conflicting fields. Overrides the patch's own `force`. */
  force?: boolean;
}

export interface DeleteOptions {
  /** Default: the kind's default (Background for most, Orphan for a few legacy kinds). */
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  /** Delete only if the object still has this uid and/or resourceVersion (else ConflictError). */
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  dryRun?: boolean;
  signal?: AbortSignal;
}

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

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent<T extends KubernetesObject = KubernetesObject> {
  type: WatchEventType;
  /** For BOOKMARK only `metadata.resourceVersion` is meaningful. */
  object: T;
}

/** Reads objects. Implemented by the API client and by the cache-backed reader. */
export interface Reader {
  /** Rejects with `NotFoundError` when the object does not exist. */
  get<T extends KubernetesObject = KubernetesObject>(gvk: GVK, key: ObjectKey, opts?: GetOptions): Promise<T>;
  list<T extends KubernetesObject = KubernetesObject>(gvk: GVK, opts?: ListOptions): Promise<ObjectList<T>>;
}

/** Writes objects. The GVK comes from the object's apiVersion and kind. */
export interface Writer {
  /** Rejects with `AlreadyExistsError` when the name is taken. */
  create<T extends KubernetesObject>(obj: T, opts?: WriteOptions): Promise<T & KubernetesObject>;
  /** Replaces the object; rejects with `ConflictError` when its resourceVersion is stale. */
  update<T extends KubernetesObject>(obj: T, opts?: WriteOptions): Promise<T & KubernetesObject>;
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
  updateStatus<T extends KubernetesObject>(obj: T, opts?: WriteOptions): Promise<T & KubernetesObject>;
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
