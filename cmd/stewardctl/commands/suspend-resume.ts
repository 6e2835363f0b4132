import type { Command } from 'commander';
import { patchEach } from './patch-each.js';
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
  ).action((args: string[], opts: { namespace?: string; kubeconfig?: string }) =>
    patchEach(deps, args, opts, (kind) => kind.suspendPatch?.(suspend), done, done),
  );
}

export const registerSuspend = (prog: Command, deps: Deps): void => register(prog, deps, true);
export const registerResume = (prog: Command, deps: Deps): void => register(prog, deps, false);
