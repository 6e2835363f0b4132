import type { Command } from 'commander';
import type { KubernetesObject } from '../../../lib/index.js';
import { explain, UsageError } from '../errors.js';
import { type Deps, withGlobals } from './shared.js';

export function registerTrigger(prog: Command, deps: Deps): void {
  withGlobals(
    prog
      .command('trigger')
      .argument('<resource>', 'sched/NAME (a Schedule)')
      .description(
        'start a run of a Schedule now, from its template, outside the schedule (as kubectl create job --from=cronjob/NAME); prints the run',
      ),
  )
    .option('--name <name>', 'the run’s name (default: <schedule>-manual-<random>)')
    .action(async (arg: string, opts: { name?: string; namespace?: string; kubeconfig?: string }) => {
      const ref = deps.kinds.resolve(arg);
      if (ref.kind.trigger === undefined) throw new UsageError(`a ${ref.kind.singular} cannot be triggered`);
      if (opts.name !== undefined) deps.kinds.resolve(`${ref.kind.singular}/${opts.name}`); // checks the name
      const ctx = deps.context(opts);
      let obj: KubernetesObject;
      try {
        obj = await ctx.client.get(ref.kind.gvk, { namespace: ctx.namespace, name: ref.name });
      } catch (err) {
        explain(err, `${ref.kind.singular} ${ctx.namespace}/${ref.name}`, ref.kind.crd);
      }
      ctx.out(`${await ref.kind.trigger(ctx, obj, { name: opts.name })} created\n`);
    });
}
