import type { GVK, KubernetesObject } from '../../lib/index.js';

/** The Session kind: steward.dev/v1alpha1, namespaced, short name `sess`, category `steward`. */
export const SESSION_GVK: GVK = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
export const JOB_GVK: GVK = { group: 'batch', version: 'v1', kind: 'Job' };
export const POD_GVK: GVK = { group: '', version: 'v1', kind: 'Pod' };

export const PHASES = [
  'Pending',
  'Starting',
  'Running',
  'Succeeded',
  'Failed',
  'TimedOut',
  'Cancelled',
] as const;
export type Phase = (typeof PHASES)[number];
export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set(['Succeeded', 'Failed', 'TimedOut', 'Cancelled']);
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

export interface RetryBackoff {
  /** Delay before the second attempt. Default 10. */
  initialSeconds?: number;
  /** Multiplier per attempt. Default 2. */
  factor?: number;
  /** Cap. Default 300. */
  maxSeconds?: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt. Default 0 (no retry). */
  limit?: number;
  backoff?: RetryBackoff;
  /** Retry only when the container exited with one of these codes. Default: any failure. */
  onExitCodes?: number[];
}

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
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

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
  /** CamelCase cause of the current phase, e.g. JobCreated, PodRunning, Completed, ExitCode, StartTimeout. */
  reason?: string;
  message?: string;
  nextRetryTime?: string;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface Session extends KubernetesObject {
  spec?: SessionSpec;
  status?: SessionStatus;
}

/** Labels and annotations Steward puts on what it creates. */
export const LABEL_SESSION = 'steward.dev/session';
export const LABEL_ATTEMPT = 'steward.dev/attempt';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'steward';

/**
 * Condition types, in the Kubernetes convention (observations, True/False/Unknown):
 * Running is True while the attempt's pod runs; Finished is True once the phase is terminal,
 * with the phase as its reason.
 */
export const CONDITION_RUNNING = 'Running';
export const CONDITION_FINISHED = 'Finished';

export const DEFAULTS = {
  startTimeoutSeconds: 300,
  retryLimit: 0,
  backoffInitialSeconds: 10,
  backoffFactor: 2,
  backoffMaxSeconds: 300,
} as const;
