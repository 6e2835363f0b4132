import type { Command } from 'commander';
import { forEach } from '../bulk.js';
import { explain, UsageError } from '../errors.js';
import { type Deps, RESOURCE_HELP, withGlobals } from './shared.js';

export function registerCancel(prog: Command, deps: Deps): void {
  withGlobals(
    prog
      .command('cancel')
      .argument('<resource...>', `${RESOURCE_HELP}; several at once`)
      .description(
        'cancel Sessions (their running Jobs are deleted) or Workflows (their running tasks’ Sessions are cancelled); the phase becomes Cancelled',
      ),
  ).action(async (args: string[], opts: { namespace?: string; kubeconfig?: string }) => {
    const refs = deps.kinds.resolveAll(args);
    for (const { kind } of refs)
      if (kind.cancelPatch === undefined) throw new UsageError(`a ${kind.singular} cannot be cancelled`);
    const ctx = deps.context(opts);
    await forEach(
      refs,
      async ({ kind, name }) => {
        try {
          await ctx.client.patch(
            kind.gvk,
            { namespace: ctx.namespace, name },
            { type: 'merge', body: kind.cancelPatch! },
          );
        } catch (err) {
          explain(err, `${kind.singular} ${ctx.namespace}/${name}`, kind.crd);
        }
        return `${kind.singular}/${name} cancel requested\n`;
      },
      { out: ctx.out, onError: deps.report },
    );
  });
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
