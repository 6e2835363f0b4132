// bin/*.js start the programs on Node >= 24 even when the shell's `node` is older (they run
// dist/, so this is an integration test: make test-integration builds first).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
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
