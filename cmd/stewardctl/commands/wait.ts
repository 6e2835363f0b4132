import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { waitForEnd } from '../wait.js';
import { type Deps, RESOURCE_HELP, withGlobals } from './shared.js';

export function registerWait(prog: Command, deps: Deps): void {
  withGlobals(
    prog
      .command('wait')
      .argument('<resource>', RESOURCE_HELP)
      .description(
        'stream phase changes until the object ends; exit 0 on Succeeded, 1 on any other end (also when deleted first), 130 on Ctrl-C',
      ),
  ).action(async (arg: string, opts: { namespace?: string; kubeconfig?: string }) => {
    const { kind, name } = deps.kinds.resolve(arg);
    const ctx = deps.context(opts);
    const end = await waitForEnd(ctx, kind, name);
    if (!end.succeeded) throw new CliError(`${kind.singular} ${name} ended ${end.phase}`);
  });
}
