// The built manager (dist/cmd/manager.js) as a real process, on start-up failures a user hits:
// a port already in use, a bad flag value. Each ends in one line naming the flag and the value,
// never a stack trace, with exit 1 (cannot run) or 2 (bad command line). No API server is
// needed: the manager binds its ports before it talks to one.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MANAGER = join(import.meta.dirname, '..', '..', 'dist', 'cmd', 'manager.js');

let dir: string;
let kubeconfig: string;
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  if (!existsSync(MANAGER)) throw new Error('dist/cmd/manager.js is missing: run make build');
  dir = await mkdtemp(join(tmpdir(), 'steward-manager-process-'));
  kubeconfig = join(dir, 'kubeconfig');
  // A cluster nobody listens on: these runs must fail before they would need it.
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]',
      'users: [{ name: u, user: { token: t } }]',
      'contexts: [{ name: x, context: { cluster: c, user: u } }]',
      'current-context: x',
    ].join('\n'),
  );
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => busy?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

function manager(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [MANAGER, '--kubeconfig', kubeconfig, ...args],
      { timeout: 60_000 },
      (_err, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
    );
  });
}

/** The stderr lines, and the one that says why the process ended (its last). */
function lastLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  return lines.at(-1)!;
}

describe('manager start-up failures', () => {
  test.each([
    ['--metrics-bind-address', ['--health-probe-bind-address', '0']],
    ['--health-probe-bind-address', ['--metrics-bind-address', '0']],
  ])('%s on a port in use: one line naming the flag and the address, exit 1', async (flag, rest) => {
    const address = `127.0.0.1:${busyPort}`;
    const { code, stderr } = await manager([flag, address, ...rest]);
    expect(code).toBe(1);
    expect(stderr).not.toMatch(/^\s+at /m);
    const line = JSON.parse(lastLine(stderr)) as { level: string; message: string };
    expect(line.level).toBe('error');
    expect(line.message).toBe(`${flag} "${address}": cannot listen: address already in use (EADDRINUSE)`);
  });

  test.each([
    ['a missing file', 'missing', /missing: cannot read it: ENOENT/],
    ['a file that is not a kubeconfig', 'not-yaml', /not-yaml: .+/],
    ['a kubeconfig without a cluster', 'no-cluster', /no-cluster: no current cluster/],
  ])('--kubeconfig naming %s: one usage line naming the flag, exit 2', async (_what, file, why) => {
    await writeFile(join(dir, 'not-yaml'), 'clusters: [\n');
    await writeFile(join(dir, 'no-cluster'), 'apiVersion: v1\nkind: Config\n');
    const { code, stderr } = await manager(['--kubeconfig', join(dir, file)]);
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^manager: option '--kubeconfig <path>': /);
    expect(lines[0]).toMatch(why);
  });

  test('--leader-election-id "": one usage line, exit 2', async () => {
    const { code, stderr } = await manager(['--leader-elect', '--leader-election-id', '']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^manager: option '--leader-election-id <name>' argument '' is invalid\. .*must not be empty/,
      ),
    ]);
  });
});
