// A real Prometheus (Debian's, installed by hack/prometheus.sh) for e2e tests: scrapes given
// targets every second and evaluates the operator's alert rules.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, waitFor } from '../../lib/testing/index.js';

export interface PrometheusProcess {
  url: string;
  query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }>;
  stop(): Promise<void>;
}

export function prometheusBinary(): string {
  return execFileSync(join(import.meta.dirname, '..', '..', 'hack', 'prometheus.sh'), {
    encoding: 'utf8',
  }).trim();
}

export async function startPrometheus(targets: string[], ruleFiles: string[]): Promise<PrometheusProcess> {
  const bin = prometheusBinary();
  const dir = mkdtempSync(join(tmpdir(), 'steward-prometheus-'));
  const [port] = await freePorts(1);
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: ruleFiles,
    // honor_labels keeps the operator's own `namespace` label (the ServiceMonitor does the same).
    scrape_configs: [{ job_name: 'steward-operator', honor_labels: true, static_configs: [{ targets }] }],
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, {
      description: `Prometheus ready (${log})`,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
    },
    stop,
  };
}
