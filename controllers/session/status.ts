import { setCondition } from '../../lib/index.js';
import { boundReason, MAX_MESSAGE_LENGTH, truncate } from './bounds.js';
import {
  CONDITION_FINISHED,
  CONDITION_RUNNING,
  type Condition,
  isTerminal,
  type Phase,
  type SessionStatus,
} from './types.js';

/**
 * A status change with every free-text field cut to what the CRD schema allows, and a reason
 * that is not a valid condition reason (one copied from a Job, say) replaced, so that the API
 * server never refuses the write for its content.
 */
export function boundStatus<T extends Partial<SessionStatus>>(change: T): T {
  const out = { ...change };
  if (out.message !== undefined) out.message = truncate(out.message, MAX_MESSAGE_LENGTH);
  if (out.reason !== undefined) out.reason = boundReason(out.reason, 'Unknown');
  return out;
}

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
