/**
 * Owner references: how an object names the objects it belongs to, so the garbage collector
 * deletes it with them and `owns()` watches map its events back to its owner. At most one owner
 * is the *controller* (`controller: true`): the one object responsible for it. These are
 * controller-runtime's `controllerutil.SetControllerReference` / `SetOwnerReference` and
 * apimachinery's `metav1.IsControlledBy`, on plain objects.
 */
import { type KubernetesObject, type OwnerReference } from '../client/object.js';

/** `setControllerReference` refused: another object already controls this one. */
export class AlreadyOwnedError extends Error {
  readonly code = 'ERR_ALREADY_OWNED';
  constructor(
    readonly object: string,
    readonly owner: OwnerReference,
  ) {
    super(
      `${object} is already controlled by ${owner.kind} ${owner.name} (uid ${owner.uid}); an object has at most one controller`,
    );
    this.name = 'AlreadyOwnedError';
  }
}

/** Options for the references these helpers write. */
export interface OwnerReferenceOptions {
  /**
   * Foreground deletion of the owner waits for this object (default true for controller
   * references, as controller-runtime sets it; false for plain owner references).
   */
  blockOwnerDeletion?: boolean;
}

/**
 * The reference to `owner`, which must carry apiVersion, kind, metadata.name and metadata.uid
 * (objects read from the API do; the uid exists only once the owner was created).
 */
export function ownerReferenceTo(
  owner: KubernetesObject,
  opts: { controller?: boolean; blockOwnerDeletion?: boolean } = {},
): OwnerReference {
  const { apiVersion, kind } = owner;
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  if (!apiVersion || !kind || !name || !uid)
    throw new TypeError(
      `owner ${kind ?? '<no kind>'} ${name ?? '<no name>'} needs apiVersion, kind, metadata.name and metadata.uid; use the object as the API server returned it`,
    );
  const ref: OwnerReference = { apiVersion, kind, name, uid };
  if (opts.controller) ref.controller = true;
  if (opts.blockOwnerDeletion !== undefined) ref.blockOwnerDeletion = opts.blockOwnerDeletion;
  return ref;
}

/**
 * Makes `owner` the controller of `object` (in memory; write `object` afterwards). Replaces an
 * existing reference to the same owner, keeps references to other owners, and throws
 * `AlreadyOwnedError` when another object is already the controller. Throws `TypeError` when the
 * reference could not be valid: an owner in another namespace, or a namespaced owner of a
 * cluster-scoped object (the garbage collector would delete the object at once).
 * Returns `object`.
 */
export function setControllerReference<T extends KubernetesObject>(
  owner: KubernetesObject,
  object: T,
  opts: OwnerReferenceOptions = {},
): T {
  const ref = ownerReferenceTo(owner, {
    controller: true,
    blockOwnerDeletion: opts.blockOwnerDeletion ?? true,
  });
  const existing = object.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (existing !== undefined && !sameOwner(existing, ref))
    throw new AlreadyOwnedError(describe(object), existing);
  return upsert(owner, object, ref);
}

/**
 * Adds (or updates) a non-controller reference to `owner` on `object`, in memory. Same checks
 * as `setControllerReference`, minus the single-controller rule; a reference to the same owner
 * keeps its `controller` flag. Returns `object`.
 */
export function setOwnerReference<T extends KubernetesObject>(
  owner: KubernetesObject,
  object: T,
  opts: OwnerReferenceOptions = {},
): T {
  const ref = ownerReferenceTo(owner, { blockOwnerDeletion: opts.blockOwnerDeletion });
  const existing = object.metadata?.ownerReferences?.find((r) => sameOwner(r, ref));
  if (existing?.controller) ref.controller = true;
  return upsert(owner, object, ref);
}

/** Whether `owner` (by uid) is the controller of `object`, as `metav1.IsControlledBy`. */
export function isControlledBy(object: KubernetesObject, owner: KubernetesObject): boolean {
  const uid = owner.metadata?.uid;
  if (!uid) return false;
  return object.metadata?.ownerReferences?.some((r) => r.controller === true && r.uid === uid) ?? false;
}

/** Whether `object` names `owner` (by uid) among its owners, controller or not. */
export function isOwnedBy(object: KubernetesObject, owner: KubernetesObject): boolean {
  const uid = owner.metadata?.uid;
  if (!uid) return false;
  return object.metadata?.ownerReferences?.some((r) => r.uid === uid) ?? false;
}

// The same owner: same group (not version: a reference survives an API version bump), kind and name.
function sameOwner(a: OwnerReference, b: OwnerReference): boolean {
  return group(a.apiVersion) === group(b.apiVersion) && a.kind === b.kind && a.name === b.name;
}

const group = (apiVersion: string) => {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
};

function upsert<T extends KubernetesObject>(owner: KubernetesObject, object: T, ref: OwnerReference): T {
  const ownerNs = owner.metadata?.namespace;
  const objectNs = object.metadata?.namespace;
  if (ownerNs) {
    if (!objectNs)
      throw new TypeError(
        `cluster-scoped ${describe(object)} cannot be owned by namespaced ${describe(owner)}`,
      );
    if (objectNs !== ownerNs)
      throw new TypeError(
        `${describe(object)} cannot be owned by ${describe(owner)}: owner references cannot cross namespaces`,
      );
  }
  object.metadata ??= {};
  const refs = object.metadata.ownerReferences ?? [];
  const i = refs.findIndex((r) => sameOwner(r, ref));
  object.metadata.ownerReferences = i >= 0 ? refs.map((r, j) => (j === i ? ref : r)) : [...refs, ref];
  return object;
}

function describe(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? obj.metadata?.generateName ?? '<unnamed>';
  return `${obj.kind ?? 'object'} ${ns ? `${ns}/` : ''}${name}`;
}
