import { setCondition } from '../../lib/index.js';
import type { Condition } from '../session/index.js';
import type { Decision, Graph } from './dag.js';
import {
  CONDITION_FINISHED,
  CONDITION_RUNNING,
  isWorkflowTerminal,
  type OnFailure,
  type TaskStatus,
  type WorkflowPhase,
} from './types.js';

export interface Summary {
  phase: Exclude<WorkflowPhase, 'Pending'>;
  reason: string;
  message: string;
}

/** The Workflow's phase, reason and message after `decision`. */
export function summarize(
  graph: Graph,
  decision: Decision,
  tasks: ReadonlyArray<TaskStatus>,
  opts: { cancel: boolean; onFailure: OnFailure },
): Summary {
  const total = graph.names.length;
  const running = decision.phases.filter((p) => p === 'Running').length;
  const skipped = decision.phases.filter((p) => p === 'Skipped').length;
  switch (decision.phase) {
    case 'Succeeded':
      return { phase: 'Succeeded', reason: 'AllTasksSucceeded', message: `All ${total} tasks succeeded` };
    case 'Cancelled':
      return { phase: 'Cancelled', reason: 'Cancelled', message: 'Cancelled by spec.cancel' };
    case 'Failed': {
      // From the phases rather than decision.failed: a task whose start failed in this
      // reconcile (an upstream too large, a name taken) is Failed there too.
      const failed = decision.phases.flatMap((p, i) => (p === 'Failed' || p === 'Cancelled' ? [i] : []));
      const first = failed[0]!;
      const t = tasks[first]!;
      const more = failed.length > 1 ? ` (and ${failed.length - 1} more failed)` : '';
      const skips = skipped > 0 ? `; ${skipped} skipped` : '';
      return {
        phase: 'Failed',
        reason: 'TaskFailed',
        message: `Task ${graph.names[first]} ${t.phase === 'Cancelled' ? 'was cancelled' : 'failed'}${t.reason ? ` (${t.reason})` : ''}${t.message ? `: ${t.message}` : ''}${more}${skips}`,
      };
    }
    default:
      if (opts.cancel) {
        return {
          phase: 'Running',
          reason: 'Cancelling',
          message: `Cancelling: waiting for ${running} running task${running === 1 ? '' : 's'} to stop`,
        };
      }
      {
        // A task held back although it could start (its Session refused for now, or an earlier
        // Workflow's still there) is what a user watching a stuck Workflow needs to see.
        const held = tasks.findIndex((t) => t.phase === 'Pending' && t.reason !== undefined);
        const waiting =
          held < 0
            ? ''
            : `; task ${graph.names[held]} waits (${tasks[held]!.reason}): ${tasks[held]!.message ?? ''}`;
        return {
          phase: 'Running',
          // Stop: a task failed, nothing new starts, the running ones finish.
          reason: decision.failed.length > 0 && opts.onFailure === 'Stop' ? 'Stopping' : 'TasksRunning',
          message: `${decision.finished} of ${total} tasks finished, ${running} running${skipped > 0 ? `, ${skipped} skipped` : ''}${decision.failed.length > 0 ? `, ${decision.failed.length} failed` : ''}${waiting}`,
        };
      }
  }
}

/**
 * The Workflow's conditions in the Kubernetes convention, as a Session has them: Running is True
 * while the Workflow runs; Finished is True once it is terminal, with the phase as its reason.
 * `setCondition` keeps a condition's `lastTransitionTime` unless its status changes, keeps the
 * conditions other writers own, and returns `current` itself when nothing changed.
 */
export function workflowConditions(
  current: Condition[] | undefined,
  summary: Summary,
  now: string,
  generation: number | undefined,
): Condition[] {
  const terminal = isWorkflowTerminal(summary.phase);
  const observedGeneration = generation === undefined ? {} : { observedGeneration: generation };
  const running = setCondition(
    current,
    {
      type: CONDITION_RUNNING,
      status: summary.phase === 'Running' ? 'True' : 'False',
      reason: summary.reason,
      message: summary.message,
      ...observedGeneration,
    },
    now,
  );
  return setCondition(
    running,
    {
      type: CONDITION_FINISHED,
      status: terminal ? 'True' : 'False',
      reason: terminal ? summary.phase : summary.reason,
      message: summary.message,
      ...observedGeneration,
    },
    now,
  );
}
