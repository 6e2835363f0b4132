import type { Condition } from './types.js';

export type WantedCondition = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/**
 * The conditions after setting `wanted`: `lastTransitionTime` changes only when a condition's
 * status does (the Kubernetes API conventions); conditions of other types are kept.
 */
export function setConditions(
  current: Condition[] | undefined,
  wanted: WantedCondition[],
  now: string,
  generation: number | undefined,
): Condition[] {
  const out: Condition[] = wanted.map((w) => {
    const prev = current?.find((c) => c.type === w.type);
    const lastTransitionTime = prev !== undefined && prev.status === w.status ? prev.lastTransitionTime : now;
    return generation === undefined
      ? { ...w, lastTransitionTime }
      : { ...w, lastTransitionTime, observedGeneration: generation };
  });
  for (const c of current ?? []) if (!out.some((o) => o.type === c.type)) out.push(c);
  return out;
}
