import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: plain JavaScript (bin/ runs on any Node), no type declarations.
import { MANAGER_NODE_FLAGS } from '../../../bin/node-flags.js';

/**
 * The operator runs with the same Node flags however it is started: the image, `npx
 * steward-manager` (bin/node-flags.js) and `make run` (hack/run.sh). The benchmarks read the
 * Dockerfile's, so a flag measured there is a flag users get.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');
const flags = MANAGER_NODE_FLAGS as string[];

test('bin/node-flags.js names the flags (4 MiB semi-spaces, a heap growing factor of 1.2)', () => {
  expect(flags).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=20']);
});

test('node accepts them', () => {
  // V8 stops at a flag it does not know ("Error: unrecognized flag"), so a flag renamed or
  // dropped by a later Node fails here rather than at the operator's start.
  const r = spawnSync(process.execPath, [...flags, '-e', ''], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test("the image's ENTRYPOINT runs node with them", () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const entry = JSON.parse(/^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)![1]!) as string[];
  expect(entry).toEqual(['node', ...flags, 'dist/cmd/manager.js']);
});

test('make run (hack/run.sh) runs node with them', () => {
  const script = readFileSync(join(ROOT, 'hack', 'run.sh'), 'utf8');
  expect(script).toContain(`node ${flags.join(' ')} "\${ROOT}/dist/cmd/manager.js"`);
});

test('bin/steward-manager.js hands them to launch', () => {
  const bin = readFileSync(join(ROOT, 'bin', 'steward-manager.js'), 'utf8');
  expect(bin).toMatch(/launch\('steward-manager', '\.\.\/dist\/cmd\/manager\.js', MANAGER_NODE_FLAGS\)/);
});
