import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadAll } from 'js-yaml';
import type { KubernetesObject } from '../../../lib/index.js';
import { CliError, explain, UsageError } from '../errors.js';
import { waitForEnd } from '../wait.js';
import { duration, nonNegative, type Deps, withGlobals } from './shared.js';

interface SubmitOptions {
  file?: string;
  name?: string;
  image?: string;
  command?: string[];
  input?: string;
  timeout?: number;
  retries?: number;
  wait?: boolean;
}

export function registerSubmit(prog: Command, deps: Deps): void {
  withGlobals(
    prog
      .command('submit')
      .description('create a Session or a Workflow from a file (-f), or a Session from flags'),
  )
    .option('-f, --file <path>', 'YAML or JSON file with one object ("-" for stdin)')
    .option('--name <name>', 'Session name (default: generated)')
    .option('--image <image>', 'container image')
    .option('--command <args...>', 'command and arguments')
    .option('--input <json>', 'JSON handed to the pod as STEWARD_INPUT')
    .option('--timeout <duration>', 'run timeout, e.g. 10m', duration)
    .option('--retries <n>', 'retry limit', nonNegative)
    .option(
      '-w, --wait',
      'stream phase changes; exit 0 on Succeeded, 1 on Failed/TimedOut/Cancelled (a Workflow: its progress)',
    )
    .action(async (opts: SubmitOptions & { namespace?: string; kubeconfig?: string }) => {
      const obj = opts.file ? fromFile(opts.file, deps) : sessionFromFlags(opts);
      const kind = deps.kinds.lookup(obj.kind!)!;
      if (opts.wait && kind.progress === undefined)
        throw new UsageError(`--wait: a ${kind.singular} never finishes`);
      const ctx = deps.context(opts);
      let created: KubernetesObject;
      try {
        created = await ctx.client.create({
          ...obj,
          metadata: { ...obj.metadata, namespace: obj.metadata?.namespace ?? ctx.namespace },
        });
      } catch (err) {
        explain(err, undefined, kind.crd);
      }
      const name = created.metadata!.name!;
      ctx.out(`${kind.singular}/${name} created\n`);
      if (opts.wait) {
        const end = await waitForEnd({ ...ctx, namespace: created.metadata!.namespace! }, kind, name, {
          from: created,
        });
        if (!end.succeeded) throw new CliError(`${kind.singular} ${name} ended ${end.phase}`);
      }
    });
}

/** The one object of a YAML or JSON file, of a kind stewardctl knows. */
function fromFile(file: string, deps: Deps): KubernetesObject {
  let docs: unknown[];
  try {
    const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
    // js-yaml, not client-node's loadAllYaml: that one converts to typed models and renames fields.
    docs = loadAll(text).filter(Boolean);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const obj = docs[0] as KubernetesObject | undefined;
  const kind = typeof obj?.kind === 'string' ? deps.kinds.lookup(obj.kind) : undefined;
  if (
    docs.length !== 1 ||
    !obj ||
    kind === undefined ||
    obj.kind !== kind.gvk.kind ||
    obj.apiVersion !== `${kind.gvk.group}/${kind.gvk.version}` ||
    (!obj.metadata?.name && !obj.metadata?.generateName)
  ) {
    const kinds = deps.kinds.kinds.map((k) => `${k.gvk.kind} (${k.gvk.group}/${k.gvk.version})`);
    const got =
      docs.length === 1 && obj
        ? `; got ${[obj.apiVersion, obj.kind ?? 'no kind'].filter(Boolean).join(' ')}`
        : `; got ${docs.length} documents`;
    throw new UsageError(`${file}: expected exactly one ${kinds.join(' or ')} with metadata.name${got}`);
  }
  return obj;
}

/** A Session from --image, --command, --input, --timeout, --retries. */
function sessionFromFlags(opts: SubmitOptions): KubernetesObject {
  if (!opts.image && !opts.name)
    throw new UsageError('give -f FILE, or --image (and optionally --name) to submit from flags');
  let input: unknown;
  if (opts.input !== undefined) {
    try {
      input = JSON.parse(opts.input);
    } catch {
      throw new UsageError('--input must be JSON');
    }
  }
  const spec: Record<string, unknown> = {
    template: {
      ...(opts.image ? { image: opts.image } : {}),
      ...(opts.command?.length ? { command: opts.command } : {}),
    },
  };
  if (input !== undefined) spec.input = input;
  if (opts.timeout !== undefined) spec.timeoutSeconds = Math.max(1, Math.ceil(opts.timeout / 1000));
  if (opts.retries !== undefined) spec.retry = { limit: opts.retries };
  return {
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: opts.name ? { name: opts.name } : { generateName: 'session-' },
    spec,
  };
}
