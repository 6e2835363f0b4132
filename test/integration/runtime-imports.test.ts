// What the operator loads at run time (the compiled dist/, as deployed): the framework and the
// Session controller must not pull in @kubernetes/client-node's generated API code, which alone
// costs about 25 MiB of heap and 70 MiB of RSS (lib/client/kubeconfig.ts replaces its KubeConfig),
// nor Node's bundled undici and web streams, which an ESM import of node:http loads (17 MiB of
// RSS; lib/util/node-http.ts requires it instead).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** The module URLs a fresh Node process resolves while importing `entries`, and Node's own modules it loaded. */
function resolvedBy(entries: string[]): { urls: string[]; builtins: string[] } {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
    for (const e of ${JSON.stringify(entries)}) await import(e);
    process.stdout.write(JSON.stringify({ urls: seen, builtins: process.moduleLoadList }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as { urls: string[]; builtins: string[] };
}

test('the framework and the Session operator load without client-node or Node’s bundled undici', () => {
  const { urls, builtins } = resolvedBy([
    join(ROOT, 'dist', 'lib', 'index.js'),
    join(ROOT, 'dist', 'controllers', 'session', 'index.js'),
    join(ROOT, 'dist', 'cmd', 'manager-flags.js'),
  ]);
  expect(urls.some((u) => u.includes('/dist/lib/client/kubeconfig.js'))).toBe(true);
  expect(urls.filter((u) => u.includes('@kubernetes/client-node'))).toEqual([]);
  expect(builtins.filter((m) => m.includes('deps/undici'))).toEqual([]);
});
