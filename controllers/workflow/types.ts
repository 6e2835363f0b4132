import type { GVK, KubernetesObject } from '../../lib/index.js';
import type { Condition, SessionSpec } from '../session/index.js';

/** The Workflow kind: steward.dev/v1alpha1, namespaced, short name `wf`, category `steward`. */
export const WORKFLOW_GVK: GVK = { group: 'steward.dev', version: 'v1alpha1', kind: 'Workflow' };

export const WORKFLOW_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled'] as const;
export type WorkflowPhase = (typeof WORKFLOW_PHASES)[number];
export const isWorkflowTerminal = (p: WorkflowPhase | undefined): boolean =>
  p === 'Succeeded' || p === 'Failed' || p === 'Cancelled';

/**
 * A task's phase. Pending: not started (waiting for its dependencies or for a parallelism slot);
 * Running: its Session exists and has not finished (it may be starting, running or waiting to
 * retry); then one of the terminal phases. Skipped: never started, because a dependency did not
 * succeed or (onFailure Stop) because another task failed.
 */
export const TASK_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Cancelled'] as const;
export type TaskPhase = (typeof TASK_PHASES)[number];
export const isTaskTerminal = (p: TaskPhase | undefined): boolean =>
  p === 'Succeeded' || p === 'Failed' || p === 'Skipped' || p === 'Cancelled';

export type OnFailure = 'Stop' | 'Continue';

/** What a task runs: the parts of a Session spec that describe one unit of work. */
export type TaskSessionSpec = Pick<
  SessionSpec,
  'template' | 'input' | 'startTimeoutSeconds' | 'timeoutSeconds' | 'retry'
>;

export interface WorkflowTask {
  /** A DNS label, unique in the Workflow. */
  name: string;
  /** Tasks that must succeed before this one starts. */
  dependsOn?: string[];
  session: TaskSessionSpec;
}

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

export interface TaskStatus {
  phase: TaskPhase;
  /** Name of the task's Session, once created. */
  session?: string;
  /** The Session's current (or last) attempt. */
  attempt?: number;
  exitCode?: number;
  /** CamelCase cause of a terminal phase: the Session's reason, or why the task was skipped. */
  reason?: string;
  message?: string;
  /** When the task's Session was created. */
  startTime?: string;
  completionTime?: string;
}

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
  observedGeneration?: number;
  conditions?: Condition[];
}

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

/** Labels on a task's Session: the Workflow (a label value; the full name is an annotation) and the task. */
export const LABEL_WORKFLOW = 'steward.dev/workflow';
export const LABEL_TASK = 'steward.dev/task';

/** Condition types, as on Sessions: Running while tasks run, Finished once terminal. */
export const CONDITION_RUNNING = 'Running';
export const CONDITION_FINISHED = 'Finished';
