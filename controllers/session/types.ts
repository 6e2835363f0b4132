import type { GVK, KubernetesObject } from '../../lib/index.js';

/** The Session kind: steward.dev/v1alpha1, namespaced, short name `sess`, category `steward`. */
export const SESSION_GVK: GVK = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
/** batch/v1 Job: one per attempt. */
export const JOB_GVK: GVK = { group: 'batch', version: 'v1', kind: 'Job' };
/** core/v1 Pod: the attempt's pod, read for Running and the exit code. */
export const POD_GVK: GVK = { group: '', version: 'v1', kind: 'Pod' };

/** Every phase, in life-cycle order. */
export const PHASES = [
  'Pending',
  'Starting',
  'Running',
  'Succeeded',
  'Failed',
  'TimedOut',
  'Cancelled',
] as const;
/** A Session's phase (`status.phase`). */
export type Phase = (typeof PHASES)[number];
/** The phases a Session never leaves. */
export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set(['Succeeded', 'Failed', 'TimedOut', 'Cancelled']);
/** Whether the phase is terminal (Succeeded, Failed, TimedOut, Cancelled). */
export const isTerminal = (p: Phase | undefined): boolean => p !== undefined && TERMINAL_PHASES.has(p);

/** The pod the Session runs: a subset of a PodSpec's single container plus pod-level fields. */
export interface SessionTemplate {
  /** Default: the operator's --runner-image. */
  image?: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: Record<string, unknown> }>;
  envFrom?: Array<Record<string, unknown>>;
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  serviceAccountName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Array<Record<string, unknown>>;
  /** Added to the pod (and the Job). Keys under steward.dev/ are reserved. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Exponential backoff between attempts: initialSeconds × factor^(attempt − 1), capped at
 * maxSeconds.
 */
export interface RetryBackoff {
  /** Delay before the second attempt. Default 10. */
  initialSeconds?: number;
  /** Multiplier per attempt. Default 2. */
  factor?: number;
  /** Cap. Default 300. */
  maxSeconds?: number;
}

/**
 * Why an attempt ended without success (see failure.ts, which decides it):
 * - `ExitCode`: the container exited non-zero (status.exitCode has the code);
 * - `OOMKilled`: the container was killed for exceeding its memory limit;
 * - `Evicted`, `Preempted`, `NodeLost`: the infrastructure disrupted the pod (its
 *   `DisruptionTarget` condition, or the kubelet's Evicted reason);
 * - `ImagePull`: the image could not be pulled (ErrImagePull, ImagePullBackOff, InvalidImageName);
 * - `Unschedulable`: the pod was never scheduled before the start timeout;
 * - `DeadlineExceeded`: a deadline ended the attempt (the Job's activeDeadlineSeconds, or the
 *   Session's start or run timeout);
 * - `JobDeleted`: the Job disappeared before it finished;
 * - `JobRejected`: the API server refused to create the Job this spec makes;
 * - `JobFailed`: the Job failed and nothing left says why (its pod is gone).
 */
export const FAILURE_CLASSES = [
  'ExitCode',
  'OOMKilled',
  'Evicted',
  'Preempted',
  'NodeLost',
  'ImagePull',
  'Unschedulable',
  'DeadlineExceeded',
  'JobDeleted',
  'JobRejected',
  'JobFailed',
] as const;
/** One of `FAILURE_CLASSES`: why an attempt ended without success. */
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** Classes where the infrastructure, not the workload, ended the attempt. */
export const DISRUPTION_CLASSES: ReadonlySet<FailureClass> = new Set(['Evicted', 'Preempted', 'NodeLost']);

/** Classes retried by default: all but JobRejected (the same spec is rejected again). */
export const DEFAULT_RETRY_ON: readonly FailureClass[] = FAILURE_CLASSES.filter((c) => c !== 'JobRejected');

/** When a failed attempt is retried, how often, and after how long. */
export interface RetryPolicy {
  /** Retries after the first attempt. Default 0 (no retry). */
  limit?: number;
  backoff?: RetryBackoff;
  /** Failure classes that may be retried. Default: every class but JobRejected. */
  on?: FailureClass[];
  /**
   * Retry an `ExitCode` failure only when the container exited with one of these codes.
   * Default: any code. Disruptions (Evicted, Preempted, NodeLost) retry regardless.
   */
  onExitCodes?: number[];
  /**
   * Disrupted attempts (Evicted, Preempted, NodeLost) do not count against `limit`, as a Job's
   * podFailurePolicy `Ignore`; at most `MAX_IGNORED_DISRUPTIONS` of them. Default false.
   */
  ignoreDisruptions?: boolean;
}

/** A Session's desired state (`spec`); the template is immutable. */
export interface SessionSpec {
  template?: SessionTemplate;
  /** Any JSON, handed to the pod as STEWARD_INPUT. */
  input?: unknown;
  /** Creation (or the attempt's start) → Running, else TimedOut. Default 300. */
  startTimeoutSeconds?: number;
  /** Running → finished, else TimedOut. Default: none. */
  timeoutSeconds?: number;
  retry?: RetryPolicy;
  /** Delete the Session (and its Jobs) this long after it finished. Default: keep. */
  ttlSecondsAfterFinished?: number;
  /** Set true to cancel; cannot be set back to false. */
  cancel?: boolean;
  /**
   * How long the pod may fail to pull its image before the attempt fails as `ImagePull`
   * (instead of waiting for the start timeout). Default 30; 0 fails at the first pull error.
   */
  imagePullGraceSeconds?: number;
}

/** One finished attempt, as `status.history` records it. */
export interface AttemptRecord {
  attempt: number;
  /** Absent when the attempt succeeded or was cancelled. */
  class?: FailureClass;
  exitCode?: number;
  /** The reason the Session recorded for it, e.g. Completed, ExitCode, Evicted, StartTimeout. */
  reason: string;
  message?: string;
  /** When the attempt's Job was created. */
  startTime?: string;
  /** When Steward saw the attempt end. */
  finishTime: string;
}

/** One of a Session's conditions (the API conventions' `metav1.Condition`). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** What the operator observed and did (`status`), written through the status subresource. */
export interface SessionStatus {
  phase?: Phase;
  /** 1-based number of the current (or last) attempt; 0 before the first Job. */
  attempt?: number;
  jobName?: string;
  /** When the first attempt's Job was created. */
  startTime?: string;
  /** When the current attempt's pod started running (the run timeout counts from here). */
  runningTime?: string;
  completionTime?: string;
  exitCode?: number;
  /**
   * CamelCase cause of the current phase, e.g. JobCreated, PodRunning, Completed, StartTimeout,
   * or the failure class of a failed attempt (ExitCode, OOMKilled, Evicted, ...).
   */
  reason?: string;
  message?: string;
  nextRetryTime?: string;
  /** Disrupted attempts not counted against retry.limit (retry.ignoreDisruptions). */
  ignoredFailures?: number;
  /** The last MAX_HISTORY finished attempts, oldest first. */
  history?: AttemptRecord[];
  /**
   * The last attempt's result: its container's termination message (what it wrote to
   * /dev/termination-log; for a failed container that wrote none, the tail of its log), at most
   * MAX_RESULT_LENGTH characters. Workflows pass it to dependent tasks as STEWARD_UPSTREAM.
   */
  result?: string;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface Session extends KubernetesObject {
  spec?: SessionSpec;
  status?: SessionStatus;
}

/** Labels and annotations Steward puts on what it creates. */
export const LABEL_SESSION = 'steward.dev/session';
/** Label on the Job and pod: the attempt's number (1-based). */
export const LABEL_ATTEMPT = 'steward.dev/attempt';
/** The standard managed-by label, set to `MANAGED_BY` on what Steward creates. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** The value of `LABEL_MANAGED_BY` on what Steward creates. */
export const MANAGED_BY = 'steward';

/**
 * Condition types, in the Kubernetes convention (observations, True/False/Unknown):
 * Running is True while the attempt's pod runs; Finished is True once the phase is terminal,
 * with the phase as its reason.
 */
export const CONDITION_RUNNING = 'Running';
/** Condition type: True once the phase is terminal, with the phase as its reason. */
export const CONDITION_FINISHED = 'Finished';

/** Defaults of the spec fields the schema leaves out. */
export const DEFAULTS = {
  startTimeoutSeconds: 300,
  retryLimit: 0,
  backoffInitialSeconds: 10,
  backoffFactor: 2,
  backoffMaxSeconds: 300,
  imagePullGraceSeconds: 30,
} as const;

/** Cap on disrupted attempts that `retry.ignoreDisruptions` leaves uncounted. */
export const MAX_IGNORED_DISRUPTIONS = 10;
