import {
  enqueueFromMap,
  generationChanged,
  type GVK,
  type InformerRequest,
  type Manager,
  type Controller,
  type KubernetesObject,
} from '../../lib/index.js';
import { trimJob, trimPod } from './cache.js';
import { ANNOTATION_SESSION } from './job.js';
import { SessionMetrics } from './metrics.js';
import { SessionReconciler } from './reconciler.js';
import type { TenantPolicy } from './tenant-policy.js';
import { JOB_GVK, LABEL_MANAGED_BY, LABEL_SESSION, MANAGED_BY, POD_GVK, SESSION_GVK } from './types.js';

/** Options of `setupSessionController`: workers, runner image, default start timeout. */
export interface SessionControllerOptions {
  /** Default 10. */
  maxConcurrentReconciles?: number;
  /** Image for Sessions that name none. */
  runnerImage?: string;
  /** What a Session may ask of its pod. Default DEFAULT_TENANT_POLICY (safe). */
  tenantPolicy?: TenantPolicy;
}

/**
 * What the Session controller caches: Sessions, and the Jobs and pods Steward manages, trimmed
 * to what it reads (`trimJob`, `trimPod`). The benchmarks build caches of the same shape to
 * measure memory per cached object.
 */
export function sessionInformers(): Record<
  'session' | 'job' | 'pod',
  { gvk: GVK; request: InformerRequest }
> {
  const labelSelector = { [LABEL_MANAGED_BY]: MANAGED_BY };
  return {
    session: { gvk: SESSION_GVK, request: {} },
    job: { gvk: JOB_GVK, request: { labelSelector, transform: trimJob } },
    pod: { gvk: POD_GVK, request: { labelSelector, transform: trimPod } },
  };
}

/**
 * Wires the Session controller into a Manager: watches Sessions (spec changes only: status
 * writes are our own), the Jobs they own and the pods of those Jobs. Jobs and pods are cached
 * only when labelled `app.kubernetes.io/managed-by=steward`, so the operator does not hold
 * every Job and pod of the cluster in memory.
 */
export function setupSessionController(mgr: Manager, opts: SessionControllerOptions = {}): Controller {
  const informers = sessionInformers();
  // The reconciler lists a Session's Jobs and pods by this label (on every pod check, and
  // whenever a Session ends): looked up by index, not by a scan of every cached Job and pod.
  mgr.cache.indexLabel(JOB_GVK, LABEL_SESSION);
  mgr.cache.indexLabel(POD_GVK, LABEL_SESSION);
  const reconciler = new SessionReconciler({
    client: mgr.client,
    reader: mgr.cache,
    recorder: mgr.eventRecorder('steward-session'),
    metrics: new SessionMetrics(mgr.registry),
    runnerImage: opts.runnerImage,
    tenantPolicy: opts.tenantPolicy,
  });
  return mgr
    .controller('session')
    .for(SESSION_GVK, {
      // Spec changes (cancel), creations, deletions and resyncs; our own status writes need
      // no reconcile (deadlines and TTLs are requeued by the reconciler itself).
      predicates: [(e) => (e.type === 'update' && e.isResync) || generationChanged(e)],
    })
    .owns(JOB_GVK, { informer: informers.job.request })
    .watches(
      POD_GVK,
      enqueueFromMap((pod: KubernetesObject) => {
        const name = pod.metadata?.annotations?.[ANNOTATION_SESSION];
        return name ? [{ namespace: pod.metadata?.namespace, name }] : [];
      }),
      { informer: informers.pod.request },
    )
    .withOptions({ maxConcurrentReconciles: opts.maxConcurrentReconciles ?? 10 })
    .complete(reconciler);
}
