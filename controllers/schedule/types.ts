import type { Condition, GVK, KubernetesObject } from '../../lib/index.js';
import type { SessionSpec } from '../session/index.js';

/** The Schedule kind: steward.dev/v1alpha1, namespaced, short name `sched`, category `steward`. */
export const SCHEDULE_GVK: GVK = { group: 'steward.dev', version: 'v1alpha1', kind: 'Schedule' };
/**
 * The Workflow kind a `workflowTemplate` makes (controllers/workflow). The Schedule controller
 * knows only what every run kind has: a spec it copies, `spec.cancel`, `status.phase`.
 */
export const WORKFLOW_GVK: GVK = { group: 'steward.dev', version: 'v1alpha1', kind: 'Workflow' };

/**
 * What a scheduled time does while a run is active, as CronJob's: Allow starts another, Forbid
 * skips the time, Replace cancels the active run and starts the new one.
 */
export const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'] as const;
/** One of `CONCURRENCY_POLICIES`. */
export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];

/** Labels and annotations of a run: its object's own, plus the template's. */
export interface RunTemplateMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** `spec.sessionTemplate`: each run is a Session with this spec (and these labels and annotations). */
export interface SessionRunTemplate {
  metadata?: RunTemplateMetadata;
  spec: SessionSpec;
}

/** `spec.workflowTemplate`: each run is a Workflow with this spec (and these labels and annotations). */
export interface WorkflowRunTemplate {
  metadata?: RunTemplateMetadata;
  /** A Workflow's spec (tasks, …), copied as it is. */
  spec: Record<string, unknown>;
}

/** What a Schedule asks for: when, in which zone, how runs may overlap, and what each run is. */
export interface ScheduleSpec {
  /**
   * A cron expression: 5 fields (minute hour day-of-month month day-of-week), or 6 with a leading
   * seconds field, or one of `@yearly` `@annually` `@monthly` `@weekly` `@daily` `@midnight` `@hourly`.
   */
  schedule: string;
  /** IANA time zone the expression is read in. Default UTC. */
  timeZone?: string;
  /** What to do when a time comes while a run is active. Default Allow. */
  concurrencyPolicy?: ConcurrencyPolicy;
  /** A time missed by more than this is not run (counted as missed). Default: no deadline. */
  startingDeadlineSeconds?: number;
  /** Start no runs; times that pass meanwhile are missed (the latest may still run on resume). */
  suspend?: boolean;
  /** Finished runs kept, per outcome, oldest deleted first. Defaults 3 and 1. */
  successfulRunsHistoryLimit?: number;
  failedRunsHistoryLimit?: number;
  /** Exactly one of these: each run is a Session, or a Workflow. */
  sessionTemplate?: SessionRunTemplate;
  workflowTemplate?: WorkflowRunTemplate;
}

/** A run of the Schedule, as kubectl's ObjectReference shows one. */
export interface RunReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
}

/** What the Schedule controller observed and did, written through the status subresource. */
export interface ScheduleStatus {
  /** Runs that have not finished. */
  active?: RunReference[];
  /** How many runs are active (the ACTIVE column). */
  activeCount?: number;
  /** The latest scheduled time a run was started for. */
  lastScheduleTime?: string;
  /** When the latest successful run finished. */
  lastSuccessfulTime?: string;
  /** The next scheduled time (unset while suspended, or when the expression has no future time). */
  nextScheduleTime?: string;
  /**
   * The latest scheduled time that got no run: missed (the operator was down, the Schedule
   * suspended, or the time past startingDeadlineSeconds) or skipped (Forbid).
   */
  lastMissedTime?: string;
  /** Scheduled times that got no run because they were missed, since the Schedule was created. */
  missedRuns?: number;
  /** Scheduled times skipped under concurrencyPolicy Forbid, since the Schedule was created. */
  skippedRuns?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

/** A Schedule object (see `ScheduleSpec` and `ScheduleStatus`). */
export interface Schedule extends KubernetesObject {
  spec?: ScheduleSpec;
  status?: ScheduleStatus;
}

/** The CRD's defaults for the optional spec fields, as the API server applies them. */
export const DEFAULTS = {
  timeZone: 'UTC',
  concurrencyPolicy: 'Allow' as ConcurrencyPolicy,
  successfulRunsHistoryLimit: 3,
  failedRunsHistoryLimit: 1,
} as const;

/** On every run: the Schedule's name (shortened with a hash past 63 characters). */
export const LABEL_SCHEDULE = 'steward.dev/schedule';
/** On every run: the full Schedule name. */
export const ANNOTATION_SCHEDULE = 'steward.dev/schedule';
/** On every run: the scheduled time it is for (RFC 3339), or the trigger time of a manual run. */
export const ANNOTATION_SCHEDULED_TIME = 'steward.dev/scheduled-time';
/** On a run made by `stewardctl trigger` rather than by the schedule: "manual". */
export const ANNOTATION_TRIGGER = 'steward.dev/trigger';
/** The environment variable a run's pods get: the scheduled time, RFC 3339. */
export const ENV_SCHEDULED_TIME = 'STEWARD_SCHEDULED_TIME';

/**
 * Condition types: Ready is True while the Schedule is starting runs on time; False with the
 * reason why not (Suspended, NoNextTime, RunKindNotInstalled, a refused run create that is being
 * retried — RunForbidden, RunRejected, RunNameConflict, RunCreateFailed, PolicyViolation — or a
 * spec problem). Failed is
 * True only when the spec itself cannot work (InvalidSchedule, InvalidTimeZone, InvalidTemplate):
 * nothing runs until the spec changes.
 */
export const CONDITION_READY = 'Ready';
/** See `CONDITION_READY`. */
export const CONDITION_FAILED = 'Failed';
