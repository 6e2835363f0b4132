import { dropManagedFields, type KubernetesObject, type Transform } from '../../lib/index.js';

/**
 * What the Session operator keeps of the Jobs and pods it caches. It creates the pod template
 * itself and never reads it back, so the largest part of a cached Job (the template, and with
 * it STEWARD_INPUT, which may be up to 128 KiB) and of a cached pod (its spec) is dropped
 * before the object is stored, as controller-runtime users do with a cache transform. Kept:
 * all metadata but managedFields (names, owner references, labels, annotations, timestamps),
 * all of the status, and for Jobs the small spec fields (backoffLimit, deadlines, TTL); for
 * pods `spec.nodeName`. A reconciler that needs a dropped field must read the object from the
 * API server.
 */
export const trimJob: Transform = (obj) => {
  dropManagedFields(obj);
  const spec = (obj as KubernetesObject & { spec?: Record<string, unknown> }).spec;
  if (spec !== undefined) {
    delete spec.template;
    delete spec.selector;
  }
  return obj;
};

export const trimPod: Transform = (obj) => {
  dropManagedFields(obj);
  const pod = obj as KubernetesObject & { spec?: { nodeName?: string } };
  if (pod.spec !== undefined)
    pod.spec = pod.spec.nodeName !== undefined ? { nodeName: pod.spec.nodeName } : {};
  return obj;
};
