// The Workflow kind in stewardctl: `wf/NAME`, `workflow/NAME`, `workflows/NAME`.
import { type Session, SESSION_GVK } from '../../../controllers/session/index.js';
import {
  isWorkflowTerminal,
  taskSessionName,
  type Workflow,
  WORKFLOW_GVK,
} from '../../../controllers/workflow/index.js';
import type { Ctx } from '../context.js';
import { CliError, explain, UsageError } from '../errors.js';
import type { CliKind, LogsOptions } from '../kinds.js';
import { age } from '../output.js';
import { sessionLogs } from './session-logs.js';
import { dagTable } from './workflow-dag.js';

export const workflowKind: CliKind<Workflow> = {
  gvk: WORKFLOW_GVK,
  singular: 'workflow',
  plural: 'workflows',
  shortNames: ['wf'],
  crd: 'Workflow',
  columns: [
    { header: 'PHASE', value: (w) => w.status?.phase ?? '' },
    { header: 'PROGRESS', value: (w) => w.status?.progress ?? `0/${w.spec?.tasks?.length ?? 0}` },
    { header: 'AGE', value: (w, now) => age(w.metadata?.creationTimestamp, now) },
    { header: 'REASON', value: (w) => w.status?.reason ?? '', wide: true },
    { header: 'MESSAGE', value: (w) => w.status?.message ?? '', wide: true },
  ],
  describe: (w) => {
    const st = w.status ?? {};
    return [
      ['Phase', st.phase ?? ''],
      ['Progress', st.progress ?? `0/${w.spec?.tasks?.length ?? 0}`],
      ['Reason', st.reason ?? ''],
      ['Message', st.message ?? ''],
      ['On failure', w.spec?.onFailure ?? 'Stop'],
      ['Parallelism', w.spec?.parallelism ?? 'no limit'],
      ['Cancel', w.spec?.cancel ? 'requested' : undefined],
      ['Created', w.metadata?.creationTimestamp],
      ['Started', st.startTime],
      ['Completed', st.completionTime],
    ];
  },
  describeTables: (w, now) => [dagTable(w, now)],
  progress: (w) => {
    const st = w.status ?? {};
    return {
      phase: st.phase,
      terminal: isWorkflowTerminal(st.phase),
      succeeded: st.phase === 'Succeeded',
      summary: `${st.phase ?? 'New'}  ${st.progress ?? ''}  ${st.reason ?? ''}${st.message ? `: ${st.message}` : ''}`,
    };
  },
  cancelPatch: { spec: { cancel: true } },
  logs: workflowLogs,
};

/** `logs wf/NAME --task T`: the logs of the task's Session (its latest attempt, or --attempt). */
async function workflowLogs(ctx: Ctx, wf: Workflow, opts: LogsOptions): Promise<void> {
  const name = wf.metadata!.name!;
  const tasks = (wf.spec?.tasks ?? []).map((t) => t.name);
  if (opts.task === undefined)
    throw new UsageError(`logs of a workflow need --task TASK (tasks of ${name}: ${tasks.join(', ')})`);
  if (!tasks.includes(opts.task))
    throw new UsageError(`workflow ${name} has no task ${opts.task} (tasks: ${tasks.join(', ')})`);
  const t = wf.status?.tasks?.[opts.task];
  const sessionName = t?.session ?? taskSessionName(name, opts.task);
  let session: Session;
  try {
    session = await ctx.client.get<Session>(SESSION_GVK, { namespace: ctx.namespace, name: sessionName });
  } catch (err) {
    if ((err as { reason?: string }).reason === 'NotFound') {
      const phase = t?.phase ?? 'Pending';
      throw new CliError(
        phase === 'Pending'
          ? `task ${opts.task} of workflow ${name} has not started yet (Pending)`
          : phase === 'Skipped' || phase === 'Cancelled'
            ? `task ${opts.task} of workflow ${name} never started (${phase}${t?.reason ? `: ${t.reason}` : ''})`
            : `the Session of task ${opts.task} (${sessionName}) is gone`,
      );
    }
    explain(err, `session ${ctx.namespace}/${sessionName}`);
  }
  await sessionLogs(ctx, session, opts);
}
