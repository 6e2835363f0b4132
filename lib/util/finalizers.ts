/**
 * Finalizers: names in `metadata.finalizers` that hold an object's deletion until the
 * controller that added them has cleaned up and removed them. controller-runtime's
 * `controllerutil.{Contains,Add,Remove}Finalizer` change an object in memory and leave the write
 * to the caller; here the write is part of the helper, as one merge patch of the finalizer list
 * made conditional on the resourceVersion the caller read — so a list changed meanwhile by
 * someone else (another controller's finalizer) is never overwritten: the patch fails with
 * `ConflictError` and the reconcile runs again on fresh data.
 *
 * When not to use them: for objects this controller creates and owns, an owner reference
 * (`setControllerReference`) lets the garbage collector delete them with their owner; a
 * finalizer is for clean-up outside the cluster's object graph (external resources, other
 * namespaces, accounting).
 */
import { gvkOf } from '../client/gvk.js';
import { type KubernetesObject, objectKeyOf } from '../client/object.js';
import type { PatchOptions, Writer } from '../client/client.js';

/** Whether the object carries this finalizer. */
export function hasFinalizer(obj: KubernetesObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Options for `addFinalizer` / `removeFinalizer`. */
export interface FinalizerPatchOptions extends Pick<PatchOptions, 'fieldManager' | 'signal'> {
  /**
   * Make the patch conditional on `obj.metadata.resourceVersion` (default true). Turn it off only
   * where the caller holds no read to be conditional on; the list written is still the one the
   * caller saw.
   */
  conditional?: boolean;
}

/**
 * Adds `finalizer` to the object in the API server by patch, unless it already has it (then
 * resolves with `obj` and writes nothing). Resolves with the patched object. Rejects with
 * `ConflictError` when the object changed since `obj` was read, and with `NotFoundError` when it
 * is gone. An object being deleted (deletionTimestamp set) accepts no new finalizers: the API
 * server refuses with `InvalidError`, which is the caller's cue to clean up instead.
 */
export async function addFinalizer<T extends KubernetesObject>(
  client: Pick<Writer, 'patch'>,
  obj: T,
  finalizer: string,
  opts: FinalizerPatchOptions = {},
): Promise<T> {
  validateFinalizerName(finalizer);
  if (hasFinalizer(obj, finalizer)) return obj;
  return patchFinalizers(client, obj, [...(obj.metadata?.finalizers ?? []), finalizer], opts);
}

/**
 * Removes `finalizer` from the object in the API server by patch, unless it does not have it
 * (then resolves with `obj` and writes nothing). Resolves with the patched object, which may be
 * the object's last state when this was the last finalizer of an object being deleted. Rejects
 * as `addFinalizer` does; `NotFoundError` means the object is already gone (`ignoreNotFound`).
 */
export async function removeFinalizer<T extends KubernetesObject>(
  client: Pick<Writer, 'patch'>,
  obj: T,
  finalizer: string,
  opts: FinalizerPatchOptions = {},
): Promise<T> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  return patchFinalizers(
    client,
    obj,
    (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer),
    opts,
  );
}

async function patchFinalizers<T extends KubernetesObject>(
  client: Pick<Writer, 'patch'>,
  obj: T,
  finalizers: string[],
  opts: FinalizerPatchOptions,
): Promise<T> {
  const metadata: Record<string, unknown> = { finalizers };
  if (opts.conditional !== false) {
    const rv = obj.metadata?.resourceVersion;
    if (!rv)
      throw new TypeError(
        'object has no metadata.resourceVersion to make the finalizer patch conditional on; pass an object read from the API or the cache, or conditional: false',
      );
    // A resourceVersion in a merge patch is a precondition: the API server answers 409 Conflict
    // when the object's current one differs.
    metadata.resourceVersion = rv;
  }
  const { fieldManager, signal } = opts;
  return client.patch<T>(
    gvkOf(obj),
    objectKeyOf(obj),
    { type: 'merge', body: { metadata } },
    { fieldManager, signal },
  );
}

// A qualified name, as the API server validates finalizers: "example.com/cleanup".
const FINALIZER =
  /^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function validateFinalizerName(finalizer: string): void {
  if (!FINALIZER.test(finalizer) || finalizer.length > 316)
    throw new TypeError(
      `invalid finalizer name ${JSON.stringify(finalizer)}: use a qualified name like "example.com/cleanup"`,
    );
}
