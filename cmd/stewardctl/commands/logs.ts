import type { Command } from 'commander';
import { explain, UsageError } from '../errors.js';
import { positive, type Deps, RESOURCE_HELP, withGlobals } from './shared.js';

export function registerLogs(prog: Command, deps: Deps): void {
  withGlobals(
    prog
      .command('logs')
      .argument('<resource>', RESOURCE_HELP)
      .description(
        'log of the latest attempt’s pod (of a Workflow: its --task’s); -f follows it, and the attempts after it, until the Session ends',
      ),
  )
    .option('--task <name>', 'the task whose Session’s log to show (for a Workflow)')
    .option('--attempt <n>', 'one attempt (1-based) instead of the latest', positive)
    .option('-f, --follow', 'stream the log; move on to each retry’s pod until the Session ends')
    .action(
      async (
        arg: string,
        opts: { attempt?: number; task?: string; follow?: boolean; namespace?: string; kubeconfig?: string },
      ) => {
        const { kind, name } = deps.kinds.resolve(arg);
        if (kind.logs === undefined) throw new UsageError(`a ${kind.singular} has no logs of its own`);
        if (opts.task !== undefined && kind.singular !== 'workflow')
          throw new UsageError(`--task is for workflows (wf/NAME), not a ${kind.singular}`);
        const ctx = deps.context(opts);
        let obj;
        try {
          obj = await ctx.client.get(kind.gvk, { namespace: ctx.namespace, name });
        } catch (err) {
          explain(err, `${kind.singular} ${ctx.namespace}/${name}`, kind.crd);
        }
        await kind.logs(ctx, obj, { attempt: opts.attempt, task: opts.task, follow: Boolean(opts.follow) });
      },
    );
}
