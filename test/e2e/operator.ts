// The operator as a real process (dist/cmd/manager.js), for e2e tests: what users deploy.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
const MANAGER = join(ROOT, 'dist', 'cmd', 'manager.js');

export interface OperatorProcess {
  child: ChildProcess;
  /** Everything the process wrote to stderr (its logs). */
  logs(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startOperator(kubeconfigPath: string, args: string[] = []): OperatorProcess {
  if (!existsSync(MANAGER))
    throw new Error('dist/cmd/manager.js is missing: run make build (make test-e2e does)');
  const child = spawn(
    process.execPath,
    [
      MANAGER,
      '--kubeconfig',
      kubeconfigPath,
      '--metrics-bind-address',
      '0',
      '--health-probe-bind-address',
      '0',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    logs: () => logs,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
