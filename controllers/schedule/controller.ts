import {
  apiVersionOf,
  type Client,
  type Controller,
  generationChanged,
  type GVK,
  gvkString,
  isNoKindMatch,
  type KubernetesObject,
  type ListOptions,
  type Logger,
  type Manager,
  type Predicate,
  type Reader,
} from '../../lib/index.js';
import type { TenantPolicy } from '../session/index.js';
import { ScheduleMetrics } from './metrics.js';
import { ScheduleReconciler } from './reconciler.js';
import { RUN_KINDS } from './runs.js';
import { LABEL_SCHEDULE, SCHEDULE_GVK } from './types.js';

/** How `setupScheduleController` configures the controller. */
export interface ScheduleControllerOptions {
  /** Default 10. */
  maxConcurrentReconciles?: number;
  /** The operator's --runner-image (Session templates that name no image use it). */
  runnerImage?: string;
  /** The operator's tenant policy: runs whose Sessions it refuses are not created (see ScheduleReconcilerOptions). */
  tenantPolicy?: TenantPolicy;
  /**
   * Answers which kinds the API server serves. Default `mgr.client`, which retries a failed
   * request for seconds; the manager binary passes a client that does not, so an API server that
   * cannot be reached holds nothing up (the Manager binds its ports first, then reports it).
   */
  discovery?: Pick<Client, 'isNamespaced'>;
}

/** The API server does not serve a kind the controller needs: its CRD is not installed. */
export class KindNotInstalledError extends Error {
  readonly code = 'ERR_KIND_NOT_INSTALLED';
  constructor(readonly gvk: GVK) {
    super(`the ${gvk.kind} CRD (${apiVersionOf(gvk)}) is not installed: kubectl apply -k manifests/crd`);
    this.name = 'KindNotInstalledError';
  }
}

/**
 * Whether the API server serves `gvk`. Only discovery's definite answer (NoKindMatch) counts as
 * no: when the API server cannot be asked (unreachable, an error), the kind is taken as served,
 * so start-up goes on and fails where the Manager reports it (a busy port, or caches that do not
 * sync within --cache-sync-timeout, after which a restart asks again).
 */
export async function kindServed(
  client: Pick<Client, 'isNamespaced'>,
  gvk: GVK,
  logger: Logger,
): Promise<boolean> {
  try {
    await client.isNamespaced(gvk);
    return true;
  } catch (err) {
    if (isNoKindMatch(err)) return false;
    logger.warn('Cannot ask the API server whether it serves a kind; taking it as served', {
      kind: gvkString(gvk),
      error: err instanceof Error ? err.message : String(err),
    });
    return true;
  }
}

const phase = (o: KubernetesObject) => (o.status as { phase?: string } | undefined)?.phase;

/** Run events that matter to their Schedule: creation, deletion, a phase change, a resync. */
const runChanged: Predicate = (e) =>
  e.type !== 'update' || e.isResync || phase(e.old) !== phase(e.object) || generationChanged(e);

/**
 * Wires the Schedule controller into a Manager: watches Schedules (spec changes only: the
 * status is ours, and times are requeued by the reconciler) and the runs they own, of every run
 * kind the API server serves at start-up (Sessions, and Workflows once their CRD is installed).
 * Runs are cached only when labelled `steward.dev/schedule`. Rejects with
 * `KindNotInstalledError` when the Schedule CRD itself is not installed, because an informer of
 * a kind the API does not serve never syncs and the Manager waits for every cache. The
 * discovery requests (through `opts.discovery`) are the only API calls before `mgr.start()`; an
 * API server that cannot be reached does not fail them (see `served`).
 */
export async function setupScheduleController(
  mgr: Manager,
  opts: ScheduleControllerOptions = {},
): Promise<Controller> {
  const discovery = opts.discovery ?? mgr.client;
  const [schedules, ...runKindsServed] = await Promise.all(
    [SCHEDULE_GVK, ...RUN_KINDS.map((k) => k.gvk)].map((gvk) => kindServed(discovery, gvk, mgr.logger)),
  );
  if (!schedules) throw new KindNotInstalledError(SCHEDULE_GVK);
  const kinds = RUN_KINDS.filter((_, i) => runKindsServed[i]);
  for (const kind of RUN_KINDS.filter((_, i) => !runKindsServed[i])) {
    mgr.logger.info('Run kind not served; Schedules of it will not run', { kind: gvkString(kind.gvk) });
  }
  const runs = {
    informer: { labelSelector: { matchExpressions: [{ key: LABEL_SCHEDULE, operator: 'Exists' as const }] } },
    predicates: [runChanged],
  };
  // The informers the run events come from (the builder's owns() gets these same ones).
  const runInformers = new Map(
    kinds.map((k) => [gvkString(k.gvk), mgr.cache.informerFor(k.gvk, runs.informer)]),
  );
  const runReader: Pick<Reader, 'list'> = {
    async list<T extends KubernetesObject = KubernetesObject>(gvk: GVK, opts: ListOptions = {}) {
      const labels = (opts.labelSelector ?? {}) as Record<string, string>;
      const items = runInformers
        .get(gvkString(gvk))!
        .store.list()
        .filter(
          (o) =>
            (opts.namespace === undefined || o.metadata?.namespace === opts.namespace) &&
            Object.entries(labels).every(([k, v]) => o.metadata?.labels?.[k] === v),
        );
      return { apiVersion: apiVersionOf(gvk), kind: `${gvk.kind}List`, metadata: {}, items: items as T[] };
    },
  };
  const reconciler = new ScheduleReconciler({
    client: mgr.client,
    reader: mgr.cache,
    runReader,
    recorder: mgr.eventRecorder('steward-schedule'),
    metrics: new ScheduleMetrics(mgr.registry),
    runKinds: kinds,
    runnerImage: opts.runnerImage,
    tenantPolicy: opts.tenantPolicy,
  });
  const builder = mgr.controller('schedule').for(SCHEDULE_GVK, {
    predicates: [(e) => (e.type === 'update' && e.isResync) || generationChanged(e)],
  });
  for (const kind of kinds) builder.owns(kind.gvk, runs);
  return builder
    .withOptions({ maxConcurrentReconciles: opts.maxConcurrentReconciles ?? 10 })
    .complete(reconciler);
}
