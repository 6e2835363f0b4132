// stewardctl as users run it (the compiled CLI in its own process) against a real API server
// with the operator running in this process; the test plays the Job controller.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeClient } from '../../lib/index.js';
import { type ControlPlane, finishJob, startControlPlane, waitFor } from '../../lib/testing/index.js';
import {
  createSession,
  installCrd,
  playPod,
  ROOT,
  session as readSession,
  startOperator,
  waitJob,
  waitPhase,
} from './session-helpers.js';

const CLI = join(ROOT, 'dist', 'cmd', 'stewardctl.js');
const NS = 'cli';
let cp: ControlPlane;
let client: KubeClient;
let operator: Awaited<ReturnType<typeof startOperator>>;
const dir = mkdtempSync(join(tmpdir(), 'stewardctl-'));

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  await installCrd(client);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  operator = await startOperator(cp.kubeConfig, { namespaces: [NS] });
});
afterAll(async () => {
  await operator?.stop();
  client?.close();
  await cp?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs stewardctl to completion. */
async function ctl(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { ...process.env, KUBECONFIG: cp.kubeconfigPath },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Starts stewardctl and plays the Job controller for `session` until it exits. The Job finishes
 * only once stewardctl has shown the Session Starting: a machine under load may start the CLI's
 * watch late, and the test is about what it streams from there on.
 */
async function ctlWhileFinishing(
  session: string,
  outcome: 'Complete' | 'Failed',
  ...args: string[]
): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, KUBECONFIG: cp.kubeconfigPath },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const code = new Promise<number | null>((resolve) =>
    child.on('exit', (c) => {
      exited = true;
      resolve(c);
    }),
  );
  await waitJob(client, NS, session, 1);
  await waitFor(() => exited || new RegExp(`${session} {2}Starting`).test(stdout), {
    description: `stewardctl showing ${session} Starting (stdout: ${stdout}, stderr: ${stderr})`,
    intervalMs: 50,
  });
  await finishJob(client, { namespace: NS, name: `${session}-1` }, outcome);
  return { code: await code, stdout, stderr };
}

test('submit -f FILE --wait streams phases and exits 0 on Succeeded', async () => {
  const file = join(dir, 'ok.yaml');
  writeFileSync(
    file,
    `apiVersion: steward.dev/v1alpha1\nkind: Session\nmetadata:\n  name: from-file\nspec:\n  template:\n    image: busybox:1.36\n`,
  );
  const r = await ctlWhileFinishing('from-file', 'Complete', 'submit', '-n', NS, '-f', file, '--wait');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^session\/from-file created$/m);
  expect(r.stdout).toMatch(/from-file {2}Starting {2}attempt=1 {2}JobCreated/);
  expect(r.stdout).toMatch(/from-file {2}Succeeded {2}attempt=1 {2}Completed/);
});

test('submit from flags --wait exits 1 when the Session fails', async () => {
  const r = await ctlWhileFinishing(
    'from-flags',
    'Failed',
    'submit',
    '-n',
    NS,
    '--name',
    'from-flags',
    '--image',
    'busybox:1.36',
    '--command',
    'false',
    '--wait',
  );
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/from-flags {2}Failed/);
  expect(r.stderr).toMatch(/session from-flags ended Failed/);
  const s = await client.get<{ spec: { template: { command: string[] } } } & Record<string, unknown>>(
    { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' },
    { namespace: NS, name: 'from-flags' },
  );
  expect(s.spec.template.command).toEqual(['false']);
});

test('get, list, describe, cancel, delete', async () => {
  await createSession(client, NS, 'listed', { template: { image: 'busybox:1.36' } });
  await waitJob(client, NS, 'listed', 1);
  await waitFor(async () => (await ctl('get', 'listed', '-n', NS)).stdout.includes('Starting'), {
    description: 'Starting',
  });
  const get = await ctl('get', 'listed', '-n', NS);
  expect(get.stdout.split('\n')[0]).toMatch(/^NAME\s+PHASE\s+ATTEMPT\s+REASON\s+AGE$/);
  expect(get.stdout.split('\n')[1]).toMatch(/^listed\s+Starting\s+1\s+JobCreated\s+\d+s$/);
  const list = await ctl('list', '-A');
  expect(list.stdout).toMatch(/^NAMESPACE\s+NAME\s+PHASE/);
  expect(list.stdout).toMatch(/^cli\s+listed\s+Starting/m);
  const describe = await ctl('describe', 'listed', '-n', NS);
  expect(describe.code).toBe(0);
  expect(describe.stdout).toMatch(/^Phase:\s+Starting$/m);
  expect(describe.stdout).toMatch(/Finished\s+False/);
  expect(describe.stdout).toMatch(/Normal\s+JobCreated/);
  const cancel = await ctl('cancel', 'listed', '-n', NS);
  expect(cancel.stdout).toBe('session/listed cancel requested\n');
  await waitFor(async () => (await ctl('get', 'listed', '-n', NS)).stdout.includes('Cancelled'), {
    description: 'Cancelled',
  });
  expect((await ctl('delete', 'listed', '-n', NS)).code).toBe(0);
  expect(await ctl('get', 'listed', '-n', NS)).toMatchObject({
    code: 1,
    stderr: `stewardctl: session ${NS}/listed not found\n`,
  });
});

test('clear errors: missing Session, bad file, bad flags, no pod for logs', async () => {
  expect(await ctl('describe', 'nope', '-n', NS)).toMatchObject({
    code: 1,
    stderr: `stewardctl: session ${NS}/nope not found\n`,
  });
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'kind: ConfigMap\nmetadata: {name: x}\n');
  const r = await ctl('submit', '-f', bad, '-n', NS);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/expected exactly one Session .*with metadata.name; got ConfigMap$/m);
  expect(r.stderr.split('\n')).toHaveLength(2);
  expect((await ctl('submit', '-f', join(dir, 'missing.yaml'))).code).toBe(2);
  expect((await ctl('submit', '--retries', 'many', '--image', 'x')).code).toBe(2);
  await createSession(client, NS, 'nolog', { template: { image: 'busybox:1.36' } });
  await waitJob(client, NS, 'nolog', 1);
  const logs = await ctl('logs', 'nolog', '-n', NS);
  expect(logs.code).toBe(1);
  expect(logs.stderr).toMatch(/no pod for attempt 1/);
  // A pod no node runs has no log yet (the server answers 204): empty, exit 0.
  await playPod(client, NS, 'nolog', 1, 'running');
  expect(await ctl('logs', 'nolog', '-n', NS)).toMatchObject({ code: 0, stdout: '', stderr: '' });
  // The server's own reason survives (on kwok: no kubelet to ask; here: a node that is gone).
  await createSession(client, NS, 'ghostlog', { template: { image: 'busybox:1.36' } });
  await waitJob(client, NS, 'ghostlog', 1);
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: NS,
      name: 'ghostlog-1-x',
      labels: { 'steward.dev/session': 'ghostlog', 'steward.dev/attempt': '1' },
      annotations: { 'steward.dev/session': 'ghostlog' },
    },
    spec: { nodeName: 'gone', containers: [{ name: 'session', image: 'busybox:1.36' }] },
  });
  const ghost = await ctl('logs', 'ghostlog', '-n', NS);
  expect(ghost.code).toBe(1);
  expect(ghost.stderr).toMatch(
    /^stewardctl: cannot read the log of pod ghostlog-1-x: Error from server \(\w+\): .*gone.*\n$/,
  );
  for (const bad of [
    ['get', 'x', '-o', 'yml'],
    ['get', 'frob/x'],
    ['get', 'Not_A_Name'],
    ['logs', 'x', '--attempt', '0'],
    ['completion', 'fish'],
    ['list', 'widgets'],
    ['nope'],
  ]) {
    const u = await ctl(...bad);
    expect({ bad, code: u.code, lines: u.stderr.split('\n').length }).toEqual({ bad, code: 2, lines: 2 });
  }
});

test('a cluster without the CRD gets a one-line hint', async () => {
  const bare = await startControlPlane();
  try {
    const r = await promisify(execFile)(process.execPath, [CLI, 'list'], {
      env: { ...process.env, KUBECONFIG: bare.kubeconfigPath },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'stewardctl: the Session CRD is not installed in this cluster (kubectl apply -k manifests/crd)\n',
    );
  } finally {
    await bare.stop();
  }
});

test('TTL 0: submit --wait exits 0 for a Session that succeeds and is deleted at once (issue 11 item 8)', async () => {
  const file = join(dir, 'ttl0.yaml');
  writeFileSync(
    file,
    `apiVersion: steward.dev/v1alpha1\nkind: Session\nmetadata:\n  name: ttl0\nspec:\n  ttlSecondsAfterFinished: 0\n  template:\n    image: busybox:1.36\n`,
  );
  const r = await ctlWhileFinishing('ttl0', 'Complete', 'submit', '-n', NS, '-f', file, '--wait');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/ttl0 {2}Succeeded {2}attempt=1 {2}Completed/);
  await waitFor(
    async () =>
      readSession(client, NS, 'ttl0').then(
        () => false,
        () => true,
      ),
    { description: 'ttl0 deleted by its TTL' },
  );
});

test('get -o wide | json | yaml | name, several at once, KIND/NAME and KIND NAME forms; --version', async () => {
  await createSession(client, NS, 'out-a', { template: { image: 'busybox:1.36' } });
  await createSession(client, NS, 'out-b', { template: { image: 'busybox:1.36' } });
  await waitPhase(client, NS, 'out-a', 'Starting');
  await waitPhase(client, NS, 'out-b', 'Starting');
  const wide = await ctl('get', 'out-a', '-n', NS, '-o', 'wide');
  expect(wide.stdout.split('\n')[0]).toMatch(
    /^NAME\s+PHASE\s+ATTEMPT\s+REASON\s+AGE\s+JOB\s+EXIT CODE\s+MESSAGE$/,
  );
  expect(wide.stdout.split('\n')[1]).toMatch(/^out-a\s+Starting\s+1\s+JobCreated\s+\d+s\s+out-a-1\s+/);
  const json = JSON.parse((await ctl('get', 'sess/out-a', '-n', NS, '-o', 'json')).stdout);
  expect(json).toMatchObject({ kind: 'Session', metadata: { name: 'out-a' }, status: { phase: 'Starting' } });
  const yaml = await ctl('get', 'session/out-a', '-n', NS, '-o', 'yaml');
  expect(yaml.stdout).toMatch(/^apiVersion: steward.dev\/v1alpha1\nkind: Session\n/);
  expect(yaml.stdout).toMatch(/^ {2}phase: Starting$/m);
  expect((await ctl('get', 'sessions', 'out-a', 'out-b', '-n', NS, '-o', 'name')).stdout).toBe(
    'session/out-a\nsession/out-b\n',
  );
  const list = JSON.parse((await ctl('get', 'out-a', 'sess/out-b', '-n', NS, '-o', 'json')).stdout);
  expect(list.kind).toBe('List');
  expect(list.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['out-a', 'out-b']);
  const partly = await ctl('get', 'out-a', 'missing', '-n', NS);
  expect(partly.code).toBe(1);
  expect(partly.stdout).toMatch(/^out-a\s+Starting/m);
  expect(partly.stderr).toMatch(/session cli\/missing not found/);
  const version = await ctl('--version');
  expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  const deleted = await ctl('delete', 'out-a', 'sess/out-b', '-n', NS);
  expect(deleted).toMatchObject({ code: 0, stdout: 'session/out-a deleted\nsession/out-b deleted\n' });
});

test('list -w prints the list, then a row per change, until Ctrl-C (exit 0)', async () => {
  await createSession(client, NS, 'watched', { template: { image: 'busybox:1.36' } });
  await waitPhase(client, NS, 'watched', 'Starting');
  const child = spawn(process.execPath, [CLI, 'list', 'sess', '-w', '-n', NS], {
    env: { ...process.env, KUBECONFIG: cp.kubeconfigPath },
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  await waitFor(() => /^watched\s+Starting/m.test(stdout), { description: 'the listed row' });
  expect(stdout.split('\n')[0]).toMatch(/^NAME\s+PHASE\s+ATTEMPT\s+REASON\s+AGE$/);
  await finishJob(client, { namespace: NS, name: 'watched-1' }, 'Complete');
  await waitFor(() => /^watched\s+Succeeded\s+1\s+Completed/m.test(stdout), { description: 'the change' });
  child.kill('SIGINT');
  expect(await code).toBe(0);
});

test('describe lists events oldest first, ties by write order', async () => {
  const s = await createSession(client, NS, 'evented', { template: { image: 'busybox:1.36' } });
  await waitPhase(client, NS, 'evented', 'Starting');
  // Names sort the opposite way to time, as the recorder's random suffixes may.
  const at = (t: string, name: string, reason: string) =>
    client.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: NS, name },
      involvedObject: {
        apiVersion: s.apiVersion,
        kind: 'Session',
        name: 'evented',
        namespace: NS,
        uid: s.metadata?.uid,
      },
      type: 'Normal',
      reason,
      message: reason,
      firstTimestamp: t,
      lastTimestamp: t,
      source: { component: 'test' },
    });
  await at('2020-01-01T00:00:02Z', 'evented.a', 'Third');
  await at('2020-01-01T00:00:01Z', 'evented.c', 'First');
  await at('2020-01-01T00:00:01Z', 'evented.b', 'Second');
  const out = (await ctl('describe', 'evented', '-n', NS)).stdout;
  const reasons = [...out.matchAll(/^ {2}Normal\s+(\w+)/gm)].map((m) => m[1]);
  expect(reasons.slice(0, 3)).toEqual(['First', 'Second', 'Third']);
  expect(reasons).toContain('JobCreated');
});
