/**
 * The Session operator (`steward/session`): the Session API's types, its phase machine's
 * helpers, and `setupSessionController` to run it in your own Manager.
 *
 * @module steward/session
 */
export * from './types.js';
export { SessionReconciler, type SessionReconcilerOptions } from './reconciler.js';
export { type Recorder } from './transitions.js';
export { SessionMetrics } from './metrics.js';
export { sessionInformers, setupSessionController, type SessionControllerOptions } from './controller.js';
export {
  buildJob,
  jobName,
  jobFinished,
  sessionLabelValue,
  ANNOTATION_SESSION,
  ANNOTATION_TASK,
  ANNOTATION_UPSTREAM,
  ANNOTATION_WORKFLOW,
  type Job,
  type JobOptions,
} from './job.js';
export {
  validateSpec,
  effectiveRetry,
  backoffSeconds,
  retryDecision,
  type EffectiveRetry,
  type RetryDecision,
} from './policy.js';
export {
  classifyFailedJob,
  classifyStarting,
  jobDeleted,
  jobRejected,
  timeoutClass,
  IMAGE_PULL_REASONS,
  type Failure,
  type StartingView,
} from './failure.js';
export { observePods, podReported, type Pod, type PodView } from './pod.js';
export * from './bounds.js';
export {
  checkTenantPolicy,
  DEFAULT_TENANT_POLICY,
  type KeyRules,
  type NodeSelectorRule,
  type PolicyViolation,
  type TenantPolicy,
  type TolerationRule,
} from './tenant-policy.js';
export {
  formatTenantPolicy,
  loadTenantPolicy,
  parseTenantPolicy,
  TenantPolicyError,
} from './tenant-policy-config.js';
export { trimJob, trimPod } from './cache.js';
