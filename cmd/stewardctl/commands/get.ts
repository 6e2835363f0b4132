import type { Command } from 'commander';
import PQueue from 'p-queue';
import type { KubernetesObject } from '../../../lib/index.js';
import { CliError, explain } from '../errors.js';
import type { CliKind, ResourceRef } from '../kinds.js';
import { format, type OutputFormat } from '../output.js';
import { type Deps, outputOption, RESOURCE_HELP, withGlobals } from './shared.js';

export function registerGet(prog: Command, deps: Deps): void {
  withGlobals(
    prog
      .command('get')
      .argument('<resource...>', `${RESOURCE_HELP}; several, or KIND NAME…`)
      .description('show objects as a table row (or -o wide | json | yaml | name)'),
  )
    .addOption(outputOption())
    .action(
      async (args: string[], opts: { output: OutputFormat; namespace?: string; kubeconfig?: string }) => {
        const refs = deps.kinds.resolveAll(args);
        const ctx = deps.context(opts);
        // Fetched a few at a time; printed in argument order, grouped by kind for tables.
        const queue = new PQueue({ concurrency: 8 });
        const found: Array<{ ref: ResourceRef; obj: KubernetesObject }> = [];
        const errors: CliError[] = [];
        const results = await Promise.all(
          refs.map((ref) =>
            queue.add(async (): Promise<KubernetesObject | CliError> => {
              try {
                return await ctx.client.get(ref.kind.gvk, { namespace: ctx.namespace, name: ref.name });
              } catch (err) {
                return asCliError(() =>
                  explain(err, `${ref.kind.singular} ${ctx.namespace}/${ref.name}`, ref.kind.crd),
                );
              }
            }),
          ),
        );
        results.forEach((r, i) =>
          r instanceof CliError ? errors.push(r) : found.push({ ref: refs[i]!, obj: r }),
        );
        print(ctx.out, found, opts.output, ctx.now());
        if (errors.length === 1 && found.length === 0) throw errors[0]!;
        for (const e of errors) deps.report(e);
        if (errors.length > 0)
          throw new CliError(`${errors.length} of ${refs.length} not found or not readable`);
      },
    );
}

function asCliError(fn: () => never): CliError {
  try {
    fn();
  } catch (err) {
    return err instanceof CliError ? err : new CliError(String(err));
  }
}

function print(
  out: (s: string) => void,
  found: Array<{ ref: { kind: CliKind }; obj: KubernetesObject }>,
  fmt: OutputFormat,
  now: number,
): void {
  if (found.length === 0) return;
  if (fmt === 'json' || fmt === 'yaml') {
    out(
      format(
        found[0]!.ref.kind,
        found.map((f) => f.obj),
        fmt,
        { namespaces: false, now },
      ),
    );
    return;
  }
  const byKind = new Map<CliKind, KubernetesObject[]>();
  for (const f of found) byKind.set(f.ref.kind, [...(byKind.get(f.ref.kind) ?? []), f.obj]);
  out(
    [...byKind]
      .map(([kind, objs]) => format(kind, objs, fmt, { namespaces: false, now }))
      .join(fmt === 'name' ? '' : '\n'),
  );
}
