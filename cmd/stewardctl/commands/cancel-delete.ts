import type { Command } from 'commander';
import { forEach } from '../bulk.js';
import { explain } from '../errors.js';
import { patchEach } from './patch-each.js';
import { type Deps, RESOURCE_HELP, withGlobals } from './shared.js';

export function registerCancel(prog: Command, deps: Deps): void {
  withGlobals(
    prog
      .command('cancel')
      .argument('<resource...>', `${RESOURCE_HELP}; several at once`)
      .description(
        'cancel Sessions (their running Jobs are deleted) or Workflows (their running tasks’ Sessions are cancelled); the phase becomes Cancelled',
      ),
  ).action((args: string[], opts: { namespace?: string; kubeconfig?: string }) =>
    patchEach(deps, args, opts, (kind) => kind.cancelPatch, 'cancel requested', 'cancelled'),
  );
}

export function registerDelete(prog: Command, deps: Deps): void {
  withGlobals(
    prog
      .command('delete')
      .argument('<resource...>', `${RESOURCE_HELP}; several at once`)
      .description('delete objects; a Session’s Jobs and pods go with it, a Workflow’s Sessions too'),
  ).action(async (args: string[], opts: { namespace?: string; kubeconfig?: string }) => {
    const refs = deps.kinds.resolveAll(args);
    const ctx = deps.context(opts);
    await forEach(
      refs,
      async ({ kind, name }) => {
        try {
          await ctx.client.delete(
            kind.gvk,
            { namespace: ctx.namespace, name },
            { propagationPolicy: 'Background' },
          );
        } catch (err) {
          explain(err, `${kind.singular} ${ctx.namespace}/${name}`, kind.crd);
        }
        return `${kind.singular}/${name} deleted\n`;
      },
      { out: ctx.out, onError: deps.report },
    );
  });
}
