import { createHash } from 'node:crypto';
import {
  apiVersionOf,
  type GVK,
  type KubernetesObject,
  rfc3339Time,
  setControllerReference,
} from '../../lib/index.js';
import { SESSION_GVK, type SessionSpec } from '../session/index.js';
import {
  ANNOTATION_SCHEDULE,
  ANNOTATION_SCHEDULED_TIME,
  ANNOTATION_TRIGGER,
  ENV_SCHEDULED_TIME,
  LABEL_SCHEDULE,
  type RunReference,
  type RunTemplateMetadata,
  type Schedule,
  type ScheduleSpec,
  WORKFLOW_GVK,
} from './types.js';

const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';

/**
 * What the Schedule controller knows about a kind of run. Nothing else is assumed about it: the
 * run's spec is the template's, copied; `spec.cancel: true` cancels it; `status.phase` tells
 * whether it is active, succeeded or failed; `status.completionTime` when it finished.
 */
export interface RunKind {
  readonly gvk: GVK;
  /** The Schedule spec field holding this kind's template. */
  readonly field: 'sessionTemplate' | 'workflowTemplate';
  readonly succeeded: ReadonlySet<string>;
  /** Terminal phases other than success (failed, timed out, cancelled). */
  readonly failed: ReadonlySet<string>;
  /** The run's spec from the template's, with STEWARD_SCHEDULED_TIME added for its pods. */
  specFor(templateSpec: unknown, scheduledTime: string): Record<string, unknown>;
}

/** A Session spec (copied) with STEWARD_SCHEDULED_TIME in its template's env, replacing any given. */
function withScheduledTime(sessionSpec: unknown, scheduledTime: string): SessionSpec {
  const spec = structuredClone((sessionSpec ?? {}) as SessionSpec);
  const template = spec.template ?? {};
  template.env = [
    ...(template.env ?? []).filter((e) => e.name !== ENV_SCHEDULED_TIME),
    { name: ENV_SCHEDULED_TIME, value: scheduledTime },
  ];
  spec.template = template;
  return spec;
}

/** Runs that are Sessions (`spec.sessionTemplate`). */
export const SESSION_RUNS: RunKind = {
  gvk: SESSION_GVK,
  field: 'sessionTemplate',
  succeeded: new Set(['Succeeded']),
  failed: new Set(['Failed', 'TimedOut', 'Cancelled']),
  specFor(templateSpec, scheduledTime) {
    const spec = withScheduledTime(templateSpec, scheduledTime);
    // A template is never created cancelled: only Replace (or a user) cancels a run.
    delete spec.cancel;
    return spec as Record<string, unknown>;
  },
};

/** Runs that are Workflows (`spec.workflowTemplate`). */
export const WORKFLOW_RUNS: RunKind = {
  gvk: WORKFLOW_GVK,
  field: 'workflowTemplate',
  succeeded: new Set(['Succeeded']),
  failed: new Set(['Failed', 'Cancelled']),
  specFor(templateSpec, scheduledTime) {
    // Each task is a Session spec (tasks[].session): its pod gets STEWARD_SCHEDULED_TIME too.
    const spec = structuredClone((templateSpec ?? {}) as Record<string, unknown>);
    if (Array.isArray(spec.tasks)) {
      spec.tasks = spec.tasks.map((task: unknown) =>
        typeof task === 'object' && task !== null && 'session' in task
          ? { ...task, session: withScheduledTime((task as { session: unknown }).session, scheduledTime) }
          : task,
      );
    }
    delete spec.cancel;
    return spec;
  },
};

/** Every kind a Schedule can run. */
export const RUN_KINDS: readonly RunKind[] = [SESSION_RUNS, WORKFLOW_RUNS];

/** The kind of run a spec makes: the one whose template is set (the schema allows exactly one). */
export function runKindOf(spec: ScheduleSpec | undefined): RunKind | undefined {
  if (spec?.sessionTemplate !== undefined && spec.workflowTemplate === undefined) return SESSION_RUNS;
  if (spec?.workflowTemplate !== undefined && spec.sessionTemplate === undefined) return WORKFLOW_RUNS;
  return undefined;
}

const hash8 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** `prefix-suffix`, kept to 63 characters by shortening the prefix and adding a hash of it. */
function boundedName(prefix: string, suffix: string): string {
  const name = `${prefix}-${suffix}`;
  if (name.length <= 63) return name;
  const keep = 63 - suffix.length - 1 - 9;
  return `${prefix.slice(0, keep).replace(/[-.]+$/, '')}-${hash8(prefix)}-${suffix}`;
}

/**
 * The name of the run for a scheduled time: `<schedule>-<unix seconds>`. Deterministic, so that
 * a second create for the same time (after a restart, a failover, or from a stale cache) finds
 * the run the first made instead of starting another.
 */
export function runName(schedule: string, scheduledMs: number): string {
  return boundedName(schedule, String(Math.floor(scheduledMs / 1000)));
}

/** The name of a manual run (`stewardctl trigger`): `<schedule>-manual-<suffix>`. */
export function manualRunName(schedule: string, suffix: string): string {
  return boundedName(schedule, `manual-${suffix}`);
}

/** The label value for a Schedule name (labels are limited to 63 characters). */
export function scheduleLabelValue(schedule: string): string {
  if (schedule.length <= 63) return schedule;
  return `${schedule.slice(0, 54).replace(/[-._]+$/, '')}-${hash8(schedule)}`;
}

/** Keys under steward.dev/ are Steward's (the schedule, the scheduled time, a Session's workflow): not a template's. */
const RESERVED_PREFIX = 'steward.dev/';

/**
 * A template's labels or annotations without the steward.dev/ keys. The CRD refuses them; this
 * covers objects that bypassed it, so that a template can never make a scheduled run look manual
 * (steward.dev/trigger), move its time, or claim another owner's keys.
 */
function unreserved(m: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !k.startsWith(RESERVED_PREFIX)));
}

/** How `buildRun` names and marks a run. */
export interface BuildRunOptions {
  /** A manual run (`stewardctl trigger`): named by `name`, annotated steward.dev/trigger=manual. */
  manual?: boolean;
  name?: string;
}

/**
 * The run object for `scheduledMs`: the template's labels, annotations and spec, owned by the
 * Schedule (controller owner reference, so it is garbage-collected with it), labelled and
 * annotated with the Schedule and the scheduled time.
 */
export function buildRun(
  schedule: Schedule,
  kind: RunKind,
  scheduledMs: number,
  opts: BuildRunOptions = {},
): KubernetesObject {
  const name = schedule.metadata!.name!;
  const template = (schedule.spec?.[kind.field] ?? {}) as { metadata?: RunTemplateMetadata; spec?: unknown };
  const scheduledTime = rfc3339Time(scheduledMs);
  const annotations: Record<string, string> = {
    ...unreserved(template.metadata?.annotations),
    [ANNOTATION_SCHEDULE]: name,
    [ANNOTATION_SCHEDULED_TIME]: scheduledTime,
  };
  if (opts.manual) annotations[ANNOTATION_TRIGGER] = 'manual';
  const run: KubernetesObject = {
    apiVersion: apiVersionOf(kind.gvk),
    kind: kind.gvk.kind,
    metadata: {
      name: opts.name ?? runName(name, scheduledMs),
      namespace: schedule.metadata!.namespace,
      labels: {
        ...unreserved(template.metadata?.labels),
        [LABEL_MANAGED_BY]: 'steward',
        [LABEL_SCHEDULE]: scheduleLabelValue(name),
      },
      annotations,
    },
    spec: kind.specFor(template.spec, scheduledTime),
  };
  // Garbage-collected with the Schedule; foreground deletion of the Schedule waits for it.
  return setControllerReference(schedule, run);
}

/** Where a run stands, from its phase. */
export type RunState = 'active' | 'succeeded' | 'failed';

/** One run as the decision needs it. */
export interface RunView {
  ref: RunReference;
  state: RunState;
  phase?: string;
  /** The scheduled time it is for (a manual run: when it was triggered). */
  scheduledTime?: number;
  manual: boolean;
  /** When it finished (its status.completionTime), for finished runs. */
  completionTime?: number;
  creationTime?: number;
  /** spec.cancel is set: it is being cancelled. */
  cancelRequested: boolean;
}

const ms = (t: unknown) => (typeof t === 'string' ? Date.parse(t) : NaN);
const orUndefined = (n: number) => (Number.isNaN(n) ? undefined : n);

/** What the decision needs of a run object of `kind`. */
export function viewRun(kind: RunKind, obj: KubernetesObject): RunView {
  const status = (obj.status ?? {}) as { phase?: string; completionTime?: string };
  const spec = (obj.spec ?? {}) as { cancel?: boolean };
  const phase = status.phase;
  const state: RunState =
    phase !== undefined && kind.succeeded.has(phase)
      ? 'succeeded'
      : phase !== undefined && kind.failed.has(phase)
        ? 'failed'
        : 'active';
  const meta = obj.metadata ?? {};
  return {
    ref: {
      apiVersion: obj.apiVersion ?? apiVersionOf(kind.gvk),
      kind: obj.kind ?? kind.gvk.kind,
      name: meta.name!,
      namespace: meta.namespace,
      uid: meta.uid!,
    },
    state,
    phase,
    scheduledTime: orUndefined(ms(meta.annotations?.[ANNOTATION_SCHEDULED_TIME])),
    manual: meta.annotations?.[ANNOTATION_TRIGGER] === 'manual',
    completionTime: orUndefined(ms(status.completionTime)),
    creationTime: orUndefined(ms(meta.creationTimestamp)),
    cancelRequested: spec.cancel === true,
  };
}
