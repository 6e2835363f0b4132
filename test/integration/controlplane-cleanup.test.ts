// The control plane's life cycle: start-up failures are reported with a stable code, and no
// process or directory outlives stop(), a signal, or even SIGKILL of the process that owns them.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  BinaryNotFoundError,
  ControlPlaneStoppedError,
  ProcessExitedError,
  startControlPlane,
  waitFor,
} from '../../lib/testing/index.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pidsOf = (dir: string) => readFileSync(join(dir, 'pids'), 'utf8').trim().split('\n').map(Number);

let scratch: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'steward-cleanup-test-'));
});
afterEach(() => {
  // A failed test may leave its child running; its watchdog then cleans up after it.
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

test('stop() ends every process and removes the working directory; it is idempotent', async () => {
  const cp = await startControlPlane({ tmpDir: scratch });
  const pids = pidsOf(cp.directory);
  expect(pids).toHaveLength(2);
  expect(pids.every(alive)).toBe(true);

  await Promise.all([cp.stop(), cp.stop()]);
  expect(pids.some(alive)).toBe(false);
  expect(existsSync(cp.directory)).toBe(false);
  await cp.stop();
  await expect(cp.userKubeConfig('late')).rejects.toBeInstanceOf(ControlPlaneStoppedError);
});

test('a missing binary fails fast with ERR_BINARY_NOT_FOUND and a hint', async () => {
  const err = await startControlPlane({ binaries: { assetsDirectory: scratch } }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BinaryNotFoundError);
  expect(err).toMatchObject({ code: 'ERR_BINARY_NOT_FOUND', binary: 'etcd' });
  expect((err as Error).message).toMatch(/make binaries|KUBEBUILDER_ASSETS/);
});

test('a component that dies during start-up fails it with its log tail, leaving nothing behind', async () => {
  const err = await startControlPlane({ tmpDir: scratch, apiServerFlags: ['--no-such-flag'] }).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProcessExitedError);
  expect(err).toMatchObject({ code: 'ERR_PROCESS_EXITED', process: 'kube-apiserver' });
  expect((err as Error).message).toContain('no-such-flag');
  expect(readdirSync(scratch)).toEqual([]);
});

// A separate Node process that starts a control plane, reports its directory and waits to be
// killed. It loads the TypeScript sources through Node's type stripping plus a resolve hook for
// the `.js` import suffixes.
const INDEX = fileURLToPath(new URL('../../lib/testing/index.ts', import.meta.url));
const CHILD = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
  import { existsSync } from 'node:fs';
  import { fileURLToPath } from 'node:url';
  export async function resolve(specifier, context, next) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const url = new URL(specifier, context.parentURL);
      if (!existsSync(fileURLToPath(url))) return next(url.href.slice(0, -3) + '.ts', context);
    }
    return next(specifier, context);
  }\`));
const { startControlPlane } = await import(${JSON.stringify(INDEX)});
const cp = await startControlPlane({ tmpDir: process.argv[1] });
process.stdout.write(cp.directory + '\\n');
setInterval(() => {}, 1 << 30);
`;

async function startInChild(): Promise<{ pid: number; dir: string }> {
  const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', CHILD, scratch], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let errOut = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
  const dir = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`child exited: ${errOut}`);
      return out.includes('\n') ? out.trim() : undefined;
    },
    { timeoutMs: 60_000, description: 'child control plane' },
  );
  return { pid: child.pid!, dir };
}

test.each(['SIGTERM', 'SIGINT', 'SIGKILL'] as const)(
  'when the owning process gets %s, its control plane goes with it',
  async (signal) => {
    const { pid, dir } = await startInChild();
    const pids = pidsOf(dir);
    expect(pids.every(alive)).toBe(true);

    process.kill(pid, signal);
    // SIGTERM and SIGINT: the in-process handlers clean up at once. SIGKILL leaves that to the
    // watchdog, which polls once a second.
    await waitFor(() => !alive(pid) && !pids.some(alive) && !existsSync(dir), {
      timeoutMs: 15_000,
      description: `cleanup after ${signal}`,
    });
  },
);
