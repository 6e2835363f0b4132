// SIGTERM during reconciles, in a real process: in-flight reconciles finish, the process exits
// 0 and the leader Lease is released.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient, type KubernetesObject } from '../../lib/index.js';
import { type ControlPlane, startControlPlane, waitFor } from '../../lib/testing/index.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const LEASE = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' };
const FIXTURE = join(import.meta.dirname, 'fixtures', 'slow-manager.ts');

let cp: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  if (!existsSync(join(import.meta.dirname, '..', '..', 'dist', 'lib', 'index.js'))) {
    throw new Error('dist/ is missing: run make build (make test-integration does)');
  }
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 1000, burst: 1000 });
});
afterAll(async () => {
  await cp?.stop();
});

test('SIGTERM: in-flight reconciles finish, exit code 0, the Lease is released', async () => {
  const ns = 'sigterm';
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const name of ['a', 'b', 'c']) {
    await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: ns, name } });
  }
  const child = spawn(process.execPath, [FIXTURE, cp.kubeconfigPath, ns, '1500'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor(() => (out.match(/^start /gm) ?? []).length === 3, {
      description: `three reconciles in flight (stdout: ${out}, stderr: ${err})`,
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
  expect((out.match(/^end /gm) ?? []).length).toBe(3);
  expect(out.trim().split('\n').at(-1)).toBe('stopped');
  for (const name of ['a', 'b', 'c']) {
    const cm = await client.get<KubernetesObject & { data?: Record<string, string> }>(CM, {
      namespace: ns,
      name,
    });
    expect(cm.data?.done).toBe('true');
  }
  const lease = await client.get<KubernetesObject & { spec: { holderIdentity?: string } }>(LEASE, {
    namespace: ns,
    name: 'slow-manager',
  });
  expect(lease.spec.holderIdentity ?? '').toBe('');
});
