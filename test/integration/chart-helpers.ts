// The Helm chart as the tests see it: rendered by the pinned helm (hack/helm.sh), parsed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import type { KubernetesObject } from '../../lib/index.js';
import { ROOT } from './session-helpers.js';

const exec = promisify(execFile);
export const CHART = join(ROOT, 'charts', 'steward');

/** Runs a hack/ wrapper (helm.sh, kubectl.sh); a failure carries its output. */
export async function hack(
  script: 'helm.sh' | 'kubectl.sh',
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const child = exec(join(ROOT, 'hack', script), args, {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    maxBuffer: 64 << 20,
  });
  if (opts.input !== undefined) {
    child.child.stdin!.end(opts.input);
  }
  try {
    return (await child).stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`hack/${script} ${args.join(' ')}: ${e.stderr || e.stdout || e.message}`, { cause: err });
  }
}

/** `helm template` of the chart with these values files and --set flags; the YAML text. */
export function renderText(
  opts: { values?: string[]; set?: string[]; crds?: boolean; namespace?: string } = {},
) {
  return hack('helm.sh', [
    'template',
    'steward',
    CHART,
    '--namespace',
    opts.namespace ?? 'steward-system',
    ...(opts.crds ? ['--include-crds'] : []),
    ...(opts.values ?? []).flatMap((v) => ['--values', join(CHART, v)]),
    ...(opts.set ?? []).flatMap((s) => ['--set', s]),
  ]);
}

/** The same, parsed. */
export async function render(opts: Parameters<typeof renderText>[0] = {}): Promise<KubernetesObject[]> {
  return (loadAll(await renderText(opts)) as KubernetesObject[]).filter((o) => o && o.kind);
}

export const byKind = (objs: KubernetesObject[], kind: string) => objs.filter((o) => o.kind === kind);
