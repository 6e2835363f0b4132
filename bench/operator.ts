/**
 * An operator under benchmark as its own process: Steward's manager (dist/cmd/manager.js) or
 * the controller-runtime peer (bench/peer), started with the same flags, and what the
 * benchmarks read from it: its /metrics, its CPU time and resident memory from /proc.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, waitFor } from '../lib/testing/index.js';
import { peerBinary, ROOT } from './util.js';

export type OperatorKind = 'steward' | 'peer';

export interface OperatorOptions {
  kind: OperatorKind;
  kubeconfigPath: string;
  namespace: string;
  /** Flags both operators understand (--kube-api-qps, --max-concurrent-reconciles, ...). */
  args: string[];
  /** Steward only: write a CPU profile and allow a heap snapshot (SIGUSR2) into this directory. */
  profileDir?: string;
  /**
   * What to run: the Session operator (default), or the event-latency target of
   * bench/latency.ts (dist/bench/latency-target.js, or the peer's `latency` command).
   */
  target?: 'operator' | 'latency';
  /** Steward only: the checkout whose build (dist/) to run, default this one (BENCH_BASELINE). */
  root?: string;
}

// Clock ticks per second of /proc/<pid>/stat's CPU times.
/**
 * The Node flags the operator's image runs it with (the Dockerfile's ENTRYPOINT, between `node`
 * and the script), so the benchmark measures the operator as deployed.
 */
export function imageNodeFlags(root = ROOT): string[] {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const argv = entry ? (JSON.parse(entry) as string[]) : [];
  return argv[0] === 'node' ? argv.slice(1).filter((a) => a.startsWith('--')) : [];
}

/**
 * The Node flags Steward's operator runs with here: the image's, then BENCH_NODE_FLAGS (flags to
 * try, on the command line: NODE_OPTIONS refuses most V8 flags, --heap-growing-percent and
 * --memory-saver-mode among them; a later flag wins, so `--no-memory-saver-mode` turns one off).
 */
export function stewardNodeFlags(root = ROOT): string[] {
  return [...imageNodeFlags(root), ...(process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)];
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export class OperatorProcess {
  readonly kind: OperatorKind;
  readonly pid: number;
  readonly metricsUrl: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly #profileDir: string | undefined;
  #stdout = '';

  private constructor(kind: OperatorKind, child: ChildProcess, metricsUrl: string, profileDir?: string) {
    this.kind = kind;
    this.#child = child;
    this.pid = child.pid!;
    this.metricsUrl = metricsUrl;
    this.#profileDir = profileDir;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => (this.#stdout += s));
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts the operator and resolves once its /readyz answers 200 (caches synced). */
  static async start(opts: OperatorOptions): Promise<OperatorProcess> {
    const [metricsPort, healthPort] = await freePorts(2);
    const target = opts.target ?? 'operator';
    const common = [
      '--kubeconfig',
      opts.kubeconfigPath,
      '--namespace',
      opts.namespace,
      '--health-probe-bind-address',
      `127.0.0.1:${healthPort}`,
      ...(target === 'operator'
        ? ['--metrics-bind-address', `127.0.0.1:${metricsPort}`, '--log-level', 'warn']
        : []),
      // The peer runs Sessions only; so does Steward here (its other controllers stay off).
      ...(target === 'operator' && opts.kind === 'steward' ? ['--controllers', 'session'] : []),
      ...opts.args,
    ];
    let child: ChildProcess;
    if (opts.kind === 'steward') {
      // A baseline checkout runs as its own image runs it.
      const node: string[] = stewardNodeFlags(opts.root);
      if (opts.profileDir !== undefined) {
        mkdirSync(opts.profileDir, { recursive: true });
        node.push(`--cpu-prof`, `--cpu-prof-dir=${opts.profileDir}`, `--heapsnapshot-signal=SIGUSR2`);
        node.push(`--diagnostic-dir=${opts.profileDir}`);
      }
      const script =
        target === 'operator'
          ? join(opts.root ?? ROOT, 'dist', 'cmd', 'manager.js')
          : join(opts.root ?? ROOT, 'dist', 'bench', 'latency-target.js');
      child = spawn(process.execPath, [...node, script, ...common], {
        stdio: ['ignore', 'pipe', 'inherit'],
        // BENCH_NODE_OPTIONS: NODE_OPTIONS for the operator (e.g. an --import that samples its heap).
        env: { ...process.env, NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '' },
      });
    } else {
      child = spawn(peerBinary(), [target, ...common], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    }
    const op = new OperatorProcess(
      opts.kind,
      child,
      `http://127.0.0.1:${metricsPort}/metrics`,
      opts.profileDir,
    );
    let exited = false;
    void op.#exited.then(() => (exited = true));
    await waitFor(
      async () => {
        if (exited) throw new Error(`${opts.kind} exited before it was ready`);
        try {
          return (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok;
        } catch {
          return false;
        }
      },
      { description: `${opts.kind} ready`, timeoutMs: 120_000, intervalMs: 50 },
    );
    return op;
  }

  /** User + system CPU seconds so far (all threads). */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  }

  /** Peak and current resident set size, MiB. */
  memory(): { peakRssMiB: number; rssMiB: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN);
    return { peakRssMiB: kb('VmHWM') / 1024, rssMiB: kb('VmRSS') / 1024 };
  }

  /** rest_client_requests_total summed, and the part with each status code. */
  async requests(): Promise<{ total: number; byCode: Record<string, number> }> {
    const text = await (await fetch(this.metricsUrl)).text();
    const byCode: Record<string, number> = {};
    let total = 0;
    for (const m of text.matchAll(/^rest_client_requests_total\{([^}]*)\} (\S+)$/gm)) {
      const n = Number(m[2]);
      const code = /code="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
      byCode[code] = (byCode[code] ?? 0) + n;
      total += n;
    }
    return { total, byCode };
  }

  /** The mean of a histogram (`_sum` / `_count`, summed over its series), in seconds. */
  async histogramMean(name: string): Promise<{ sum: number; count: number }> {
    const text = await (await fetch(this.metricsUrl)).text();
    let sum = 0;
    let count = 0;
    for (const m of text.matchAll(new RegExp(`^${name}_(sum|count)(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
      if (m[1] === 'sum') sum += Number(m[2]);
      else count += Number(m[2]);
    }
    return { sum, count };
  }

  /** Steward with a profile directory: writes a heap snapshot there and waits for it. */
  async heapSnapshot(): Promise<string | undefined> {
    const dir = this.#profileDir;
    if (dir === undefined || this.kind !== 'steward') return undefined;
    const before = new Set(readdirSync(dir));
    this.#child.kill('SIGUSR2');
    let file: string | undefined;
    let size = -1;
    await waitFor(
      async () => {
        file ??= readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
        if (file === undefined) return false;
        // Written synchronously on the main thread: done once /metrics answers again.
        await fetch(this.metricsUrl);
        const now = statSync(join(dir, file)).size;
        const stable = now === size;
        size = now;
        return stable;
      },
      { description: 'heap snapshot written', timeoutMs: 120_000, intervalMs: 200 },
    );
    return join(dir, file!);
  }

  /** Everything the process wrote on stdout (the peer's latency summary). */
  get stdout(): string {
    return this.#stdout;
  }

  /** Resolves with the exit code once the process has exited by itself. */
  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** SIGTERM, and the exit (a CPU profile, if asked for, is written on the way out). */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 60_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** The newest file in `dir` ending in `suffix`, if any. */
export function newestFile(dir: string, suffix: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}
