import { dump } from 'js-yaml';
import { prettyJson } from './json.js';
import type { KubernetesObject } from '../../lib/index.js';
import { UsageError } from './errors.js';
import type { CliKind } from './kinds.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Checks an `-o` value; anything else is a usage error (never a silent table). */
export function outputFormat(value: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`unknown output format "${value}" (use one of: ${OUTPUT_FORMATS.join(', ')})`);
}

/** Age as kubectl prints it: 45s, 3m, 5h, 2d. */
export function age(t: string | undefined, now: number): string {
  if (!t) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(t)) / 1000));
  if (Number.isNaN(s)) return '<unknown>';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Left-aligned columns separated by three spaces, as kubectl prints them. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('   ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** The header row of a kind's table. */
export function header(kind: CliKind, opts: { wide: boolean; namespaces: boolean }): string[] {
  const cols = kind.columns.filter((c) => opts.wide || !c.wide).map((c) => c.header);
  return [...(opts.namespaces ? ['NAMESPACE'] : []), 'NAME', ...cols];
}

/** One object's table row. */
export function row(
  kind: CliKind,
  obj: KubernetesObject,
  opts: { wide: boolean; namespaces: boolean; now: number },
): string[] {
  const cols = kind.columns.filter((c) => opts.wide || !c.wide).map((c) => oneLine(c.value(obj, opts.now)));
  return [...(opts.namespaces ? [obj.metadata?.namespace ?? ''] : []), obj.metadata?.name ?? '', ...cols];
}

/** `session/NAME`: what `-o name` prints and every resource argument accepts. */
export function nameOf(kind: CliKind, obj: KubernetesObject): string {
  return `${kind.singular}/${obj.metadata?.name ?? ''}`;
}

/** Objects in the chosen format. One object prints as itself in json/yaml; several as a List. */
export function format(
  kind: CliKind,
  objects: readonly KubernetesObject[],
  fmt: OutputFormat,
  opts: { namespaces: boolean; now: number; headers?: boolean },
): string {
  switch (fmt) {
    case 'json':
      return `${prettyJson(objects.length === 1 ? objects[0] : asList(objects))}\n`;
    case 'yaml': {
      // Through JSON first: exactly what -o json shows, as plain objects js-yaml accepts.
      const json = prettyJson(objects.length === 1 ? objects[0] : asList(objects));
      try {
        return dump(JSON.parse(json), { noRefs: true, lineWidth: -1 });
      } catch (err) {
        // js-yaml recurses and gives up at a few thousand levels, which the API server stores;
        // JSON is YAML (1.2) too, so such an object still prints, as its JSON.
        if ((err as Error | undefined)?.name !== 'RangeError') throw err;
        return `${json}\n`;
      }
    }
    case 'name':
      return objects.map((o) => `${nameOf(kind, o)}\n`).join('');
    case 'table':
    case 'wide': {
      const wide = fmt === 'wide';
      const rows = objects.map((o) => row(kind, o, { wide, namespaces: opts.namespaces, now: opts.now }));
      return table(
        opts.headers === false ? rows : [header(kind, { wide, namespaces: opts.namespaces }), ...rows],
      );
    }
  }
}

function asList(objects: readonly KubernetesObject[]): object {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objects };
}

// A table cell stays on its row.
const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ');
