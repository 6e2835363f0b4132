import { CONDITION_FINISHED, CONDITION_RUNNING, type Condition, isTerminal, type Phase } from './types.js';

/**
 * The Session's conditions after moving to `phase`: Running is True while the pod runs;
 * Finished is True once the phase is terminal. `lastTransitionTime` changes only when a
 * condition's status does, as the Kubernetes API conventions ask.
 */
export function setConditions(
  current: Condition[] | undefined,
  phase: Phase,
  reason: string,
  message: string,
  now: string,
  generation: number | undefined,
): Condition[] {
  const wanted: Array<Omit<Condition, 'lastTransitionTime'>> = [
    { type: CONDITION_RUNNING, status: phase === 'Running' ? 'True' : 'False', reason, message },
    {
      type: CONDITION_FINISHED,
      status: isTerminal(phase) ? 'True' : 'False',
      reason: isTerminal(phase) ? phase : reason,
      message,
    },
  ];
  const out: Condition[] = wanted.map((w) => {
    const prev = current?.find((c) => c.type === w.type);
    const lastTransitionTime = prev !== undefined && prev.status === w.status ? prev.lastTransitionTime : now;
    return generation === undefined
      ? { ...w, lastTransitionTime }
      : { ...w, lastTransitionTime, observedGeneration: generation };
  });
  // Keep conditions other writers own.
  for (const c of current ?? []) if (!out.some((o) => o.type === c.type)) out.push(c);
  return out;
}
