// The package as a user gets it: `npm pack`, installed offline from the tarball into an empty
// project, type-checked, and a user's controller (fixtures/user-controller) run against
// startControlPlane() from steward/testing. dist/ is built by `make test-integration`.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './session-helpers.js';

const exec = promisify(execFile);
/** Runs a command; a failure carries its output (tsc reports on stdout). */
async function run(file: string, args: string[], opts: Parameters<typeof exec>[2] = {}) {
  try {
    return await exec(file, args, { maxBuffer: 64 << 20, ...opts, encoding: 'utf8' });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}
const dir = mkdtempSync(join(tmpdir(), 'steward-package-'));
const project = join(dir, 'project');
// npm runs on the machine's Node; the project itself on this one (Node 24).
const npm = (args: string[], cwd: string) =>
  run('npm', args, { cwd, env: { ...process.env, npm_config_loglevel: 'error' } });
let tarball: string;
let files: string[];

interface LockEntry {
  version?: string;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dev?: boolean;
  [k: string]: unknown;
}

/**
 * A lock file for the user's project: steward from the tarball, and its dependencies (plus
 * typescript and @types/node) at the versions this repository locks, so `npm install --offline`
 * takes every tarball from the npm cache `make deps` filled and asks no registry.
 */
function userLock(): { pkg: object; lock: object } {
  const repo = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const pk = repo.packages;
  const root = pk['']!;
  const version = (name: string) =>
    (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  const keep = new Set<string>();
  const visit = (from: string, name: string): void => {
    // Node's resolution: the nearest node_modules/NAME at or above `from`.
    for (let base = from; ;) {
      const path = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (pk[path]) {
        if (keep.has(path)) return;
        keep.add(path);
        const e = pk[path]!;
        for (const d of Object.keys({ ...e.dependencies, ...e.optionalDependencies })) visit(path, d);
        return;
      }
      if (!base) return;
      const i = base.lastIndexOf('/node_modules/');
      base = i >= 0 ? base.slice(0, i) : '';
    }
  };
  for (const d of [...Object.keys(root.dependencies ?? {}), 'typescript', '@types/node']) visit('', d);
  const dependencies = {
    steward: `file:${tarball}`,
    typescript: version('typescript'),
    '@types/node': version('@types/node'),
  };
  const packages: Record<string, LockEntry> = {
    '': { name: 'user-project', dependencies },
    'node_modules/steward': {
      version: '0.1.0',
      resolved: `file:${tarball}`,
      dependencies: root.dependencies,
      bin: root.bin,
      engines: root.engines,
    },
  };
  for (const path of [...keep].sort()) {
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = pk[path]!;
    packages[path] = entry;
  }
  return {
    pkg: { name: 'user-project', private: true, type: 'module', dependencies },
    lock: { name: 'user-project', lockfileVersion: 3, requires: true, packages },
  };
}

beforeAll(async () => {
  // --ignore-scripts: dist/ is already built; prepack would rebuild it under running tests.
  const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(dir, packed!.filename);
  files = packed!.files.map((f) => f.path);
  const { pkg, lock } = userLock();
  rmSync(project, { recursive: true, force: true });
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
  await npm(['install', '--offline', '--no-audit', '--no-fund'], project);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the tarball holds the built package and what users need, nothing else', () => {
  for (const f of [
    'package.json',
    'README.md',
    'bin/stewardctl.js',
    'bin/steward-manager.js',
    'dist/lib/index.js',
    'dist/lib/index.d.ts',
    'dist/lib/testing/index.js',
    'dist/controllers/session/index.d.ts',
    'dist/cmd/stewardctl.js',
    'dist/cmd/manager.js',
    'hack/versions.env',
    'manifests/crd/steward.dev_sessions.yaml',
  ])
    expect(files).toContain(f);
  const stray = files.filter((f) =>
    /^(test|bench|\.ci|cmd|lib|controllers|node_modules)\/|\.map$|^dist\/(test|bench|cluster)\//.test(f),
  );
  expect(stray).toEqual([]);
});

test('installed, it pulls no Node binary and runs stewardctl', async () => {
  const installed = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, unknown>;
  };
  expect(Object.keys(installed.packages).filter((p) => /node_modules\/node(-bin-setup)?$/.test(p))).toEqual(
    [],
  );
  const { stdout } = await run(process.execPath, [
    join(project, 'node_modules', '.bin', 'stewardctl'),
    '--version',
  ]);
  expect(stdout).toBe('0.1.0\n');
});

test('a user controller type-checks against the package and runs against startControlPlane()', async () => {
  copyFileSync(
    join(ROOT, 'test', 'integration', 'fixtures', 'user-controller', 'controller.ts'),
    join(project, 'controller.ts'),
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2024',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        types: ['node'],
        outDir: 'out',
        skipLibCheck: true,
      },
      files: ['controller.ts'],
    }),
  );
  await run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]);
  const { stdout } = await run(process.execPath, [join(project, 'out', 'controller.js')], { cwd: project });
  expect(stdout).toBe('hello alice; owner alice; terminal true\n');
});
