import type { Command } from 'commander';
import { isGone, type KubernetesObject } from '../../../lib/index.js';
import type { Ctx } from '../context.js';
import { explain } from '../errors.js';
import type { CliKind } from '../kinds.js';
import { format, header, type OutputFormat, row } from '../output.js';
import { type Deps, outputOption, withGlobals } from './shared.js';

interface ListOptions {
  allNamespaces?: boolean;
  selector?: string;
  output: OutputFormat;
  watch?: boolean;
  namespace?: string;
  kubeconfig?: string;
}

export function registerList(prog: Command, deps: Deps): void {
  withGlobals(
    prog
      .command('list')
      .alias('ls')
      .argument(
        '[kind]',
        `what to list: ${deps.kinds.kinds.map((k) => [k.plural, ...k.shortNames].join('|')).join(', ')}`,
      )
      .description('list Sessions (or another kind); -w keeps printing changes'),
  )
    .option('-A, --all-namespaces', 'across all namespaces')
    .option('-l, --selector <labels>', 'label selector, e.g. team=a,tier!=batch')
    .option('-w, --watch', 'after the list, print every change until Ctrl-C')
    .addOption(outputOption())
    .action(async (kindArg: string | undefined, opts: ListOptions) => {
      const kind = kindArg === undefined ? deps.kinds.defaultKind : deps.kinds.kind(kindArg);
      const ctx = deps.context(opts);
      const namespace = opts.allNamespaces ? undefined : ctx.namespace;
      let list;
      try {
        list = await ctx.client.list(kind.gvk, { namespace, labelSelector: opts.selector });
      } catch (err) {
        explain(err, undefined, kind.crd);
      }
      const namespaces = Boolean(opts.allNamespaces);
      if (list.items.length === 0 && !opts.watch) {
        if (opts.output === 'json' || opts.output === 'yaml')
          ctx.out(format(kind, [], opts.output, { namespaces, now: ctx.now() }));
        else if (opts.output !== 'name')
          ctx.out(`No ${kind.plural} found${namespace ? ` in namespace ${namespace}` : ''}.\n`);
        return;
      }
      if (!opts.watch) {
        ctx.out(format(kind, list.items, opts.output, { namespaces, now: ctx.now() }));
        return;
      }
      await watchList(ctx, kind, list.items, list.metadata.resourceVersion, {
        ...opts,
        namespace,
        namespaces,
      });
    });
}

/**
 * `list -w`: the list, then a line per change (ADDED, MODIFIED, DELETED as kubectl -w prints
 * them: the object's row), resuming after the server ends the watch and re-listing after 410
 * Gone, until Ctrl-C.
 */
async function watchList(
  ctx: Ctx,
  kind: CliKind,
  items: KubernetesObject[],
  resourceVersion: string | undefined,
  opts: ListOptions & { namespace: string | undefined; namespaces: boolean },
): Promise<void> {
  const table = opts.output === 'table' || opts.output === 'wide';
  const wide = opts.output === 'wide';
  const head = header(kind, { wide, namespaces: opts.namespaces });
  const widths = head.map((h) => Math.max(h.length, 10));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd()}\n`;
  const printed = new Map<string, string>();
  const show = (obj: KubernetesObject) => {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    const rv = obj.metadata?.resourceVersion ?? '';
    if (printed.get(key) === rv) return;
    printed.set(key, rv);
    if (table) ctx.out(line(row(kind, obj, { wide, namespaces: opts.namespaces, now: ctx.now() })));
    else ctx.out(format(kind, [obj], opts.output, { namespaces: opts.namespaces, now: ctx.now() }));
  };
  for (const obj of items) {
    const cells = row(kind, obj, { wide, namespaces: opts.namespaces, now: ctx.now() });
    cells.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  }
  if (table) ctx.out(line(head));
  items.forEach(show);
  let rv = resourceVersion;
  while (!ctx.signal.aborted) {
    try {
      for await (const ev of ctx.client.watch(kind.gvk, {
        namespace: opts.namespace,
        labelSelector: opts.selector,
        resourceVersion: rv,
        allowWatchBookmarks: true,
        signal: ctx.signal,
      })) {
        rv = ev.object.metadata?.resourceVersion ?? rv;
        if (ev.type !== 'BOOKMARK') show(ev.object);
      }
    } catch (err) {
      if (ctx.signal.aborted) return;
      if (!isGone(err)) explain(err, undefined, kind.crd);
      // Too old to resume: list again and print what changed meanwhile.
      try {
        const list = await ctx.client.list(kind.gvk, {
          namespace: opts.namespace,
          labelSelector: opts.selector,
        });
        list.items.forEach(show);
        rv = list.metadata.resourceVersion;
      } catch (e) {
        explain(e, undefined, kind.crd);
      }
    }
  }
}
