/**
 * The JSON shape of Kubernetes objects as the client sends and receives them. Timestamps are
 * RFC 3339 strings exactly as the API server writes them (see `time.ts` for producing them);
 * the client never turns them into `Date`s, so objects round-trip unchanged.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** One field manager's entry in `metadata.managedFields` (server-side apply bookkeeping). */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

/** Standard object metadata (`metav1.ObjectMeta`), as the API server sends it. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
}

/** Any Kubernetes object. Kind-specific fields (spec, status, data, …) are open. */
export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/**
 * A list's own metadata: its resourceVersion (to watch from) and the continue token of the next
 * page.
 */
export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

/** A list response: `items` plus the list's own resourceVersion and continue token. */
export interface ObjectList<T extends KubernetesObject = KubernetesObject> {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
}

/** Names one object. `namespace` is ignored for cluster-scoped kinds. */
export interface ObjectKey {
  namespace?: string;
  name: string;
}

/** The key of an object: its namespace (if any) and name. */
export function objectKeyOf(obj: KubernetesObject): ObjectKey {
  const name = obj.metadata?.name;
  if (!name) throw new TypeError('object has no metadata.name');
  const namespace = obj.metadata?.namespace;
  return namespace ? { namespace, name } : { name };
}

/** `namespace/name` for namespaced objects and `name` for cluster-scoped ones, as client-go's key funcs. */
export function namespacedName(key: ObjectKey | KubernetesObject): string {
  const k = typeof key.name === 'string' ? (key as ObjectKey) : objectKeyOf(key as KubernetesObject);
  return k.namespace ? `${k.namespace}/${k.name}` : k.name;
}

/** The owner reference with `controller: true`, if any. */
export function controllerOf(obj: KubernetesObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}
