import type { KubernetesObject } from '../../lib/index.js';
import type { Ctx } from './context.js';

const EVENT_GVK = { group: '', version: 'v1', kind: 'Event' };

export interface CoreEvent extends KubernetesObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { count?: number; lastObservedTime?: string };
  involvedObject?: { uid?: string; name?: string };
}

/** When an event last happened: whichever of its timestamps the writer set. */
export function eventTime(e: CoreEvent): number {
  const t =
    e.series?.lastObservedTime ??
    e.lastTimestamp ??
    e.eventTime ??
    e.firstTimestamp ??
    e.metadata?.creationTimestamp;
  return t ? Date.parse(t) : Number.NaN;
}

/**
 * Oldest first, as `kubectl describe` lists them. Timestamps have whole seconds and several
 * events share one; the API server's list order is by name (random suffixes), so ties are broken
 * by resourceVersion, which etcd assigns in write order.
 */
export function sortEvents<E extends CoreEvent>(events: readonly E[]): E[] {
  const rv = (e: CoreEvent) => {
    const v = e.metadata?.resourceVersion;
    return v !== undefined && /^\d+$/.test(v) ? BigInt(v) : 0n;
  };
  return [...events].sort((a, b) => {
    const ta = eventTime(a);
    const tb = eventTime(b);
    if (ta !== tb) return (Number.isNaN(ta) ? -Infinity : ta) - (Number.isNaN(tb) ? -Infinity : tb);
    const ra = rv(a);
    const rb = rv(b);
    return ra < rb ? -1 : ra > rb ? 1 : 0;
  });
}

/** The events about one object (matched by uid), oldest first. */
export async function eventsFor(ctx: Ctx, obj: KubernetesObject): Promise<CoreEvent[]> {
  const list = await ctx.client.list<CoreEvent>(EVENT_GVK, {
    namespace: obj.metadata?.namespace ?? ctx.namespace,
    fieldSelector: { 'involvedObject.name': obj.metadata!.name! },
  });
  const uid = obj.metadata?.uid;
  return sortEvents(list.items.filter((e) => !uid || e.involvedObject?.uid === uid));
}
