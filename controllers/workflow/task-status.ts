import type { Session } from '../session/index.js';
import { isTaskTerminal, type TaskStatus } from './types.js';

/**
 * A task's status from its Session. A terminal task keeps what was recorded (its Session may be
 * gone since, or a cache may lag behind what an earlier reconcile saw); otherwise the Session
 * says: not finished → Running, Succeeded → Succeeded, Failed or TimedOut → Failed (with the
 * Session's reason and message, such as ExitCode or RunTimeout), Cancelled → Cancelled. No Session (and
 * none known to exist) → what was recorded, or Pending.
 */
export function observeTask(recorded: TaskStatus | undefined, session: Session | undefined): TaskStatus {
  if (recorded !== undefined && isTaskTerminal(recorded.phase)) return recorded;
  if (session === undefined) return recorded ?? { phase: 'Pending' };
  const s = session.status ?? {};
  const base: TaskStatus = {
    phase: 'Running',
    session: session.metadata!.name!,
    startTime: recorded?.startTime ?? session.metadata?.creationTimestamp,
  };
  if (s.attempt) base.attempt = s.attempt;
  switch (s.phase) {
    case 'Succeeded':
    case 'Failed':
    case 'TimedOut':
    case 'Cancelled': {
      const out: TaskStatus = {
        ...base,
        phase: s.phase === 'TimedOut' ? 'Failed' : s.phase,
        reason: s.reason ?? s.phase,
      };
      // A success needs no words (its Session says "Job … completed"); a Workflow of a thousand
      // tasks carries a thousand of these entries in every status write.
      if (s.phase !== 'Succeeded') out.message = s.message ?? '';
      if (s.exitCode !== undefined) out.exitCode = s.exitCode;
      if (s.completionTime) out.completionTime = s.completionTime;
      return out;
    }
    default:
      return base;
  }
}

const FIELDS = [
  'phase',
  'session',
  'attempt',
  'exitCode',
  'reason',
  'message',
  'startTime',
  'completionTime',
] as const satisfies ReadonlyArray<keyof TaskStatus>;

export function sameTaskStatus(a: TaskStatus | undefined, b: TaskStatus | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return FIELDS.every((f) => a[f] === b[f]);
}

/**
 * The merge-patch value for a task entry moving from `before` to `after`: every field of
 * `after`, and null for fields `before` had and `after` has not (a merge patch keeps fields it
 * does not mention).
 */
export function taskPatch(before: TaskStatus | undefined, after: TaskStatus): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) {
    if (after[f] !== undefined) out[f] = after[f];
    else if (before?.[f] !== undefined) out[f] = null;
  }
  return out;
}
