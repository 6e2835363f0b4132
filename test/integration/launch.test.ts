// bin/*.js start the programs on Node >= 24 even when the shell's `node` is older (they run
// dist/, so this is an integration test: make test-integration builds first).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'stewardctl.js');

/** A `node` on PATH older than 24, outside node_modules (the machine's own), if there is one. */
function oldNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir.includes('node_modules')) continue;
    const r = spawnSync(join(dir, 'node'), ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (r.status === 0 && Number(r.stdout.split('.')[0]) < 24) return join(dir, 'node');
  }
  return undefined;
}
const old = oldNode();
const withOldNode = old === undefined ? test.skip : test;

test('on Node >= 24 the program runs in the same process', () => {
  expect(execFileSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' })).toBe('0.1.0\n');
});

withOldNode('on an older Node it re-runs the program on the pinned Node 24 (exit code kept)', () => {
  expect(execFileSync(old!, [BIN, '--version'], { encoding: 'utf8' })).toBe('0.1.0\n');
  const r = spawnSync(old!, [BIN, 'get', '-o', 'bogus', 'x'], { encoding: 'utf8' });
  expect(r.status).toBe(2);
});

withOldNode('with no Node 24 to be found it exits 1 with one line saying what to install', () => {
  const copy = mkdtempSync(join(tmpdir(), 'steward-launch-'));
  cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
  const r = spawnSync(old!, [join(copy, 'bin', 'stewardctl.js'), '--version'], {
    encoding: 'utf8',
    cwd: copy,
    env: { PATH: '/usr/bin:/bin' },
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(
    /^stewardctl: needs Node.js >= 24 \(this is v\d+\.[^)]*\); install Node 24, or set STEWARD_NODE to a Node 24 binary\n$/,
  );
});

describe('launch runs the program with its Node flags (bin/node-flags.js for the operator)', () => {
  // A program that says how it runs, started through a copy of bin/launch.js.
  const dir = mkdtempSync(join(tmpdir(), 'steward-launch-flags-'));
  cpSync(join(ROOT, 'bin', 'launch.js'), join(dir, 'launch.js'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  writeFileSync(
    join(dir, 'prog.js'),
    'console.log(JSON.stringify({ execArgv: process.execArgv, pid: process.pid, args: process.argv.slice(2) }));\n',
  );
  writeFileSync(
    join(dir, 'entry.js'),
    "import { launch } from './launch.js';\nawait launch('t', './prog.js', ['--max-semi-space-size=4', '--memory-saver-mode']);\n",
  );
  const run = (nodeArgs: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [...nodeArgs, join(dir, 'entry.js'), 'a', '--b'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '', ...env },
    });
    expect(r.stderr).toBe('');
    return {
      spawnedPid: r.pid,
      ...(JSON.parse(r.stdout) as { execArgv: string[]; pid: number; args: string[] }),
    };
  };

  test('a flag not given is applied in the same process (same pid), arguments kept', () => {
    const r = run([]);
    expect(r.execArgv).toEqual(['--max-semi-space-size=4', '--memory-saver-mode']);
    expect(r.pid).toBe(r.spawnedPid);
    expect(r.args).toEqual(['a', '--b']);
  });

  test("the user's own value wins, on the command line or in NODE_OPTIONS", () => {
    expect(run(['--max-semi-space-size=2']).execArgv).toEqual([
      '--max-semi-space-size=2',
      '--memory-saver-mode',
    ]);
    expect(run([], { NODE_OPTIONS: '--max_semi_space_size=8' }).execArgv).toEqual(['--memory-saver-mode']);
  });

  test('a boolean flag the user turns off (--no-x) stays off', () => {
    expect(run(['--no-memory-saver-mode']).execArgv).toEqual([
      '--no-memory-saver-mode',
      '--max-semi-space-size=4',
    ]);
    expect(run(['--no-memory_saver_mode']).execArgv).toEqual([
      '--no-memory_saver_mode',
      '--max-semi-space-size=4',
    ]);
  });
});
