/**
 * Why an attempt failed, decided from what its Job and pod say: pure functions, no client.
 * The classes are those of Kubernetes' podFailurePolicy and Argo's retryPolicy, so the retry
 * policy (policy.ts) can choose by them.
 */
import type { PodView } from './pod.js';
import type { FailureClass } from './types.js';

/** A failed attempt: its class, the reason and message status shows, and the exit code if any. */
export interface Failure {
  class: FailureClass;
  /** The status reason: the class itself. */
  reason: string;
  message: string;
  exitCode?: number;
}

/** Container waiting reasons that mean the image cannot be pulled. */
export const IMAGE_PULL_REASONS: ReadonlySet<string> = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'ErrImageInspect',
  'RegistryUnavailable',
  'SignatureValidationFailed',
]);

/** Of those, the ones no retry of the pull can fix: they fail the attempt without a grace. */
const IMAGE_PULL_HOPELESS: ReadonlySet<string> = new Set(['InvalidImageName', 'ErrImageNeverPull']);

/** `DisruptionTarget` reasons (the component ending the pod) → class. */
const DISRUPTION_REASONS: Readonly<Record<string, FailureClass>> = {
  PreemptionByScheduler: 'Preempted',
  PreemptionByKubeScheduler: 'Preempted',
  DeletionByTaintManager: 'NodeLost',
  DeletionByPodGC: 'NodeLost',
  EvictionByEvictionAPI: 'Evicted',
  TerminationByKubelet: 'Evicted',
};

/** Pod-level reasons the kubelet and node controllers set → class. */
const POD_REASONS: Readonly<Record<string, FailureClass>> = {
  Evicted: 'Evicted',
  Preempting: 'Preempted',
  NodeLost: 'NodeLost',
  NodeAffinity: 'NodeLost',
  Shutdown: 'Evicted',
  Terminated: 'Evicted',
};

const detail = (...parts: Array<string | undefined>) => parts.filter((p) => p).join(': ');

/**
 * The failure of attempt `attempt`, whose Job has the condition Failed (with `jobReason` /
 * `jobMessage`) and whose pod, if any is left, says `pod`. Checked in this order, the first
 * that applies winning: a disruption of the pod (the infrastructure ended it, whatever its
 * container's exit code); the Job's own deadline; the container killed for its memory; a
 * container exit code; an image that could not be pulled; what the Job's podFailurePolicy
 * condition says when the pod is gone (an exit code, a disruption; job.ts sets the policy);
 * else the Job's reason alone.
 */
export function classifyFailedJob(
  attempt: number,
  jobReason: string | undefined,
  jobMessage: string | undefined,
  pod: PodView | undefined,
): Failure {
  const exitCode = pod?.terminated?.exitCode;
  const withCode = (f: Omit<Failure, 'reason'>): Failure => {
    const out: Failure = { ...f, reason: f.class };
    if (exitCode !== undefined) out.exitCode = exitCode;
    return out;
  };
  const disruption = disruptionOf(pod);
  if (disruption !== undefined) {
    return withCode({
      class: disruption.class,
      message: `Attempt ${attempt} failed: the pod was disrupted (${detail(disruption.reason, disruption.message)})`,
    });
  }
  if (jobReason === 'DeadlineExceeded') {
    return withCode({
      class: 'DeadlineExceeded',
      message: `Attempt ${attempt} failed: the Job's deadline passed${jobMessage ? ` (${jobMessage})` : ''}`,
    });
  }
  const term = pod?.terminated;
  if (term?.reason === 'OOMKilled') {
    return withCode({
      class: 'OOMKilled',
      message: `Attempt ${attempt} failed: the container was killed for exceeding its memory limit (exit code ${exitCode ?? 137})`,
    });
  }
  if (exitCode !== undefined && exitCode !== 0) {
    return withCode({
      class: 'ExitCode',
      message: `Attempt ${attempt} failed: exit code ${exitCode}${term?.reason ? ` (${term.reason})` : ''}${term?.message ? `: ${term.message}` : ''}`,
    });
  }
  const waiting = pod?.waiting;
  if (waiting !== undefined && IMAGE_PULL_REASONS.has(waiting.reason)) {
    return withCode({ class: 'ImagePull', message: imagePullMessage(attempt, waiting) });
  }
  // The pod is gone or says nothing: the Job's podFailurePolicy condition still does.
  if (jobReason === 'PodFailurePolicy' && jobMessage !== undefined) {
    const code = /failed with exit code (\d+)/.exec(jobMessage);
    if (code !== null) {
      const exitCode = Number(code[1]);
      return {
        class: 'ExitCode',
        reason: 'ExitCode',
        exitCode,
        message: `Attempt ${attempt} failed: exit code ${exitCode} (from the Job: ${jobMessage})`,
      };
    }
    if (/condition DisruptionTarget/.test(jobMessage)) {
      return withCode({
        class: 'Evicted',
        message: `Attempt ${attempt} failed: the pod was disrupted (from the Job: ${jobMessage})`,
      });
    }
  }
  return withCode({
    class: 'JobFailed',
    message: `Attempt ${attempt} failed: Job ${detail(jobReason ?? 'Failed', jobMessage)}${pod === undefined ? ' (its pod is gone)' : ''}`,
  });
}

/** The failure of an attempt whose Job disappeared before it finished. */
export function jobDeleted(attempt: number, job: string): Failure {
  return {
    class: 'JobDeleted',
    reason: 'JobDeleted',
    message: `Job ${job} of attempt ${attempt} was deleted before it finished`,
  };
}

/** The failure of an attempt whose Job the API server refused to create. */
export function jobRejected(attempt: number, job: string, apiMessage: string): Failure {
  return {
    class: 'JobRejected',
    reason: 'JobRejected',
    message: `The API server rejected Job ${job} of attempt ${attempt}: ${apiMessage}`,
  };
}

/** What a pod that has not started running says about why, while the attempt is Starting. */
export interface StartingView {
  /** The attempt has failed already: the image cannot be pulled, and its grace is over. */
  failure?: Failure;
  /** Why the pod is not running yet, for the Session's message (reason, message). */
  note?: { reason: 'Unschedulable' | 'ImagePull'; message: string };
  /** When to look again for this (ms since the epoch): the image pull grace's end. */
  recheckAt?: number;
}

/**
 * A Starting attempt's pod: an image that cannot be pulled fails the attempt once `graceMs`
 * has passed since the pod was accepted by its node (at once for an invalid image name); until
 * then, and for a pod the scheduler cannot place, it is a note in the Session's message.
 */
export function classifyStarting(
  attempt: number,
  pod: PodView | undefined,
  now: number,
  graceMs: number,
): StartingView {
  if (pod === undefined) return {};
  const waiting = pod.waiting;
  if (waiting !== undefined && IMAGE_PULL_REASONS.has(waiting.reason)) {
    const failAt = IMAGE_PULL_HOPELESS.has(waiting.reason) ? now : (pod.since ?? now) + graceMs;
    if (now >= failAt) {
      return {
        failure: { class: 'ImagePull', reason: 'ImagePull', message: imagePullMessage(attempt, waiting) },
      };
    }
    return {
      note: {
        reason: 'ImagePull',
        message: `${imagePullMessage(attempt, waiting)}; the attempt fails at ${iso(failAt)} unless it recovers`,
      },
      recheckAt: failAt,
    };
  }
  if (pod.unschedulable !== undefined) {
    return {
      note: {
        reason: 'Unschedulable',
        message: `The pod of attempt ${attempt} cannot be scheduled: ${pod.unschedulable}`,
      },
    };
  }
  return {};
}

/**
 * The class of an attempt ended by one of the Session's own timeouts, for its history: what
 * kept the pod from running (Unschedulable, ImagePull), else DeadlineExceeded.
 */
export function timeoutClass(pod: PodView | undefined): FailureClass {
  if (pod?.waiting !== undefined && IMAGE_PULL_REASONS.has(pod.waiting.reason)) return 'ImagePull';
  if (pod?.unschedulable !== undefined) return 'Unschedulable';
  return 'DeadlineExceeded';
}

function disruptionOf(
  pod: PodView | undefined,
): { class: FailureClass; reason?: string; message?: string } | undefined {
  if (pod === undefined) return undefined;
  if (pod.disruption !== undefined) {
    const reason = pod.disruption.reason;
    return {
      class: (reason && DISRUPTION_REASONS[reason]) || (pod.reason && POD_REASONS[pod.reason]) || 'Evicted',
      reason: reason ?? pod.reason,
      message: pod.disruption.message ?? pod.message,
    };
  }
  const byReason = pod.reason ? POD_REASONS[pod.reason] : undefined;
  if (byReason !== undefined) return { class: byReason, reason: pod.reason, message: pod.message };
  return undefined;
}

function imagePullMessage(attempt: number, waiting: { reason: string; message?: string }): string {
  return `The image of attempt ${attempt} cannot be pulled: ${detail(waiting.reason, waiting.message)}`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
