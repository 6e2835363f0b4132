// What the operator loads at run time (the compiled dist/, as deployed): the framework and the
// Session controller must not pull in @kubernetes/client-node's generated API code, which alone
// costs about 25 MiB of heap and 70 MiB of RSS (lib/client/kubeconfig.ts replaces its KubeConfig).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** The module URLs a fresh Node process resolves while importing `entries`. */
function resolvedBy(entries: string[]): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
    for (const e of ${JSON.stringify(entries)}) await import(e);
    process.stdout.write(JSON.stringify(seen));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

test('the framework and the Session operator load without @kubernetes/client-node', () => {
  const urls = resolvedBy([
    join(ROOT, 'dist', 'lib', 'index.js'),
    join(ROOT, 'dist', 'controllers', 'session', 'index.js'),
    join(ROOT, 'dist', 'cmd', 'manager-flags.js'),
  ]);
  expect(urls.some((u) => u.includes('/dist/lib/client/kubeconfig.js'))).toBe(true);
  expect(urls.filter((u) => u.includes('@kubernetes/client-node'))).toEqual([]);
});
