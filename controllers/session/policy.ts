import {
  MAX_BACKOFF_FACTOR,
  MAX_INPUT_BYTES,
  MAX_INPUT_DEPTH,
  MAX_RETRY_LIMIT,
  MAX_TEMPLATE_DEPTH,
  MAX_SECONDS,
} from './bounds.js';
import type { Failure } from './failure.js';
import {
  DEFAULT_RETRY_ON,
  DEFAULTS,
  DISRUPTION_CLASSES,
  FAILURE_CLASSES,
  type FailureClass,
  MAX_IGNORED_DISRUPTIONS,
  type SessionSpec,
} from './types.js';

/** The retry policy with defaults applied. */
export interface EffectiveRetry {
  limit: number;
  initialSeconds: number;
  factor: number;
  maxSeconds: number;
  /** The classes that may be retried. */
  on: ReadonlySet<FailureClass>;
  onExitCodes: number[] | undefined;
  ignoreDisruptions: boolean;
}

/** The Session's retry policy with the defaults filled in. */
export function effectiveRetry(spec: SessionSpec): EffectiveRetry {
  const r = spec.retry ?? {};
  return {
    limit: r.limit ?? DEFAULTS.retryLimit,
    initialSeconds: r.backoff?.initialSeconds ?? DEFAULTS.backoffInitialSeconds,
    factor: r.backoff?.factor ?? DEFAULTS.backoffFactor,
    maxSeconds: r.backoff?.maxSeconds ?? DEFAULTS.backoffMaxSeconds,
    on: new Set(r.on ?? DEFAULT_RETRY_ON),
    onExitCodes: r.onExitCodes && r.onExitCodes.length > 0 ? r.onExitCodes : undefined,
    ignoreDisruptions: r.ignoreDisruptions ?? false,
  };
}

/** Whether a failed attempt is retried, and whether it counts against `limit`. */
export interface RetryDecision {
  retry: boolean;
  /** False for a disruption that retry.ignoreDisruptions leaves uncounted. */
  counted: boolean;
  /** Why not, when not retried: for the Session's message. */
  why?: string;
}

/** Classes whose failure is the workload's own exit: `onExitCodes` narrows these. */
const EXIT_CLASSES: ReadonlySet<FailureClass> = new Set(['ExitCode', 'OOMKilled']);

/**
 * Whether failed attempt `attempt` (1-based) is retried, given how many earlier failures went
 * uncounted (`ignored`). The class must be in `retry.on`; an ExitCode or OOMKilled failure must
 * have one of `onExitCodes`, if set (disruptions and the other classes retry regardless, as
 * their exit code says nothing about the workload); and the counted failures, this one
 * included, must not exceed `limit` — except a disruption under `ignoreDisruptions`, which is
 * not counted (up to MAX_IGNORED_DISRUPTIONS of them).
 */
export function retryDecision(
  retry: EffectiveRetry,
  attempt: number,
  ignored: number,
  failure: Pick<Failure, 'class' | 'exitCode'>,
): RetryDecision {
  if (!retry.on.has(failure.class)) {
    return { retry: false, counted: true, why: `${failure.class} is not in retry.on` };
  }
  if (EXIT_CLASSES.has(failure.class) && retry.onExitCodes !== undefined) {
    if (failure.exitCode === undefined || !retry.onExitCodes.includes(failure.exitCode)) {
      return {
        retry: false,
        counted: true,
        why: `exit code ${failure.exitCode ?? 'unknown'} is not in retry.onExitCodes`,
      };
    }
  }
  if (DISRUPTION_CLASSES.has(failure.class) && retry.ignoreDisruptions && ignored < MAX_IGNORED_DISRUPTIONS) {
    return { retry: true, counted: false };
  }
  if (attempt - ignored > retry.limit) {
    return { retry: false, counted: true, why: `retry.limit ${retry.limit} reached` };
  }
  return { retry: true, counted: true };
}

/** Seconds to wait after failed attempt `attempt` (1-based): initial × factor^(attempt−1), capped. */
export function backoffSeconds(retry: EffectiveRetry, attempt: number): number {
  const s = retry.initialSeconds * retry.factor ** (attempt - 1);
  return Number.isFinite(s) ? Math.min(s, retry.maxSeconds) : retry.maxSeconds;
}

const isInt = (v: unknown, min: number, max: number) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isNum = (v: unknown, min: number, max: number) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const seconds = (field: string, min: number) => `${field} must be an integer from ${min} to ${MAX_SECONDS}`;
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
      const name = (e as { name: string }).name;
      // STEWARD_SCHEDULED_TIME is the one a Schedule puts here, for the runs it starts.
      if (name.startsWith('STEWARD_') && name !== 'STEWARD_SCHEDULED_TIME') {
        return `spec.template.env: ${name} is reserved (STEWARD_ variables are set by Steward)`;
      }
    }
  }
  const deep = templateDepthProblem(t);
  if (deep !== undefined) return deep;
  for (const f of ['labels', 'annotations', 'nodeSelector'] as const) {
    if (t[f] !== undefined && !isStringMap(t[f])) return `spec.template.${f} must map strings to strings`;
  }
  for (const [field, min] of [
    ['startTimeoutSeconds', 1],
    ['timeoutSeconds', 1],
    ['ttlSecondsAfterFinished', 0],
  ] as const) {
    if (s[field] !== undefined && !isInt(s[field], min, MAX_SECONDS)) return seconds(`spec.${field}`, min);
  }
  if (s.cancel !== undefined && typeof s.cancel !== 'boolean') return 'spec.cancel must be true or false';
  if (s.imagePullGraceSeconds !== undefined && !isInt(s.imagePullGraceSeconds, 0, MAX_SECONDS)) {
    return seconds('spec.imagePullGraceSeconds', 0);
  }
  if (s.retry !== undefined) {
    const r = s.retry as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'spec.retry must be an object';
    if (r.limit !== undefined && !isInt(r.limit, 0, MAX_RETRY_LIMIT))
      return `spec.retry.limit must be an integer from 0 to ${MAX_RETRY_LIMIT}`;
    const b = (r.backoff ?? {}) as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || Array.isArray(b))
      return 'spec.retry.backoff must be an object';
    if (b.initialSeconds !== undefined && !isInt(b.initialSeconds, 0, MAX_SECONDS)) {
      return seconds('spec.retry.backoff.initialSeconds', 0);
    }
    if (b.factor !== undefined && !isNum(b.factor, 1, MAX_BACKOFF_FACTOR))
      return `spec.retry.backoff.factor must be a number from 1 to ${MAX_BACKOFF_FACTOR}`;
    if (b.maxSeconds !== undefined && !isInt(b.maxSeconds, 0, MAX_SECONDS))
      return seconds('spec.retry.backoff.maxSeconds', 0);
    const initial = (b.initialSeconds as number | undefined) ?? DEFAULTS.backoffInitialSeconds;
    const max = (b.maxSeconds as number | undefined) ?? DEFAULTS.backoffMaxSeconds;
    if (max < initial) return 'spec.retry.backoff.maxSeconds must be >= initialSeconds';
    if (r.on !== undefined) {
      const known = FAILURE_CLASSES as readonly unknown[];
      if (!Array.isArray(r.on) || !r.on.every((c) => known.includes(c))) {
        return `spec.retry.on must be a list of failure classes (${FAILURE_CLASSES.join(', ')})`;
      }
    }
    if (r.ignoreDisruptions !== undefined && typeof r.ignoreDisruptions !== 'boolean') {
      return 'spec.retry.ignoreDisruptions must be true or false';
    }
    if (r.onExitCodes !== undefined) {
      if (!Array.isArray(r.onExitCodes) || !r.onExitCodes.every((c) => isInt(c, 0, 255))) {
        return 'spec.retry.onExitCodes must be a list of integers from 0 to 255';
      }
    }
  }
  return inputProblem(s.input);
}

/**
 * Why `input` cannot be handed to the pod, or undefined. The depth is measured without
 * recursion (an input nested thousands of levels would overflow the stack of anything that
 * recursed, JSON.stringify included), and only then is the input serialized to measure it.
 */
export function inputProblem(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  if (nestedDeeperThan(input, MAX_INPUT_DEPTH)) {
    return `spec.input is nested more than ${MAX_INPUT_DEPTH} levels deep`;
  }
  const bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes > MAX_INPUT_BYTES) {
    return `spec.input is ${bytes} bytes as JSON; at most ${MAX_INPUT_BYTES} fit in the STEWARD_INPUT environment variable`;
  }
  return undefined;
}

/**
 * Why a free-form field of the template (kept unknown fields and all by the schema) cannot be
 * put in a Job, or undefined: nested too deeply for the Job's serialization to survive.
 */
function templateDepthProblem(t: Record<string, unknown>): string | undefined {
  const fields: Array<[string, unknown]> = [];
  const list = (name: string) => (Array.isArray(t[name]) ? (t[name] as unknown[]) : []);
  list('env').forEach((e, i) => {
    if (typeof e === 'object' && e !== null)
      fields.push([`env[${i}].valueFrom`, (e as { valueFrom?: unknown }).valueFrom]);
  });
  list('envFrom').forEach((e, i) => fields.push([`envFrom[${i}]`, e]));
  list('tolerations').forEach((e, i) => fields.push([`tolerations[${i}]`, e]));
  for (const [path, value] of fields) {
    if (nestedDeeperThan(value, MAX_TEMPLATE_DEPTH)) {
      return `spec.template.${path} is nested more than ${MAX_TEMPLATE_DEPTH} levels deep`;
    }
  }
  return undefined;
}

/**
 * Whether `value` nests objects or arrays more than `max` levels deep (a top-level object is one
 * level). Measured without recursion: a value nested thousands of levels would overflow the
 * stack of anything that recursed, JSON.stringify included.
 */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
