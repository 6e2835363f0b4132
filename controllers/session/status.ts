import { setCondition } from '../../lib/index.js';
import {
  boundReason,
  MAX_HISTORY,
  MAX_HISTORY_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MAX_RESULT_LENGTH,
  truncate,
} from './bounds.js';
import {
  type AttemptRecord,
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
  if (out.result !== undefined) out.result = truncate(out.result, MAX_RESULT_LENGTH);
  if (out.reason !== undefined) out.reason = boundReason(out.reason, 'Unknown');
  return out;
}

/**
 * `history` with `entry` recorded: an entry for the same attempt is replaced (recording is
 * idempotent), the oldest entries beyond MAX_HISTORY are dropped, and the message is bounded.
 */
export function appendHistory(history: AttemptRecord[] | undefined, entry: AttemptRecord): AttemptRecord[] {
  const e: AttemptRecord = { ...entry, reason: boundReason(entry.reason, 'Unknown') };
  if (e.message !== undefined) e.message = truncate(e.message, MAX_HISTORY_MESSAGE_LENGTH);
  for (const k of Object.keys(e) as Array<keyof AttemptRecord>) if (e[k] === undefined) delete e[k];
  const kept = (history ?? []).filter((h) => h.attempt !== e.attempt);
  return [...kept, e].sort((a, b) => a.attempt - b.attempt).slice(-MAX_HISTORY);
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
