import type { GVK, KubernetesObject } from '../../lib/index.js';
import type { Condition, SessionSpec } from '../session/index.js';

/** The Workflow kind: steward.dev/v1alpha1, namespaced, short name `wf`, category `steward`. */
export const WORKFLOW_GVK: GVK = { group: 'steward.dev', version: 'v1alpha1', kind: 'Workflow' };

/**
 * A Workflow's phases: Pending (accepted), Running (tasks run or wait), then Succeeded (every
 * task succeeded), Failed (a task failed, or the spec is invalid) or Cancelled.
 */
export const WORKFLOW_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled'] as const;
/** One of WORKFLOW_PHASES. */
export type WorkflowPhase = (typeof WORKFLOW_PHASES)[number];
/** Whether a Workflow's phase is final: Succeeded, Failed or Cancelled never change. */
export const isWorkflowTerminal = (p: WorkflowPhase | undefined): boolean =>
  p === 'Succeeded' || p === 'Failed' || p === 'Cancelled';

/**
 * A task's phase. Pending: not started (waiting for its dependencies or for a parallelism slot);
 * Running: its Session exists and has not finished (it may be starting, running or waiting to
 * retry); then one of the terminal phases. Skipped: never started, because a dependency did not
 * succeed or (onFailure Stop) because another task failed.
 */
export const TASK_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Cancelled'] as const;
/** One of TASK_PHASES. */
export type TaskPhase = (typeof TASK_PHASES)[number];
/** Whether a task's phase is final: Succeeded, Failed, Skipped and Cancelled never change. */
export const isTaskTerminal = (p: TaskPhase | undefined): boolean =>
  p === 'Succeeded' || p === 'Failed' || p === 'Skipped' || p === 'Cancelled';

/**
 * What a failed task does to the rest: Stop (no new task starts; the unstarted end Skipped) or
 * Continue (only the tasks that depend on it end Skipped).
 */
export type OnFailure = 'Stop' | 'Continue';

/** What a task runs: the parts of a Session spec that describe one unit of work. */
export type TaskSessionSpec = Pick<
  SessionSpec,
  'template' | 'input' | 'startTimeoutSeconds' | 'timeoutSeconds' | 'retry'
>;

/** One task: a name, the tasks it waits for, and the Session it runs as. */
export interface WorkflowTask {
  /** A DNS label, unique in the Workflow. */
  name: string;
  /** Tasks that must succeed before this one starts. */
  dependsOn?: string[];
  session: TaskSessionSpec;
}

/** What a Workflow runs and how: `spec`. */
export interface WorkflowSpec {
  /** 1 to MAX_TASKS tasks. Immutable. */
  tasks: WorkflowTask[];
  /** At most this many tasks running at once. Default: no limit. */
  parallelism?: number;
  /** Default Stop. */
  onFailure?: OnFailure;
  /** Set true to cancel; cannot be set back to false. */
  cancel?: boolean;
  /** Delete the Workflow (and its Sessions and Jobs) this long after it finished. Default: keep. */
  ttlSecondsAfterFinished?: number;
}

/** One task's entry in `status.tasks`. */
export interface TaskStatus {
  phase: TaskPhase;
  /** Name of the task's Session, once created. */
  session?: string;
  /** The Session's current (or last) attempt. */
  attempt?: number;
  exitCode?: number;
  /**
   * CamelCase cause of a terminal phase: the Session's reason, or why the task was skipped; on
   * a Pending task, why it has not started although it could (SessionNotCreated,
   * PreviousSessionExists).
   */
  reason?: string;
  message?: string;
  /** When the task's Session was created. */
  startTime?: string;
  completionTime?: string;
}

/** What the operator observed of a Workflow: `status`, written by the operator only. */
export interface WorkflowStatus {
  phase?: WorkflowPhase;
  reason?: string;
  message?: string;
  /** When the first task started (or the Workflow was first seen). */
  startTime?: string;
  completionTime?: string;
  /** `finished/total`, e.g. `3/10`: tasks in a terminal phase, of all tasks. */
  progress?: string;
  /** Per task, by name. */
  tasks?: Record<string, TaskStatus>;
  /**
   * `sha256:` and the hex digest of the task graph (names and dependencies) the Workflow started
   * with. The tasks are immutable (a ValidatingAdmissionPolicy); where it is not installed and
   * the graph changes anyway, the Workflow ends Failed (InvalidSpec) instead of running a DAG its
   * status does not describe.
   */
  tasksDigest?: string;
  observedGeneration?: number;
  conditions?: Condition[];
}

/** The Workflow resource (steward.dev/v1alpha1). */
export interface Workflow extends KubernetesObject {
  spec?: WorkflowSpec;
  status?: WorkflowStatus;
}

/** Most tasks in one Workflow. */
export const MAX_TASKS = 1000;

/**
 * Longest STEWARD_UPSTREAM: one environment string may not exceed 128 KiB on Linux
 * (MAX_ARG_STRLEN); the pod would fail to start.
 */
export const MAX_UPSTREAM_BYTES = 128 * 1024 - 64;

/** Label on a task's Session: the Workflow (as a label value; the full name is an annotation). */
export const LABEL_WORKFLOW = 'steward.dev/workflow';
/** Label on a task's Session: the task's name. */
export const LABEL_TASK = 'steward.dev/task';

/** Condition type, as on Sessions: True while the Workflow runs. */
export const CONDITION_RUNNING = 'Running';
/** Condition type: True once the Workflow is terminal, with the phase as its reason. */
export const CONDITION_FINISHED = 'Finished';
