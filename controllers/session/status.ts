import { setCondition } from '../../lib/index.js';
import { CONDITION_FINISHED, CONDITION_RUNNING, type Condition, isTerminal, type Phase } from './types.js';

/**
 * The Session's conditions after moving to `phase`: Running is True while the pod runs;
 * Finished is True once the phase is terminal. `setCondition` keeps each condition's
 * `lastTransitionTime` unless its status changes, and the conditions other writers own.
 */
export function setConditions(
  current: Condition[] | undefined,
  phase: Phase,
  reason: string,
  message: string,
  now: string,
  generation: number | undefined,
): Condition[] {
  const observedGeneration = generation === undefined ? {} : { observedGeneration: generation };
  const running = setCondition(
    current,
    {
      type: CONDITION_RUNNING,
      status: phase === 'Running' ? 'True' : 'False',
      reason,
      message,
      ...observedGeneration,
    },
    now,
  );
  return setCondition(
    running,
    {
      type: CONDITION_FINISHED,
      status: isTerminal(phase) ? 'True' : 'False',
      reason: isTerminal(phase) ? phase : reason,
      message,
      ...observedGeneration,
    },
    now,
  );
}
