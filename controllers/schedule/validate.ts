import { validateSpec as validateSessionSpec } from '../session/index.js';
import { parseWorkflow } from '../workflow/index.js';
import { CronError, CronSchedule } from './cron.js';
import { CONCURRENCY_POLICIES, DEFAULTS, type ScheduleSpec } from './types.js';

/** Why a spec cannot work: a CamelCase reason and a one-line message naming the field. */
export interface SpecProblem {
  reason: 'InvalidSchedule' | 'InvalidTimeZone' | 'InvalidSpec' | 'InvalidTemplate';
  message: string;
}

const isInt = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks what the CRD schema checks (for objects that bypassed it: an older CRD, a fake client)
 * and what it cannot: that croner accepts the expression and the process knows the zone.
 * Returns the parsed schedule, or the first problem.
 */
export function validateScheduleSpec(
  spec: unknown,
  opts: { runnerImage?: string } = {},
): { cron: CronSchedule } | { problem: SpecProblem } {
  const invalid = (message: string) => ({ problem: { reason: 'InvalidSpec' as const, message } });
  if (!isObject(spec)) return invalid('spec is required and must be an object');
  const s = spec as ScheduleSpec & Record<string, unknown>;
  if (typeof s.schedule !== 'string' || s.schedule.trim() === '') return invalid('spec.schedule is required');
  if (s.timeZone !== undefined && typeof s.timeZone !== 'string')
    return invalid('spec.timeZone must be a string');
  if (s.concurrencyPolicy !== undefined && !CONCURRENCY_POLICIES.includes(s.concurrencyPolicy)) {
    return invalid(`spec.concurrencyPolicy must be one of ${CONCURRENCY_POLICIES.join(', ')}`);
  }
  if (s.startingDeadlineSeconds !== undefined && !isInt(s.startingDeadlineSeconds, 0)) {
    return invalid('spec.startingDeadlineSeconds must be an integer >= 0');
  }
  if (s.suspend !== undefined && typeof s.suspend !== 'boolean')
    return invalid('spec.suspend must be true or false');
  for (const f of ['successfulRunsHistoryLimit', 'failedRunsHistoryLimit'] as const) {
    if (s[f] !== undefined && !isInt(s[f], 0)) return invalid(`spec.${f} must be an integer >= 0`);
  }
  const templates = (['sessionTemplate', 'workflowTemplate'] as const).filter((f) => s[f] !== undefined);
  if (templates.length !== 1) {
    return invalid('exactly one of spec.sessionTemplate and spec.workflowTemplate must be set');
  }
  const field = templates[0]!;
  const template = s[field];
  if (!isObject(template) || !isObject(template.spec)) {
    return { problem: { reason: 'InvalidTemplate', message: `spec.${field}.spec is required` } };
  }
  if (field === 'sessionTemplate') {
    const problem = validateSessionSpec(template.spec, opts.runnerImage);
    if (problem !== undefined) {
      return {
        problem: {
          reason: 'InvalidTemplate',
          message: `spec.sessionTemplate.${problem}`,
        },
      };
    }
  }
  if (field === 'workflowTemplate') {
    // Cycles too, which the CRD's CEL rules cannot find: refused here, before any run is made.
    const parsed = parseWorkflow(template.spec, opts.runnerImage);
    if ('problem' in parsed) {
      return {
        problem: {
          reason: 'InvalidTemplate',
          message: `spec.workflowTemplate.${parsed.problem.startsWith('spec.') ? '' : 'spec: '}${parsed.problem}`,
        },
      };
    }
  }
  try {
    return { cron: CronSchedule.parse(s.schedule, s.timeZone ?? DEFAULTS.timeZone) };
  } catch (err) {
    if (!(err instanceof CronError)) throw err;
    return {
      problem: {
        reason: err.field === 'timeZone' ? 'InvalidTimeZone' : 'InvalidSchedule',
        message: `spec.${err.field}: ${err.message}`,
      },
    };
  }
}
