// The README's quick start, run as written: its ```sh blocks in order (those marked test:skip
// are not run), in a temporary home directory so that ~/.cache/steward/cluster is the test's
// own and never a cluster of yours. `make run` runs in the background as the README's first
// shell; `test:interrupt-background` is where the README says Ctrl-C in that shell.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { defaultCacheDirectory, freePorts, waitFor } from '../../lib/testing/index.js';
import { ROOT } from './operator.js';

interface Block {
  info: string;
  code: string;
}
const blocks: Block[] = [
  ...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/^```sh([^\n]*)\n([\s\S]*?)^```$/gm),
]
  .map((m) => ({ info: m[1]!.trim(), code: m[2]! }))
  .filter((b) => !b.info.includes('test:skip'));

const home = mkdtempSync(join(tmpdir(), 'steward-readme-'));
const state = join(home, '.readme-env');
let env: NodeJS.ProcessEnv;
let background: { child: ChildProcess; output: () => string; exited: Promise<number | null> } | undefined;

beforeAll(async () => {
  const [metrics, health] = await freePorts(2);
  env = {
    // A fresh login shell: the machine's PATH without this project's node_modules/.bin (make
    // targets add it themselves), the user's locale, and a home of the test's own.
    PATH: (process.env.PATH ?? '')
      .split(delimiter)
      .filter((d) => !d.includes('node_modules'))
      .join(delimiter),
    LANG: process.env.LANG ?? 'C.UTF-8',
    HOME: home,
    // The binaries are built once per machine; a temp home must not rebuild them.
    ...(process.env.KUBEBUILDER_ASSETS
      ? { KUBEBUILDER_ASSETS: process.env.KUBEBUILDER_ASSETS }
      : { STEWARD_BIN_DIR: defaultCacheDirectory() }),
    // make run's servers on free ports, so it cannot collide with anything else running.
    METRICS_ADDR: `127.0.0.1:${metrics}`,
    HEALTH_ADDR: `127.0.0.1:${health}`,
  };
});

afterAll(async () => {
  if (background && background.child.exitCode === null && background.child.signalCode === null) {
    process.kill(-background.child.pid!, 'SIGKILL');
    await background.exited;
  }
  await shell(`${join(ROOT, 'hack', 'cluster.sh')} down`).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

/** Runs a block in bash -euo pipefail, carrying exported variables from block to block. */
function shell(code: string): Promise<{ code: number | null; output: string }> {
  const script = `[ -f ${state} ] && source ${state}\n${code}\nexport -p > ${state}\n`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (c) => resolve({ code: c, output }));
  });
}

function startBackground(code: string) {
  // Its own process group, as a terminal's job: Ctrl-C reaches make, bash and the operator.
  const child = spawn('bash', ['-euo', 'pipefail', '-c', code], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { child, output: () => output, exited };
}

test('the README has blocks to run, one of them make run', () => {
  expect(blocks.length).toBeGreaterThan(4);
  expect(blocks[0]!.info).toMatch(/test:background/);
});

test("the README's quick start works step by step", async () => {
  const timings: string[] = [];
  for (const [i, block] of blocks.entries()) {
    const started = Date.now();
    const where = `README block ${i + 1} (\`\`\`sh ${block.info}):\n${block.code}`;
    if (block.info.includes('test:background')) {
      const until = /until="([^"]+)"/.exec(block.info)?.[1] ?? '';
      const bg = startBackground(block.code);
      background = bg;
      await waitFor(
        () => {
          if (bg.child.exitCode !== null)
            throw new Error(`${where}\nexited ${bg.child.exitCode}:\n${bg.output()}`);
          return bg.output().includes(until);
        },
        { description: `"${until}" from ${block.code.trim()}`, timeoutMs: 280_000, intervalMs: 200 },
      );
      // make run says what it applied: the CRDs and each sample.
      expect(bg.output()).toMatch(
        /^run: applied customresourcedefinition.apiextensions.k8s.io\/sessions.steward.dev (created|unchanged|configured)$/m,
      );
      for (const s of ['hello', 'flaky', 'sleepy'])
        expect(bg.output()).toMatch(new RegExp(`^run: applied session.steward.dev/${s} created$`, 'm'));
      timings.push(`${((Date.now() - started) / 1000).toFixed(1)} s  ${block.code.trim().split('\n')[0]}`);
      continue;
    }
    if (block.info.includes('test:interrupt-background') && background) {
      process.kill(-background.child.pid!, 'SIGINT');
      await background.exited;
    }
    const r = await shell(block.code);
    if (r.code !== 0)
      throw new Error(
        `${where}\nexited ${r.code}:\n${r.output}\n\nmake run's output:\n${background?.output() ?? ''}`,
      );
    timings.push(`${((Date.now() - started) / 1000).toFixed(1)} s  ${block.code.trim().split('\n')[0]}`);
  }
  // In the test's output: how long a new user waits at each step.
  process.stdout.write(`README blocks:\n${timings.join('\n')}\n`);
}, 600_000);
