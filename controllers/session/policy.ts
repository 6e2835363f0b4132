import { DEFAULTS, type SessionSpec } from './types.js';

/** The retry policy with defaults applied. */
export interface EffectiveRetry {
  limit: number;
  initialSeconds: number;
  factor: number;
  maxSeconds: number;
  onExitCodes: number[] | undefined;
}

export function effectiveRetry(spec: SessionSpec): EffectiveRetry {
  const r = spec.retry ?? {};
  return {
    limit: r.limit ?? DEFAULTS.retryLimit,
    initialSeconds: r.backoff?.initialSeconds ?? DEFAULTS.backoffInitialSeconds,
    factor: r.backoff?.factor ?? DEFAULTS.backoffFactor,
    maxSeconds: r.backoff?.maxSeconds ?? DEFAULTS.backoffMaxSeconds,
    onExitCodes: r.onExitCodes && r.onExitCodes.length > 0 ? r.onExitCodes : undefined,
  };
}

/** Seconds to wait after failed attempt `attempt` (1-based): initial × factor^(attempt−1), capped. */
export function backoffSeconds(retry: EffectiveRetry, attempt: number): number {
  const s = retry.initialSeconds * retry.factor ** (attempt - 1);
  return Number.isFinite(s) ? Math.min(s, retry.maxSeconds) : retry.maxSeconds;
}

/** Whether failed attempt `attempt` (1-based) with `exitCode` may be retried. */
export function mayRetry(retry: EffectiveRetry, attempt: number, exitCode: number | undefined): boolean {
  if (attempt > retry.limit) return false;
  if (retry.onExitCodes === undefined) return true;
  return exitCode !== undefined && retry.onExitCodes.includes(exitCode);
}

const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isNum = (v: unknown, min: number) => typeof v === 'number' && Number.isFinite(v) && v >= min;
const isStringArray = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isStringMap = (v: unknown) =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');

/**
 * Checks what the CRD schema checks, for objects that bypassed it (an older CRD, a fake
 * client). Returns the first problem as a one-line message, or undefined.
 */
export function validateSpec(spec: unknown, runnerImage: string | undefined): string | undefined {
  if (spec === undefined || spec === null) return 'spec is required';
  if (typeof spec !== 'object' || Array.isArray(spec)) return 'spec must be an object';
  const s = spec as Record<string, unknown>;
  const t = (s.template ?? {}) as Record<string, unknown>;
  if (typeof t !== 'object' || Array.isArray(t)) return 'spec.template must be an object';
  const image = t.image ?? runnerImage;
  if (typeof image !== 'string' || image === '') {
    return 'spec.template.image is not set and the operator has no --runner-image';
  }
  if (t.command !== undefined && !isStringArray(t.command))
    return 'spec.template.command must be a list of strings';
  if (t.args !== undefined && !isStringArray(t.args)) return 'spec.template.args must be a list of strings';
  if (t.env !== undefined) {
    if (!Array.isArray(t.env)) return 'spec.template.env must be a list';
    for (const e of t.env as unknown[]) {
      if (typeof e !== 'object' || e === null || typeof (e as { name?: unknown }).name !== 'string') {
        return 'spec.template.env entries need a name';
      }
      if ((e as { name: string }).name.startsWith('STEWARD_')) {
        return `spec.template.env: ${(e as { name: string }).name} is reserved (STEWARD_ variables are set by Steward)`;
      }
    }
  }
  for (const f of ['labels', 'annotations', 'nodeSelector'] as const) {
    if (t[f] !== undefined && !isStringMap(t[f])) return `spec.template.${f} must map strings to strings`;
  }
  if (s.startTimeoutSeconds !== undefined && !isInt(s.startTimeoutSeconds, 1)) {
    return 'spec.startTimeoutSeconds must be an integer >= 1';
  }
  if (s.timeoutSeconds !== undefined && !isInt(s.timeoutSeconds, 1))
    return 'spec.timeoutSeconds must be an integer >= 1';
  if (s.ttlSecondsAfterFinished !== undefined && !isInt(s.ttlSecondsAfterFinished, 0)) {
    return 'spec.ttlSecondsAfterFinished must be an integer >= 0';
  }
  if (s.cancel !== undefined && typeof s.cancel !== 'boolean') return 'spec.cancel must be true or false';
  if (s.retry !== undefined) {
    const r = s.retry as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) return 'spec.retry must be an object';
    if (r.limit !== undefined && !isInt(r.limit, 0, 100))
      return 'spec.retry.limit must be an integer from 0 to 100';
    const b = (r.backoff ?? {}) as Record<string, unknown>;
    if (b.initialSeconds !== undefined && !isInt(b.initialSeconds, 0)) {
      return 'spec.retry.backoff.initialSeconds must be an integer >= 0';
    }
    if (b.factor !== undefined && !isNum(b.factor, 1))
      return 'spec.retry.backoff.factor must be a number >= 1';
    if (b.maxSeconds !== undefined && !isInt(b.maxSeconds, 0))
      return 'spec.retry.backoff.maxSeconds must be an integer >= 0';
    const initial = (b.initialSeconds as number | undefined) ?? DEFAULTS.backoffInitialSeconds;
    const max = (b.maxSeconds as number | undefined) ?? DEFAULTS.backoffMaxSeconds;
    if (max < initial) return 'spec.retry.backoff.maxSeconds must be >= initialSeconds';
    if (r.onExitCodes !== undefined) {
      if (!Array.isArray(r.onExitCodes) || !r.onExitCodes.every((c) => isInt(c, 0, 255))) {
        return 'spec.retry.onExitCodes must be a list of integers from 0 to 255';
      }
    }
  }
  return undefined;
}
