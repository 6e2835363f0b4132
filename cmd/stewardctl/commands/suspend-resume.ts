import type { Command } from 'commander';
import { forEach } from '../bulk.js';
import { explain, UsageError } from '../errors.js';
import { type Deps, withGlobals } from './shared.js';

function register(prog: Command, deps: Deps, suspend: boolean): void {
  const verb = suspend ? 'suspend' : 'resume';
  const done = suspend ? 'suspended' : 'resumed';
  withGlobals(
    prog
      .command(verb)
      .argument('<resource...>', 'sched/NAME (Schedules); several at once')
      .description(
        suspend
          ? 'suspend Schedules: no run starts until resumed (active runs go on)'
          : 'resume suspended Schedules (the latest time missed meanwhile may run, within startingDeadlineSeconds)',
      ),
  ).action(async (args: string[], opts: { namespace?: string; kubeconfig?: string }) => {
    const refs = deps.kinds.resolveAll(args);
    for (const { kind } of refs)
      if (kind.suspendPatch === undefined) throw new UsageError(`a ${kind.singular} cannot be ${done}`);
    const ctx = deps.context(opts);
    await forEach(
      refs,
      async ({ kind, name }) => {
        try {
          await ctx.client.patch(
            kind.gvk,
            { namespace: ctx.namespace, name },
            { type: 'merge', body: kind.suspendPatch!(suspend) },
          );
        } catch (err) {
          explain(err, `${kind.singular} ${ctx.namespace}/${name}`, kind.crd);
        }
        return `${kind.singular}/${name} ${done}\n`;
      },
      { out: ctx.out, onError: deps.report },
    );
  });
}

export const registerSuspend = (prog: Command, deps: Deps): void => register(prog, deps, true);
export const registerResume = (prog: Command, deps: Deps): void => register(prog, deps, false);
