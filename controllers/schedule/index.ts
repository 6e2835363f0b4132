/**
 * The Schedule operator (`steward/schedule`): the Schedule API's types, its cron times and
 * decisions as pure functions, and `setupScheduleController` to run it in your own Manager next to
 * the Session (and Workflow) controllers.
 *
 * @module steward/schedule
 */
export * from './types.js';
export {
  CronError,
  CronSchedule,
  COUNT_WALK_LIMIT,
  MACROS,
  timeZoneProblem,
  type TimeCount,
} from './cron.js';
export {
  decide,
  withRunStarted,
  withStartFailed,
  type Decision,
  type DecideInput,
  type Missed,
} from './decide.js';
export { runsToPrune } from './history.js';
export { ScheduleMetrics, type RunResult } from './metrics.js';
export {
  RunCreateError,
  ScheduleReconciler,
  type ScheduleReconcilerOptions,
  type Recorder,
} from './reconciler.js';
export {
  buildRun,
  manualRunName,
  runKindOf,
  runName,
  RUN_KINDS,
  scheduleLabelValue,
  SESSION_RUNS,
  viewRun,
  WORKFLOW_RUNS,
  type BuildRunOptions,
  type RunKind,
  type RunState,
  type RunView,
} from './runs.js';
export { validateScheduleSpec, type SpecProblem } from './validate.js';
export {
  KindNotInstalledError,
  kindServed,
  setupScheduleController,
  type ScheduleControllerOptions,
} from './controller.js';
