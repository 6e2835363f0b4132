// Every environment variable that make or hack/ reads as an override is documented in the
// README's table, so a user can find what changes where things go.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

function overrides(): Map<string, string> {
  const found = new Map<string, string>();
  const add = (name: string, where: string) => found.set(name, found.get(name) ?? where);
  for (const f of readdirSync(join(ROOT, 'hack'))) {
    const text = read(join('hack', f));
    // Shell: ${NAME:-default}, ${NAME:+x}, ${NAME-}: read with a fallback, i.e. an override.
    if (f.endsWith('.sh'))
      for (const m of text.matchAll(/\$\{([A-Z][A-Z0-9_]*):?[-+]/g)) add(m[1]!, `hack/${f}`);
    if (f.endsWith('.ts'))
      for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)) add(m[1]!, `hack/${f}`);
  }
  for (const m of read('bin/launch.js').matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g))
    add(m[1]!, 'bin/launch.js');
  // Make variables the Makefile uses but never sets: set on the command line or in the environment.
  const makefile = read('Makefile');
  const makeBuiltins = new Set(['CURDIR', 'MAKE', 'MAKEFLAGS', 'SHELL', 'PATH']);
  for (const m of makefile.matchAll(/\$\(([A-Z][A-Z0-9_]*)\)/g))
    if (!makeBuiltins.has(m[1]!) && !new RegExp(`^(export )?${m[1]} *[:?+]?=`, 'm').test(makefile))
      add(m[1]!, 'Makefile');
  return found;
}

test('make, hack/ and bin/ read only environment variables the README documents', () => {
  const readme = read('README.md');
  const table = readme.slice(readme.indexOf('## Environment variables'));
  const documented = new Set([...table.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
  const missing = [...overrides()]
    .filter(([name]) => !documented.has(name) && name !== 'HOME')
    .map(([n, w]) => `${n} (${w})`);
  expect(missing).toEqual([]);
  // The finder finds something: the ones the quick start relies on.
  expect([...overrides().keys()]).toEqual(
    expect.arrayContaining(['STEWARD_CLUSTER_DIR', 'STEWARD_BIN_DIR', 'METRICS_ADDR']),
  );
});
