/**
 * Status conditions as the Kubernetes API conventions define them (`metav1.Condition`):
 * observations of an object's state, one per `type`, each True, False or Unknown with a
 * CamelCase `reason`, a human `message`, the `lastTransitionTime` at which the status last
 * changed, and the `observedGeneration` (the object's `metadata.generation`) it was computed
 * from. These are apimachinery's `meta.SetStatusCondition` and friends, as pure functions over
 * arrays: they never mutate what they are given, so a reconciler can decide on a copy and write
 * only when something changed.
 */
import { rfc3339Time } from '../client/time.js';

/** A condition's status. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** One condition, as `metav1.Condition` serialises it. */
export interface Condition {
  /** CamelCase, e.g. `Ready`, `Finished`. Unique within a status. */
  type: string;
  status: ConditionStatus;
  /** CamelCase cause of the current status, e.g. `JobCreated`. */
  reason: string;
  /** Human-readable detail; may be empty. */
  message: string;
  /** RFC 3339 (seconds) time the status last changed; kept when only reason or message change. */
  lastTransitionTime: string;
  /** The `metadata.generation` this condition was computed from. */
  observedGeneration?: number;
}

/** What a writer says about a condition; `lastTransitionTime` is the helper's business. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

/** The condition of this type, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Whether the condition of this type is present with status True. */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Whether the condition of this type is present with status False. */
export function isConditionFalse(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'False';
}

/**
 * Conditions with `condition` set. A new type is appended; an existing one keeps its place and
 * takes the new reason, message and observedGeneration (left out when the input has none), while
 * its `lastTransitionTime` changes only when the status does (to `condition.lastTransitionTime` if
 * given, else `now`).
 *
 * Returns `conditions` itself when nothing changed, so `next !== current` tells a reconciler
 * whether a status write is needed. Never mutates its arguments.
 *
 * @param now the instant of a transition, as ms since the epoch or RFC 3339; pass your `Clock`'s
 *   `now()` so tests decide it. Default `Date.now()`.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  condition: ConditionInput,
  now: number | string = Date.now(),
): Condition[] {
  const current = conditions ?? [];
  const i = current.findIndex((c) => c.type === condition.type);
  const prev = i >= 0 ? current[i] : undefined;
  const transitioned = prev === undefined || prev.status !== condition.status;
  const lastTransitionTime = transitioned
    ? (condition.lastTransitionTime ?? (typeof now === 'string' ? now : rfc3339Time(now)))
    : prev.lastTransitionTime;
  const next: Condition = {
    type: condition.type,
    status: condition.status,
    reason: condition.reason,
    message: condition.message,
    lastTransitionTime,
  };
  if (condition.observedGeneration !== undefined) next.observedGeneration = condition.observedGeneration;
  if (prev !== undefined && conditionEquals(prev, next)) return current as Condition[];
  const out = current.slice();
  if (i >= 0) out[i] = next;
  else out.push(next);
  return out;
}

/** Conditions without the one of this type; `conditions` itself when it had none. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  const current = conditions ?? [];
  return current.some((c) => c.type === type)
    ? current.filter((c) => c.type !== type)
    : (current as Condition[]);
}

/** Whether two conditions say the same thing, field by field. */
export function conditionEquals(a: Condition, b: Condition): boolean {
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.lastTransitionTime === b.lastTransitionTime &&
    a.observedGeneration === b.observedGeneration
  );
}
