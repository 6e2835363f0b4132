import type { Command } from 'commander';
import type { KubernetesObject } from '../../../lib/index.js';
import type { Ctx } from '../context.js';
import { eventsFor, eventTime } from '../events.js';
import { explain } from '../errors.js';
import type { CliKind } from '../kinds.js';
import { age, table } from '../output.js';
import { type Deps, RESOURCE_HELP, withGlobals } from './shared.js';

export function registerDescribe(prog: Command, deps: Deps): void {
  withGlobals(
    prog
      .command('describe')
      .argument('<resource...>', RESOURCE_HELP)
      .description('status, conditions and events (oldest first) of objects; a Workflow’s DAG'),
  ).action(async (args: string[], opts: { namespace?: string; kubeconfig?: string }) => {
    const refs = deps.kinds.resolveAll(args);
    const ctx = deps.context(opts);
    for (const [i, ref] of refs.entries()) {
      let obj: KubernetesObject;
      try {
        obj = await ctx.client.get(ref.kind.gvk, { namespace: ctx.namespace, name: ref.name });
      } catch (err) {
        explain(err, `${ref.kind.singular} ${ctx.namespace}/${ref.name}`, ref.kind.crd);
      }
      if (i > 0) ctx.out('\n');
      await describe(ctx, ref.kind, obj);
    }
  });
}

interface Conditioned {
  status?: {
    conditions?: Array<{
      type: string;
      status: string;
      reason?: string;
      lastTransitionTime?: string;
      message?: string;
    }>;
  };
}

async function describe(ctx: Ctx, kind: CliKind, obj: KubernetesObject): Promise<void> {
  const fields: Array<[string, string | number | undefined]> = [
    ['Name', obj.metadata?.name],
    ['Namespace', obj.metadata?.namespace],
    ['Kind', `${obj.kind} (${obj.apiVersion})`],
    ...kind.describe(obj),
  ];
  const lines = fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${`${k}:`.padEnd(15)}${v}`);
  lines.push(...(kind.describeMore?.(obj, ctx.now()) ?? []));
  ctx.out(`${lines.join('\n')}\nConditions:\n`);
  const conditions = (obj as Conditioned).status?.conditions ?? [];
  ctx.out(
    conditions.length === 0
      ? '  <none>\n'
      : table([
          ['  TYPE', 'STATUS', 'REASON', 'LAST TRANSITION', 'MESSAGE'],
          ...conditions.map((c) => [
            `  ${c.type}`,
            c.status,
            c.reason ?? '',
            c.lastTransitionTime ?? '',
            c.message ?? '',
          ]),
        ]),
  );
  for (const { title, rows } of kind.describeTables?.(obj, ctx.now()) ?? []) {
    ctx.out(`${title}:\n`);
    ctx.out(rows.length <= 1 ? '  <none>\n' : table(rows.map(([first, ...rest]) => [`  ${first}`, ...rest])));
  }
  const events = await eventsFor(ctx, obj);
  ctx.out('Events:\n');
  if (events.length === 0) {
    ctx.out('  <none>\n');
    return;
  }
  const now = ctx.now();
  ctx.out(
    table([
      ['  TYPE', 'REASON', 'AGE', 'COUNT', 'MESSAGE'],
      ...events.map((e) => [
        `  ${e.type ?? ''}`,
        e.reason ?? '',
        Number.isNaN(eventTime(e)) ? '<unknown>' : age(new Date(eventTime(e)).toISOString(), now),
        String(e.series?.count ?? e.count ?? 1),
        (e.message ?? '').replace(/\s*\n\s*/g, ' '),
      ]),
    ]),
  );
}
