import { applyMergePatch, type ObjectMeta, setCondition } from '../../lib/index.js';
import {
  boundReason,
  MAX_HISTORY,
  MAX_HISTORY_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MAX_RESULT_LENGTH,
  truncate,
} from './bounds.js';
import type { Change } from './transitions.js';
import {
  type AttemptRecord,
  CONDITION_FINISHED,
  CONDITION_RUNNING,
  type Condition,
  isTerminal,
  type Phase,
  type Session,
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

/** What the smallest terminal status says at most, so that it fits where a full one did not. */
const SMALLEST_MESSAGE_LENGTH = 512;

/**
 * The status to record instead of `change` when the Session leaves no room for it (the API
 * refused the write as too large: the spec is within a few KB of etcd's limit): `change` itself
 * if terminal, else Failed/InvalidSpec, with a short message saying why, and only the fields a
 * user needs. The caller drops the conditions and keeps the stored history, so the write adds
 * less than any other could.
 */
export function smallestTerminal(
  change: Change,
  apiMessage: string,
  now: string,
): Change & { completionTime: string } {
  const why = `the Session is too large to hold its status (${truncate(apiMessage, 160)})`;
  const terminal = isTerminal(change.phase);
  const out: Change & { completionTime: string } = {
    phase: terminal ? change.phase : 'Failed',
    reason: terminal ? change.reason : 'InvalidSpec',
    message: truncate(
      terminal
        ? `${why}; ${change.message}`
        : `Cannot record the Session's progress: ${why}; keep its spec well under 1.5 MiB`,
      SMALLEST_MESSAGE_LENGTH,
    ),
    completionTime: change.completionTime ?? now,
  };
  if (change.attempt !== undefined) out.attempt = change.attempt;
  if (change.exitCode !== undefined) out.exitCode = change.exitCode;
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

/**
 * The Session a status merge patch made of `session`, from the server's metadata-only answer:
 * the patch was conditional on `session`'s resourceVersion, so the server applied it to exactly
 * that object. The status has no server-side defaults, so merging locally gives what the server
 * stored; the metadata (the new resourceVersion above all, which the next conditional write
 * sends) is the server's, without `managedFields`, as the cache holds Sessions.
 */
export function patchedSession(
  session: Session,
  metadata: ObjectMeta | undefined,
  statusPatch: Record<string, unknown>,
): Session {
  if (metadata?.resourceVersion === undefined) {
    throw new Error('the API server answered a status patch without a resourceVersion');
  }
  const { managedFields: _, ...meta } = metadata;
  // String keys only: marks kept in symbol keys (a Pending not written yet) describe the
  // Session as read, not as written.
  const out: Session = {};
  for (const k of Object.keys(session)) out[k] = session[k];
  out.metadata = meta;
  out.status = applyMergePatch(session.status, statusPatch) as SessionStatus;
  return out;
}
