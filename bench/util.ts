import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateBinaries } from '../lib/testing/index.js';

/** A goal a row is measured against, and whether this run met it (undefined: not measurable). */
export interface Goal {
  text: string;
  met: boolean | undefined;
}

/** One measured quantity, one value per column of its table (undefined: not measured). */
export interface Row {
  name: string;
  unit: string;
  values: Array<number | undefined>;
  /** Shown in the ratio column instead of values[a] / values[b] (e.g. against the best peer). */
  ratio?: number;
  goal?: Goal;
}

/**
 * What a benchmark prints: a titled table whose columns are the measured subjects (Steward,
 * the controller-runtime peer, ...), with a ratio column `values[a] / values[b]` and notes.
 */
export interface Table {
  title: string;
  columns: string[];
  /** Which columns the ratio column divides, and how it is labelled. */
  ratio?: { label: string; of: [number, number] };
  rows: Row[];
  notes?: string[];
}

export const ROOT = join(import.meta.dirname, '..', '..');

/** Runs a full collection; `make bench` starts node with --expose-gc. */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('benchmarks need node --expose-gc (run them with make bench)');
  g();
  g();
}

export function heapMiB(): number {
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** The lowest of `n` measurements. */
export async function best(n: number, measure: () => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < n; i++) min = Math.min(min, await measure());
  return min;
}

export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** The machine's 1-minute load average, as /proc/loadavg has it. */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU seconds a process has used so far (all threads), from /proc. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The pids of a control plane's kube-apiserver and etcd (from its working directory's `pids`). */
export function serverPids(directory: string): number[] {
  return readFileSync(join(directory, 'pids'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return /kube-apiserver|etcd/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      } catch {
        return false;
      }
    });
}

export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/**
 * The controller-runtime peer's binary (bench/peer), built by hack/peer.sh into the binaries
 * cache if its sources changed. `make bench` builds it first; this only finds or builds it.
 */
export function peerBinary(): string {
  return execFileSync(join(ROOT, 'hack', 'peer.sh'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .pop()!;
}

export function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** The table as aligned text (Markdown-compatible), goals marked met or MISSED. */
export function formatTable(t: Table): string {
  const head = ['', ...t.columns, ...(t.ratio ? [t.ratio.label] : []), 'goal'];
  const body = t.rows.map((r) => {
    const [a, b] = t.ratio?.of ?? [0, 0];
    const ratio =
      r.ratio ??
      (r.values[a] !== undefined && r.values[b] !== undefined ? r.values[a]! / r.values[b]! : undefined);
    const goal =
      r.goal === undefined
        ? ''
        : `${r.goal.text}: ${r.goal.met === undefined ? 'n/a' : r.goal.met ? 'met' : 'MISSED'}`;
    return [
      `${r.name} (${r.unit})`,
      ...r.values.map(fmt),
      ...(t.ratio ? [ratio === undefined || !Number.isFinite(ratio) ? '—' : `${ratio.toFixed(2)}×`] : []),
      goal,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    `### ${t.title}`,
    '',
    line(head),
    `|${widths.map((w, i) => (i === 0 || i === widths.length - 1 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...body.map(line),
    ...(t.notes?.length ? ['', ...t.notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
}

/**
 * kube-apiserver's own CPU profile (/debug/pprof/profile; the control plane must run with
 * --profiling=true) over the next `seconds`, into `file`: `go tool pprof -top FILE` reads it.
 */
export function profileServer(kubeconfigPath: string, file: string, seconds: number): Promise<void> {
  return new Promise((resolve) => {
    execFile(
      locateBinaries().kubectl,
      ['--kubeconfig', kubeconfigPath, 'get', '--raw', `/debug/pprof/profile?seconds=${seconds}`],
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
      (err, stdout) => {
        if (err) console.error(`  no server profile: ${err.message}`);
        else writeFileSync(file, stdout);
        resolve();
      },
    );
  });
}
