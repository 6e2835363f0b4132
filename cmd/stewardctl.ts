#!/usr/bin/env node
// stewardctl: submit, watch and manage Sessions. Usage: node dist/cmd/stewardctl.js --help
import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isTerminal, type Phase, type Session, SESSION_GVK } from '../controllers/session/index.js';
import {
  isNoKindMatch,
  isNotFound,
  KubeClient,
  type KubernetesObject,
  NoKindMatchError,
} from '../lib/index.js';
import { parseDuration } from './duration.js';

/** Exit codes: 0 success; 1 a Session failed, or the cluster said no; 2 bad usage or input. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const EVENT_GVK = { group: '', version: 'v1', kind: 'Event' };
const POD_GVK = { group: '', version: 'v1', kind: 'Pod' };

interface Ctx {
  client: KubeClient;
  kubeConfig: KubeConfig;
  namespace: string;
  out: (s: string) => void;
}

function context(opts: { kubeconfig?: string; namespace?: string }): Ctx {
  const kubeConfig = new KubeConfig();
  try {
    if (opts.kubeconfig) kubeConfig.loadFromFile(opts.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (err) {
    throw new CliError(`cannot load kubeconfig: ${(err as Error).message}`, 2);
  }
  if (!kubeConfig.getCurrentCluster())
    throw new CliError('no cluster configured: set --kubeconfig or KUBECONFIG', 2);
  const namespace =
    opts.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  return { client: new KubeClient(kubeConfig), kubeConfig, namespace, out: (s) => process.stdout.write(s) };
}

/** Turns API errors into one clear line. */
function explain(err: unknown, what?: string): never {
  if (err instanceof CliError) throw err;
  if (isNoKindMatch(err) || err instanceof NoKindMatchError) {
    throw new CliError('the Session CRD is not installed in this cluster (kubectl apply -k manifests/crd)');
  }
  if (isNotFound(err) && what) throw new CliError(`${what} not found`);
  throw new CliError(err instanceof Error ? err.message : String(err));
}

async function getSession(ctx: Ctx, name: string): Promise<Session> {
  try {
    return await ctx.client.get<Session>(SESSION_GVK, { namespace: ctx.namespace, name });
  } catch (err) {
    explain(err, `session ${ctx.namespace}/${name}`);
  }
}

const age = (t: string | undefined, now = Date.now()) => {
  if (!t) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(t)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
};

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

function row(s: Session): string[] {
  const st = s.status ?? {};
  return [
    s.metadata!.name!,
    st.phase ?? '',
    String(st.attempt ?? 0),
    st.reason ?? '',
    age(s.metadata?.creationTimestamp),
  ];
}
const HEADER = ['NAME', 'PHASE', 'ATTEMPT', 'REASON', 'AGE'];

/** Builds a Session from a YAML/JSON file or from flags. */
function sessionFromInput(opts: Record<string, unknown>, namespace: string): KubernetesObject {
  if (opts.file) {
    let docs: unknown[];
    try {
      const text = opts.file === '-' ? readFileSync(0, 'utf8') : readFileSync(opts.file as string, 'utf8');
      // js-yaml, not client-node's loadAllYaml: that one converts to typed models and renames fields.
      docs = loadAll(text).filter(Boolean);
    } catch (err) {
      throw new CliError(`cannot read ${String(opts.file)}: ${(err as Error).message.split('\n')[0]}`, 2);
    }
    const obj = docs[0] as KubernetesObject | undefined;
    if (
      docs.length !== 1 ||
      !obj ||
      obj.kind !== 'Session' ||
      (!obj.metadata?.name && !obj.metadata?.generateName)
    ) {
      throw new CliError(`${String(opts.file)}: expected exactly one Session with metadata.name`, 2);
    }
    return { ...obj, metadata: { ...obj.metadata, namespace: obj.metadata?.namespace ?? namespace } };
  }
  if (!opts.image && !opts.name)
    throw new CliError('give -f FILE, or --image (and optionally --name) to submit from flags', 2);
  let input: unknown;
  if (opts.input !== undefined) {
    try {
      input = JSON.parse(opts.input as string);
    } catch {
      throw new CliError('--input must be JSON', 2);
    }
  }
  const spec: Record<string, unknown> = {
    template: {
      ...(opts.image ? { image: opts.image } : {}),
      ...((opts.command as string[] | undefined)?.length ? { command: opts.command } : {}),
    },
  };
  if (input !== undefined) spec.input = input;
  if (opts.timeout !== undefined) spec.timeoutSeconds = Math.ceil((opts.timeout as number) / 1000);
  if (opts.retries !== undefined) spec.retry = { limit: opts.retries };
  return {
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: opts.name ? { name: opts.name as string, namespace } : { generateName: 'session-', namespace },
    spec,
  };
}

/** Streams phase changes until the Session is terminal; returns its final phase. */
async function waitForEnd(ctx: Ctx, name: string, progressEveryMs = 10_000): Promise<Phase> {
  let last: string | undefined;
  const started = Date.now();
  let lastProgress = started;
  for (;;) {
    const s = await getSession(ctx, name);
    const phase = s.status?.phase;
    if (phase !== last) {
      const st = s.status ?? {};
      ctx.out(
        `${new Date().toISOString()}  ${name}  ${phase ?? 'New'}  attempt=${st.attempt ?? 0}  ${st.reason ?? ''}${st.message ? `: ${st.message}` : ''}\n`,
      );
      last = phase;
      lastProgress = Date.now();
    }
    if (isTerminal(phase)) return phase!;
    if (Date.now() - lastProgress >= progressEveryMs) {
      ctx.out(`  … still ${phase ?? 'New'} after ${Math.round((Date.now() - started) / 1000)}s\n`);
      lastProgress = Date.now();
    }
    // Block on a watch until the Session changes (or the watch times out), then read it again.
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), progressEveryMs);
    try {
      for await (const ev of ctx.client.watch<Session>(SESSION_GVK, {
        namespace: ctx.namespace,
        fieldSelector: { 'metadata.name': name },
        resourceVersion: s.metadata?.resourceVersion,
        signal: ac.signal,
      })) {
        if (ev.type === 'DELETED') throw new CliError(`session ${ctx.namespace}/${name} was deleted`);
        if (ev.type !== 'BOOKMARK') break;
      }
    } catch (err) {
      if (err instanceof CliError) throw err;
      // A failed watch (e.g. 410 Gone) only means: read again.
    } finally {
      clearTimeout(timer);
    }
  }
}

async function describe(ctx: Ctx, name: string): Promise<void> {
  const s = await getSession(ctx, name);
  const st = s.status ?? {};
  const lines = [
    `Name:          ${name}`,
    `Namespace:     ${ctx.namespace}`,
    `Phase:         ${st.phase ?? ''}`,
    `Attempt:       ${st.attempt ?? 0}`,
    `Job:           ${st.jobName ?? ''}`,
    `Reason:        ${st.reason ?? ''}`,
    `Message:       ${st.message ?? ''}`,
  ];
  if (st.exitCode !== undefined) lines.push(`Exit code:     ${st.exitCode}`);
  for (const [k, v] of [
    ['Created', s.metadata?.creationTimestamp],
    ['Started', st.startTime],
    ['Running', st.runningTime],
    ['Completed', st.completionTime],
    ['Next retry', st.nextRetryTime],
  ] as const) {
    if (v) lines.push(`${`${k}:`.padEnd(15)}${v}`);
  }
  ctx.out(`${lines.join('\n')}\nConditions:\n`);
  ctx.out(
    table([
      ['  TYPE', 'STATUS', 'REASON', 'LAST TRANSITION', 'MESSAGE'],
      ...(st.conditions ?? []).map((c) => [
        `  ${c.type}`,
        c.status,
        c.reason,
        c.lastTransitionTime,
        c.message,
      ]),
    ]),
  );
  const events = await ctx.client.list<
    KubernetesObject & {
      type: string;
      reason: string;
      message: string;
      count?: number;
      lastTimestamp?: string;
      involvedObject: { uid?: string };
    }
  >(EVENT_GVK, { namespace: ctx.namespace, fieldSelector: { 'involvedObject.name': name } });
  const mine = events.items
    .filter((e) => !s.metadata?.uid || e.involvedObject.uid === s.metadata.uid)
    .sort((a, b) => Date.parse(a.lastTimestamp ?? '') - Date.parse(b.lastTimestamp ?? ''));
  ctx.out('Events:\n');
  if (mine.length === 0) ctx.out('  <none>\n');
  else {
    ctx.out(
      table([
        ['  TYPE', 'REASON', 'AGE', 'COUNT', 'MESSAGE'],
        ...mine.map((e) => [`  ${e.type}`, e.reason, age(e.lastTimestamp), String(e.count ?? 1), e.message]),
      ]),
    );
  }
}

async function logs(ctx: Ctx, name: string, attempt: number | undefined): Promise<void> {
  const s = await getSession(ctx, name);
  const n = attempt ?? s.status?.attempt ?? 0;
  if (n < 1) throw new CliError(`session ${ctx.namespace}/${name} has not started an attempt yet`);
  const pods = await ctx.client.list(POD_GVK, {
    namespace: ctx.namespace,
    labelSelector: { 'steward.dev/attempt': String(n), 'app.kubernetes.io/managed-by': 'steward' },
  });
  const pod = pods.items.find((p) => p.metadata?.annotations?.['steward.dev/session'] === name);
  if (!pod)
    throw new CliError(`no pod for attempt ${n} of ${ctx.namespace}/${name} (deleted, or not scheduled yet)`);
  try {
    const text = await ctx.kubeConfig.makeApiClient(CoreV1Api).readNamespacedPodLog({
      name: pod.metadata!.name!,
      namespace: ctx.namespace,
      container: 'session',
    });
    ctx.out(typeof text === 'string' ? text : String(text));
  } catch (err) {
    throw new CliError(
      `cannot read the log of pod ${pod.metadata!.name}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
}

export function program(): Command {
  const global = (cmd: Command) =>
    cmd
      .addOption(new Option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config)'))
      .addOption(new Option('-n, --namespace <ns>', 'namespace (default: the context’s, else default)'));
  const nonNegative = (v: string) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number >= 0');
    return Number(v);
  };
  const duration = (v: string) => {
    try {
      return parseDuration(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
  const prog = new Command('stewardctl').description(
    'Submit and manage Steward Sessions.\nExit codes: 0 success; 1 failed Session or API error; 2 bad usage or input.',
  );
  global(prog.command('submit').description('create a Session from a file (-f) or from flags'))
    .option('-f, --file <path>', 'YAML or JSON file with one Session ("-" for stdin)')
    .option('--name <name>', 'Session name (default: generated)')
    .option('--image <image>', 'container image')
    .option('--command <args...>', 'command and arguments')
    .option('--input <json>', 'JSON handed to the pod as STEWARD_INPUT')
    .option('--timeout <duration>', 'run timeout, e.g. 10m', duration)
    .option('--retries <n>', 'retry limit', nonNegative)
    .option('-w, --wait', 'stream phase changes; exit 0 on Succeeded, 1 on Failed/TimedOut/Cancelled')
    .action(async (opts) => {
      const ctx = context(opts);
      let created: Session;
      try {
        created = await ctx.client.create<Session>(sessionFromInput(opts, ctx.namespace));
      } catch (err) {
        explain(err);
      }
      const name = created.metadata!.name!;
      ctx.out(`session/${name} created\n`);
      if (opts.wait) {
        const phase = await waitForEnd(ctx, name);
        if (phase !== 'Succeeded') throw new CliError(`session ${name} ended ${phase}`);
      }
    });
  global(prog.command('get').argument('<name>').description('show one Session as a table row'))
    .option('-o, --output <format>', 'table | json | yaml-less json', 'table')
    .action(async (name: string, opts) => {
      const ctx = context(opts);
      const s = await getSession(ctx, name);
      ctx.out(opts.output === 'json' ? `${JSON.stringify(s, null, 2)}\n` : table([HEADER, row(s)]));
    });
  global(prog.command('list').alias('ls').description('list Sessions'))
    .option('-A, --all-namespaces', 'across all namespaces')
    .option('-l, --selector <labels>', 'label selector')
    .action(async (opts) => {
      const ctx = context(opts);
      let items: Session[];
      try {
        items = (
          await ctx.client.list<Session>(SESSION_GVK, {
            namespace: opts.allNamespaces ? undefined : ctx.namespace,
            labelSelector: opts.selector,
          })
        ).items;
      } catch (err) {
        explain(err);
      }
      if (items.length === 0) {
        ctx.out(`No sessions found${opts.allNamespaces ? '' : ` in namespace ${ctx.namespace}`}.\n`);
        return;
      }
      const rows = items.map((s) => (opts.allNamespaces ? [s.metadata!.namespace!, ...row(s)] : row(s)));
      ctx.out(table([opts.allNamespaces ? ['NAMESPACE', ...HEADER] : HEADER, ...rows]));
    });
  global(
    prog.command('describe').argument('<name>').description('status, conditions and events of a Session'),
  ).action(async (name: string, opts) => describe(context(opts), name));
  global(
    prog.command('wait').argument('<name>').description('stream phase changes until the Session ends'),
  ).action(async (name: string, opts) => {
    const ctx = context(opts);
    const phase = await waitForEnd(ctx, name);
    if (phase !== 'Succeeded') throw new CliError(`session ${name} ended ${phase}`);
  });
  global(
    prog
      .command('logs')
      .argument('<name>')
      .description('log of the attempt’s pod (the latest attempt by default)'),
  )
    .option('--attempt <n>', 'attempt number', nonNegative)
    .action(async (name: string, opts) => logs(context(opts), name, opts.attempt));
  global(
    prog.command('cancel').argument('<name>').description('cancel a Session (its Job is deleted)'),
  ).action(async (name: string, opts) => {
    const ctx = context(opts);
    try {
      await ctx.client.patch(
        SESSION_GVK,
        { namespace: ctx.namespace, name },
        { type: 'merge', body: { spec: { cancel: true } } },
      );
    } catch (err) {
      explain(err, `session ${ctx.namespace}/${name}`);
    }
    ctx.out(`session/${name} cancel requested\n`);
  });
  global(prog.command('delete').argument('<name>').description('delete a Session and its Jobs')).action(
    async (name: string, opts) => {
      const ctx = context(opts);
      try {
        await ctx.client.delete(
          SESSION_GVK,
          { namespace: ctx.namespace, name },
          { propagationPolicy: 'Background' },
        );
      } catch (err) {
        explain(err, `session ${ctx.namespace}/${name}`);
      }
      ctx.out(`session/${name} deleted\n`);
    },
  );
  return prog;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const prog = program();
  prog.exitOverride();
  prog.configureOutput({ writeErr: (s) => process.stderr.write(`stewardctl: ${s.replace(/^error: /, '')}`) });
  for (const c of prog.commands) {
    c.exitOverride();
    c.configureOutput({ writeErr: (s) => process.stderr.write(`stewardctl: ${s.replace(/^error: /, '')}`) });
  }
  try {
    await prog.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version')
      return 0;
    if (code?.startsWith('commander.')) return 2;
    if (err instanceof CliError) {
      process.stderr.write(`stewardctl: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`stewardctl: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
