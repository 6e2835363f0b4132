/**
 * The Workflow operator (`steward/workflow`): the Workflow API's types, its DAG decisions as pure
 * functions, and `setupWorkflowController` to run it in your own Manager next to the Session
 * controller.
 *
 * @module steward/workflow
 */
export * from './types.js';
export {
  RECONCILE_SPACING_PER_TASK_MS,
  tasksDigest,
  WorkflowReconciler,
  type WorkflowReconcilerOptions,
} from './reconciler.js';
export { WorkflowMetrics } from './metrics.js';
export { setupWorkflowController, sessionProgressed, type WorkflowControllerOptions } from './controller.js';
export {
  buildGraph,
  decide,
  findCycle,
  type Decision,
  type DecideInput,
  type Graph,
  type GraphTask,
  type Skip,
} from './dag.js';
export { type InvalidWorkflow, parseWorkflow, type ParsedWorkflow } from './validate.js';
export { taskSessionName, workflowLabelValue } from './names.js';
export { observeTask } from './task-status.js';
