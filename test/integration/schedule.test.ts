// The Schedule controller against a real kube-apiserver on the real clock, with seconds
// schedules: runs appear on time, Forbid with a long run, Replace, suspend and resume, and the
// operator (the built dist/cmd/manager.js) SIGKILLed across scheduled times. The test plays the
// Session controller where a run must finish (a status patch): only the schedule controller runs.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import {
  ANNOTATION_SCHEDULED_TIME,
  LABEL_SCHEDULE,
  runName,
  type Schedule,
  SCHEDULE_GVK,
  scheduleLabelValue,
  setupScheduleController,
} from '../../controllers/schedule/index.js';
import { SESSION_GVK } from '../../controllers/session/index.js';
import { WORKFLOW_GVK } from '../../controllers/workflow/index.js';
import { createLogger, KubeClient, type KubernetesObject, Manager } from '../../lib/index.js';
import {
  type ControlPlane,
  type CoreEvent,
  installCRDs,
  startControlPlane,
  waitFor,
  waitForEvents,
} from '../../lib/testing/index.js';
import { startOperator } from '../e2e/operator.js';

const ROOT = join(import.meta.dirname, '..', '..');
const NS = 'schedules';
/** A namespace whose quota refuses Sessions until the test lifts it. */
const QUOTA_NS = 'quota';
type Run = KubernetesObject & { spec?: { cancel?: boolean } };

let cp: ControlPlane;
let client: KubeClient;
let mgr: Manager;
let stopManager: () => Promise<void>;
/** The operator's "Started run" log lines: the start delay measured where the run is created. */
const started: Array<{ run: string; delaySeconds: number }> = [];

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  await installCRDs(client, [
    join(ROOT, 'manifests/crd/steward.dev_sessions.yaml'),
    join(ROOT, 'manifests/crd/steward.dev_workflows.yaml'),
    join(ROOT, 'manifests/crd/steward.dev_schedules.yaml'),
  ]);
  for (const name of [NS, 'kill', 'down', 'failover', QUOTA_NS])
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const logs = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const l = JSON.parse(line) as { message?: string; run?: string; delaySeconds?: number };
        if (l.message === 'Started run') started.push({ run: l.run!, delaySeconds: l.delaySeconds! });
      }
      done();
    },
  });
  mgr = await Manager.create({
    kubeConfig: cp.kubeConfig,
    namespaces: [NS, QUOTA_NS],
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
    gracefulShutdownTimeoutMs: 5_000,
    logger: createLogger({ level: 'info', stream: logs }),
  });
  await setupScheduleController(mgr);
  const ac = new AbortController();
  const done = mgr.start(ac.signal);
  stopManager = async () => {
    ac.abort();
    await done;
  };
});
afterAll(async () => {
  await stopManager?.();
  client?.close();
  await cp?.stop();
});

async function create(name: string, spec: Record<string, unknown>, ns = NS): Promise<Schedule> {
  return client.create<Schedule>({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Schedule',
    metadata: { namespace: ns, name },
    spec: { sessionTemplate: { spec: { template: { image: 'busybox:1.36' } } }, ...spec } as Schedule['spec'],
  });
}

const get = (name: string, ns = NS) => client.get<Schedule>(SCHEDULE_GVK, { namespace: ns, name });

async function runs(schedule: string, ns = NS, kind = SESSION_GVK): Promise<Run[]> {
  const items = (
    await client.list<Run>(kind, { namespace: ns, labelSelector: { [LABEL_SCHEDULE]: schedule } })
  ).items;
  return items.sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
}
const timeOf = (r: KubernetesObject) => Date.parse(r.metadata!.annotations![ANNOTATION_SCHEDULED_TIME]!);

async function waitRuns(
  schedule: string,
  n: number,
  ns = NS,
  timeoutMs = 60_000,
  kind = SESSION_GVK,
): Promise<Run[]> {
  return waitFor(
    async () => {
      const r = await runs(schedule, ns, kind);
      return r.length >= n ? r : undefined;
    },
    { description: `${n} runs of ${schedule}`, timeoutMs, intervalMs: 50 },
  );
}

/** The status once it records a run for `time` or later (a run shows before its status write). */
async function statusAfter(name: string, time: number, ns = NS): Promise<NonNullable<Schedule['status']>> {
  return waitFor(
    async () => {
      const st = (await get(name, ns)).status;
      return st?.lastScheduleTime && Date.parse(st.lastScheduleTime) >= time ? st : undefined;
    },
    { description: `the status of ${name} written for ${new Date(time).toISOString()}`, intervalMs: 50 },
  );
}

const patchSchedule = (name: string, spec: Record<string, unknown>, ns = NS) =>
  client.patch(SCHEDULE_GVK, { namespace: ns, name }, { type: 'merge', body: { spec } });

/** Plays the Session (or Workflow) controller: the run finished. */
const finish = (run: Run, phase: string, kind = SESSION_GVK) =>
  client.patchStatus(
    kind,
    { namespace: run.metadata!.namespace, name: run.metadata!.name! },
    {
      type: 'merge',
      body: { status: { phase, completionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } },
    },
  );

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!;

test('every 2 s: one run per time, on time, none missed (start delay p99 printed)', async () => {
  const s = await create('ontime', { schedule: '*/2 * * * * *' });
  const created = Date.parse(s.metadata!.creationTimestamp!);
  const got = await waitRuns('ontime', 6);
  await patchSchedule('ontime', { suspend: true });
  const times = got.slice(0, 6).map(timeOf);
  // Consecutive even seconds, the first after the Schedule existed.
  expect(times[0]).toBeGreaterThan(created);
  expect(times.map((t) => t - times[0]!)).toEqual([0, 2000, 4000, 6000, 8000, 10000]);
  expect(got.slice(0, 6).map((r) => r.metadata!.name)).toEqual(times.map((t) => runName('ontime', t)));
  const status = await statusAfter('ontime', times[5]!);
  expect(status.missedRuns ?? 0).toBe(0);
  const delays = started.filter((x) => x.run.startsWith('ontime-')).map((x) => x.delaySeconds * 1000);
  expect(delays.length).toBeGreaterThanOrEqual(6);
  process.stdout.write(
    `schedule start delay over ${delays.length} runs: p50 ${quantile(delays, 0.5).toFixed(1)} ms, ` +
      `p99 ${quantile(delays, 0.99).toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms\n`,
  );
});

test('Forbid with a long run: times are skipped (counted) until it finishes, then the next one runs', async () => {
  await create('forbid', { schedule: '*/2 * * * * *', concurrencyPolicy: 'Forbid' });
  const [first] = await waitRuns('forbid', 1);
  const skipped = await waitFor(
    async () => {
      const st = (await get('forbid')).status;
      return (st?.skippedRuns ?? 0) >= 2 ? st : undefined;
    },
    { description: 'two times skipped', timeoutMs: 30_000, intervalMs: 100 },
  );
  expect(await runs('forbid')).toHaveLength(1);
  expect(skipped.active?.map((r) => r.name)).toEqual([first!.metadata!.name]);
  await finish(first!, 'Succeeded');
  const [, second] = await waitRuns('forbid', 2);
  await patchSchedule('forbid', { suspend: true });
  expect(timeOf(second!)).toBeGreaterThan(Date.parse(skipped.lastMissedTime!));
  expect((await statusAfter('forbid', timeOf(second!))).missedRuns ?? 0).toBe(0);
});

test('Replace: the active run gets spec.cancel when the next time starts its run', async () => {
  await create('replace', { schedule: '*/2 * * * * *', concurrencyPolicy: 'Replace' });
  await waitRuns('replace', 2);
  await patchSchedule('replace', { suspend: true });
  const [first, second] = await runs('replace');
  expect(first!.spec?.cancel).toBe(true);
  expect(second!.spec?.cancel).toBe(false); // the CRD's default
  expect(timeOf(second!) - timeOf(first!)).toBe(2000);
});

test('suspend: no runs while suspended; resume: the latest time runs, the ones between are missed', async () => {
  await create('pause', { schedule: '*/2 * * * * *' });
  await waitRuns('pause', 1);
  await patchSchedule('pause', { suspend: true });
  const suspended = await waitFor(
    async () => {
      const s = await get('pause');
      const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.reason === 'Suspended' ? s : undefined;
    },
    { description: 'Ready=False Suspended', intervalMs: 50 },
  );
  const before = (await runs('pause')).length;
  const last = Date.parse(suspended.status!.lastScheduleTime!);
  // Let three scheduled times pass.
  await waitFor(() => Date.now() > last + 7_000, {
    description: 'three times passed',
    timeoutMs: 15_000,
    intervalMs: 100,
  });
  expect(await runs('pause')).toHaveLength(before);
  const resumedAt = Date.now();
  await patchSchedule('pause', { suspend: false });
  const after = await waitRuns('pause', before + 1);
  await patchSchedule('pause', { suspend: true });
  // The catch-up run is for the latest time before the resume, not the first one missed.
  expect(timeOf(after[before]!)).toBeGreaterThan(resumedAt - 2_000);
  expect((await statusAfter('pause', timeOf(after[before]!))).missedRuns).toBeGreaterThanOrEqual(2);
});

test('the operator SIGKILLed across a scheduled time, and right after a create: exactly one run per time', async () => {
  const period = 6_000;
  await create('killed', { schedule: '*/6 * * * * *' }, 'kill');
  const args = ['--controllers', 'schedule', '--namespace', 'kill'];
  let op = startOperator(cp.kubeconfigPath, args);
  try {
    const [first] = await waitRuns('killed', 1, 'kill');
    const t1 = timeOf(first!);
    // Down from 1 s before the next time until 0.5 s after it.
    await waitFor(() => Date.now() >= t1 + period - 1_000, { description: 'just before T2', intervalMs: 20 });
    op.child.kill('SIGKILL');
    await op.exited;
    await waitFor(() => Date.now() >= t1 + period + 500, { description: 'just after T2', intervalMs: 20 });
    op = startOperator(cp.kubeconfigPath, args);
    const afterRestart = await waitRuns('killed', 2, 'kill');
    expect(timeOf(afterRestart[1]!)).toBe(t1 + period); // the time crossed while down: caught up once
    // Killed the moment the next run appears: between its create and the status write, or just after.
    await waitRuns('killed', 3, 'kill');
    op.child.kill('SIGKILL');
    await op.exited;
    op = startOperator(cp.kubeconfigPath, args);
    const all = await waitRuns('killed', 4, 'kill');
    const times = all.map(timeOf);
    expect(times.map((t) => t - t1)).toEqual([0, period, 2 * period, 3 * period]);
    expect(new Set(all.map((r) => r.metadata!.annotations![ANNOTATION_SCHEDULED_TIME])).size).toBe(4);
    const s = await statusAfter('killed', t1 + 3 * period, 'kill');
    expect(s.lastScheduleTime).toBe(new Date(t1 + 3 * period).toISOString().replace('.000Z', 'Z'));
    expect(s.missedRuns ?? 0).toBe(0);
  } finally {
    op.child.kill('SIGKILL');
    await op.exited;
  }
});

test('two operators with --leader-elect: the leader frozen past its Lease, the standby takes over; thawed, the old leader starts no run and exits', async () => {
  const ns = 'failover';
  const LEASE = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' };
  const holder = async () =>
    (
      await client
        .get<KubernetesObject & { spec?: { holderIdentity?: string } }>(LEASE, {
          namespace: ns,
          name: 'steward-manager',
        })
        .catch(() => undefined)
    )?.spec?.holderIdentity;
  await create('ha', { schedule: '*/2 * * * * *' }, ns);
  const args = [
    '--controllers',
    'schedule',
    '--namespace',
    ns,
    '--leader-elect',
    '--leader-election-namespace',
    ns,
  ];
  const a = startOperator(cp.kubeconfigPath, args);
  let b: ReturnType<typeof startOperator> | undefined;
  try {
    await waitRuns('ha', 2, ns);
    const leader = await holder();
    expect(leader).toBeTruthy();
    b = startOperator(cp.kubeconfigPath, args);
    await waitFor(() => b!.logs().includes('Attempting to acquire the leader lease'), {
      description: 'the standby campaigning',
    });
    a.child.kill('SIGSTOP');
    // The Lease (15 s) runs out; the standby takes it and keeps the schedule.
    await waitFor(async () => ((await holder()) !== leader ? true : undefined), {
      description: 'the standby holding the Lease',
      timeoutMs: 40_000,
      intervalMs: 100,
    });
    const taken = (await runs('ha', ns)).length;
    await waitRuns('ha', taken + 2, ns);
    const thawedAt = a.logs().length;
    a.child.kill('SIGCONT');
    // Its timers all fire at once: the renew deadline passed long ago, so it must stop leading
    // before any of its reconciles (whose cache is 15 s old) can act.
    expect(await a.exited).toBe(1);
    const after = a.logs().slice(thawedAt);
    expect(after).toContain('Leader election lost');
    expect(after).not.toContain('Started run');
    const all = await waitRuns('ha', (await runs('ha', ns)).length + 2, ns);
    const times = all.map(timeOf).sort((x, y) => x - y);
    expect(new Set(times).size).toBe(times.length);
    // While the Lease was unheld, the times between were missed; after the takeover none is.
    const last = times.at(-1)!;
    for (let t = last; t > last - 6_000; t -= 2_000) expect(times).toContain(t);
    const st = await statusAfter('ha', last, ns);
    expect(Date.parse(st.lastScheduleTime!)).toBeGreaterThanOrEqual(last);
  } finally {
    a.child.kill('SIGCONT');
    a.child.kill('SIGKILL');
    await a.exited;
    if (b !== undefined) {
      b.child.kill('SIGKILL');
      await b.exited;
    }
  }
}, 120_000);

const WORKFLOW_TEMPLATE = {
  metadata: { labels: { team: 'reports' } },
  spec: { tasks: [{ name: 'a', session: { template: { image: 'busybox:1.36' } } }] },
};
const workflowSchedule = (name: string, spec: Record<string, unknown>) =>
  create(name, { sessionTemplate: undefined, workflowTemplate: WORKFLOW_TEMPLATE, ...spec });

test('a bad workflowTemplate, or a template claiming steward.dev/ keys, is refused at admission, naming the field', async () => {
  const refused = async (name: string, spec: Record<string, unknown>) => {
    const err = (await create(name, { schedule: '@hourly', sessionTemplate: undefined, ...spec }).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error | undefined;
    expect(err).toBeDefined();
    return err!.message;
  };
  const session = { template: { image: 'busybox:1.36' } };
  expect(
    await refused('dangling', {
      workflowTemplate: { spec: { tasks: [{ name: 'a', dependsOn: ['b'], session }] } },
    }),
  ).toContain('every dependsOn entry must name a task of this Workflow');
  expect(await refused('no-tasks', { workflowTemplate: { spec: { tasks: [] } } })).toMatch(
    /spec\.workflowTemplate\.spec\.tasks: Invalid value: 0: .*should have at least 1 items/,
  );
  expect(
    await refused('bad-task', { workflowTemplate: { spec: { tasks: [{ name: 'A_B', session }] } } }),
  ).toContain('spec.workflowTemplate.spec.tasks[0].name');
  expect(await refused('no-session', { workflowTemplate: { spec: { tasks: [{ name: 'a' }] } } })).toContain(
    'spec.workflowTemplate.spec.tasks[0].session: Required value',
  );
  expect(
    await refused('reserved-env', {
      workflowTemplate: {
        spec: {
          tasks: [
            { name: 'a', session: { template: { image: 'x', env: [{ name: 'STEWARD_TASK', value: 'b' }] } } },
          ],
        },
      },
    }),
  ).toContain('spec.workflowTemplate.spec.tasks[0].session.template.env[0]');
  expect(
    await refused('reserved-annotation', {
      workflowTemplate: {
        ...WORKFLOW_TEMPLATE,
        metadata: { annotations: { 'steward.dev/trigger': 'manual' } },
      },
    }),
  ).toContain('annotation keys under steward.dev/ are reserved for Steward');
  expect(
    await refused('reserved-session-annotation', {
      sessionTemplate: { metadata: { annotations: { 'steward.dev/scheduled-time': 'x' } }, spec: session },
    }),
  ).toContain('annotation keys under steward.dev/ are reserved for Steward');
  // A cycle passes CEL (a graph search), and is refused by the operator before any run is made.
  await create('cycle', {
    schedule: '*/2 * * * * *',
    sessionTemplate: undefined,
    workflowTemplate: {
      spec: {
        tasks: [
          { name: 'a', dependsOn: ['b'], session },
          { name: 'b', dependsOn: ['a'], session },
        ],
      },
    },
  });
  const failed = await waitFor(
    async () =>
      (await get('cycle')).status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True'),
    { description: 'Failed=True on the cyclic template', intervalMs: 50 },
  );
  expect(failed).toMatchObject({ reason: 'InvalidTemplate', message: expect.stringContaining('a → b → a') });
  expect(await runs('cycle', NS, WORKFLOW_GVK)).toEqual([]);
});

test('Workflow runs: Forbid skips times while a Workflow is active; Replace cancels the active Workflow', async () => {
  await workflowSchedule('wf-forbid', { schedule: '*/2 * * * * *', concurrencyPolicy: 'Forbid' });
  await workflowSchedule('wf-replace', { schedule: '*/2 * * * * *', concurrencyPolicy: 'Replace' });
  const [first] = await waitRuns('wf-forbid', 1, NS, 60_000, WORKFLOW_GVK);
  expect(first!.metadata!.labels).toMatchObject({ team: 'reports', [LABEL_SCHEDULE]: 'wf-forbid' });
  const skipped = await waitFor(
    async () => {
      const st = (await get('wf-forbid')).status;
      return (st?.skippedRuns ?? 0) >= 2 ? st : undefined;
    },
    { description: 'two times skipped', timeoutMs: 30_000, intervalMs: 100 },
  );
  expect(await runs('wf-forbid', NS, WORKFLOW_GVK)).toHaveLength(1);
  expect(skipped.active).toEqual([
    expect.objectContaining({ kind: 'Workflow', name: first!.metadata!.name, uid: first!.metadata!.uid }),
  ]);
  await finish(first!, 'Succeeded', WORKFLOW_GVK);
  const [, second] = await waitRuns('wf-forbid', 2, NS, 60_000, WORKFLOW_GVK);
  await patchSchedule('wf-forbid', { suspend: true });
  expect(timeOf(second!)).toBeGreaterThan(Date.parse(skipped.lastMissedTime!));

  await waitRuns('wf-replace', 2, NS, 60_000, WORKFLOW_GVK);
  await patchSchedule('wf-replace', { suspend: true });
  // Each run was cancelled by the next one (a third may have started before the suspend).
  const replaced = await runs('wf-replace', NS, WORKFLOW_GVK);
  expect(replaced.map((r) => Boolean(r.spec?.cancel))).toEqual(
    replaced.map((_, i) => i < replaced.length - 1),
  );
  expect(timeOf(replaced[1]!) - timeOf(replaced[0]!)).toBe(2000);
  expect(await runs('wf-replace')).toEqual([]); // no Sessions: the Workflow controller would make them
});

test('a quota refusing the run: Ready=False RunForbidden, retried with backoff; lifted: the time runs once', async () => {
  // count/sessions.steward.dev: 0. The API server's quota admission enforces what the quota's
  // status says; no quota controller runs here, so the test writes the status it would.
  const hard = { 'count/sessions.steward.dev': '0' };
  const quota = await client.create({
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { namespace: QUOTA_NS, name: 'no-sessions' },
    spec: { hard },
  });
  await client.patchStatus(
    { group: '', version: 'v1', kind: 'ResourceQuota' },
    { namespace: QUOTA_NS, name: 'no-sessions' },
    { type: 'merge', body: { status: { hard, used: hard } } },
  );
  const s = await create('quota', { schedule: '*/3 * * * * *' }, QUOTA_NS);
  const ready = await waitFor(
    async () => {
      const c = (await get('quota', QUOTA_NS)).status?.conditions?.find((x) => x.type === 'Ready');
      if (c?.reason.startsWith('Run')) return c;
      const made = await runs('quota', QUOTA_NS);
      if (made.length > 0) throw new Error(`the quota did not refuse ${made[0]!.metadata!.name}`);
      return undefined;
    },
    { description: 'Ready=False, a Run… reason', timeoutMs: 30_000, intervalMs: 50 },
  );
  expect(ready.reason).toBe('RunForbidden');
  expect(ready.message).toMatch(
    /^Cannot create Session quota-\d+ for \S+: .*quota.*; retrying with backoff$/,
  );
  const refusedFor = Number(ready.message.match(/quota-(\d+)/)![1]) * 1000;
  let st = (await get('quota', QUOTA_NS)).status!;
  expect(st.conditions?.find((c) => c.type === 'Failed')).toMatchObject({ status: 'False' });
  expect(st.lastScheduleTime).toBeUndefined();
  expect(await runs('quota', QUOTA_NS)).toEqual([]);
  await client.delete(
    { group: '', version: 'v1', kind: 'ResourceQuota' },
    { namespace: QUOTA_NS, name: quota.metadata!.name! },
  );
  const [run] = await waitRuns('quota', 1, QUOTA_NS);
  await patchSchedule('quota', { suspend: true }, QUOTA_NS);
  // The refused time itself, or (when the backoff outlasted the next time) a later one, with
  // the refused time counted missed: never lost, never twice.
  st = await statusAfter('quota', timeOf(run!), QUOTA_NS);
  const all = await runs('quota', QUOTA_NS);
  expect(new Set(all.map(timeOf)).size).toBe(all.length);
  expect(timeOf(run!)).toBeGreaterThanOrEqual(refusedFor);
  expect(timeOf(run!)).toBeGreaterThan(Date.parse(s.metadata!.creationTimestamp!));
  const handled = all.length + (st.missedRuns ?? 0);
  const expected =
    Math.floor(timeOf(all.at(-1)!) / 3000) - Math.floor(Date.parse(s.metadata!.creationTimestamp!) / 3000);
  expect(handled).toBe(expected);
  expect(st.conditions?.find((c) => c.type === 'Ready')?.reason).not.toBe('RunForbidden');
});

test('a Schedule named with 253 characters: runs named within 63, found by their label, events recorded', async () => {
  const long = `${'nightly-report.'.repeat(16)}${'x'.repeat(13)}`;
  expect(long).toHaveLength(253);
  await create(long, { schedule: '*/2 * * * * *' });
  const label = scheduleLabelValue(long);
  const made = await waitFor(
    async () => {
      const items = (
        await client.list<Run>(SESSION_GVK, { namespace: NS, labelSelector: { [LABEL_SCHEDULE]: label } })
      ).items;
      return items.length > 0 ? items : undefined;
    },
    { description: 'a run of the long-named Schedule', intervalMs: 50 },
  );
  await patchSchedule(long, { suspend: true });
  const run = made[0]!;
  expect(run.metadata!.name!.length).toBeLessThanOrEqual(63);
  expect(run.metadata!.name).toBe(runName(long, timeOf(run)));
  expect(run.metadata!.annotations!['steward.dev/schedule']).toBe(long);
  const st = await statusAfter(long, timeOf(run));
  expect(st.active?.map((r) => r.name)).toContain(run.metadata!.name);
  // The Started event (named <object>.<suffix>, past 253 characters: the API server takes
  // Event names of any length, as client-go's recorder relies on).
  await waitForEvents(client, NS, long, ['Started'], { timeoutMs: 15_000 });
});

test('the operator down across many times: one catch-up run; every other time counted missed once, with an event', async () => {
  const s = await create('down', { schedule: '* * * * * *' }, 'down');
  const created = Date.parse(s.metadata!.creationTimestamp!);
  const args = ['--controllers', 'schedule', '--namespace', 'down'];
  let op = startOperator(cp.kubeconfigPath, args);
  try {
    await waitRuns('down', 1, 'down');
    op.child.kill('SIGKILL');
    await op.exited;
    const killedAt = Date.now();
    await waitFor(() => Date.now() >= killedAt + 6_000, { description: 'six times passed', intervalMs: 100 });
    const restartedAt = Date.now();
    op = startOperator(cp.kubeconfigPath, args);
    const st = await waitFor(
      async () => {
        const got = (await get('down', 'down')).status;
        return got?.lastScheduleTime && Date.parse(got.lastScheduleTime) >= restartedAt - 1_000
          ? got
          : undefined;
      },
      { description: 'the catch-up run recorded', timeoutMs: 30_000, intervalMs: 50 },
    );
    await patchSchedule('down', { suspend: true }, 'down');
    const all = await runs('down', 'down');
    const times = all.map(timeOf).filter((t) => t <= Date.parse(st.lastScheduleTime!));
    // At most one run for a time inside the downtime: the catch-up, for the latest due time.
    const during = times.filter((t) => t > killedAt && t < restartedAt - 1_000);
    expect(during).toEqual([]);
    // Every second after the creation has exactly one fate: a run or a missed count.
    const seconds = Math.floor(Date.parse(st.lastScheduleTime!) / 1000) - Math.floor(created / 1000);
    expect(new Set(times).size).toBe(times.length);
    expect(times.length + (st.missedRuns ?? 0)).toBe(seconds);
    expect(st.missedRuns).toBeGreaterThanOrEqual(4);
    // The MissedSchedule events count the same times as the status (one event per reconcile that
    // found missed times: the catch-up after the restart, and any before the kill). Written in
    // the background after the status: waited for until they add up, or the wait says so.
    const missedOf = (events: CoreEvent[]) => events.filter((e) => e.reason === 'MissedSchedule');
    const counted = (events: CoreEvent[]) =>
      missedOf(events)
        .map((e) => Number(e.message!.match(/^Missed (\d+) scheduled time/)![1]) * (e.count ?? 1))
        .reduce((a, b) => a + b, 0);
    const events = await waitForEvents(client, 'down', 'down', (es) => counted(es) >= st.missedRuns!);
    expect(counted(events)).toBe(st.missedRuns);
    expect(missedOf(events).some((e) => e.message!.endsWith('; only the latest due time is handled'))).toBe(
      true,
    );
  } finally {
    op.child.kill('SIGKILL');
    await op.exited;
  }
});

test('run names taken by Sessions the Schedule does not own: RunNameConflict, never adopted; freed, the Schedule runs again', async () => {
  // Squatters on every name the Schedule will want in the next 20 s.
  const from = Math.ceil(Date.now() / 2000) * 2000;
  const taken: string[] = [];
  for (let t = from; t < from + 20_000; t += 2000) {
    const name = runName('squatted', t);
    taken.push(name);
    await client.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: { namespace: NS, name, labels: { [LABEL_SCHEDULE]: 'squatted' } },
      spec: { template: { image: 'someone-else:1' } },
    });
  }
  await create('squatted', { schedule: '*/2 * * * * *' });
  const ready = await waitFor(
    async () => {
      const c = (await get('squatted')).status?.conditions?.find((x) => x.type === 'Ready');
      return c?.reason === 'RunNameConflict' ? c : undefined;
    },
    { description: 'Ready=False RunNameConflict', timeoutMs: 30_000, intervalMs: 50 },
  );
  expect(ready.message).toMatch(
    /^Cannot create Session squatted-\d+ for \S+: Session squatted-\d+ exists and is not owned by this Schedule/,
  );
  for (const name of taken) {
    const squatter = await client.get(SESSION_GVK, { namespace: NS, name });
    expect([name, squatter.metadata!.ownerReferences ?? []]).toEqual([name, []]);
  }
  expect((await get('squatted')).status?.active ?? []).toEqual([]);
  for (const name of taken) await client.delete(SESSION_GVK, { namespace: NS, name });
  const st = await waitFor(
    async () => {
      const got = (await get('squatted')).status;
      return (got?.activeCount ?? 0) > 0 ? got : undefined;
    },
    { description: 'a run of squatted started once the names are free', timeoutMs: 60_000, intervalMs: 50 },
  );
  await patchSchedule('squatted', { suspend: true });
  const owned = (await runs('squatted')).filter((r) => r.metadata!.ownerReferences?.[0]?.kind === 'Schedule');
  expect(owned.map((r) => r.metadata!.name)).toEqual(expect.arrayContaining(st.active!.map((r) => r.name)));
});

/** Runs the compiled stewardctl to completion. */
async function ctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'dist/cmd/stewardctl.js'), ...args],
      {
        env: { ...process.env, KUBECONFIG: cp.kubeconfigPath },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('stewardctl: get, describe (next 5 times, in words), trigger, suspend and resume a Schedule', async () => {
  await create('cli', { schedule: '30 2 * * *', timeZone: 'America/New_York' });
  const ready = async (reason: string) =>
    waitFor(
      async () => (await get('cli')).status?.conditions?.find((c) => c.type === 'Ready')?.reason === reason,
      { description: `Ready reason ${reason}`, intervalMs: 50 },
    );
  await ready('Scheduled');
  const table = await ctl('get', 'sched/cli', '-n', NS);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(
    /^cli\s+30 2 \* \* \*\s+false\s+0\s+<none>\s+\d{4}-\d\d-\d\dT\d\d:30:00Z\s+\S+$/m,
  );
  const described = await ctl('describe', 'sched/cli', '-n', NS);
  expect(described.stdout).toMatch(/^Description:\s+At 02:30 \(America\/New_York\)$/m);
  const next = described.stdout
    .slice(described.stdout.indexOf('Next 5 times (America/New_York):'))
    .split('\n')
    .slice(1, 6);
  expect(next).toHaveLength(5);
  for (const l of next) expect(l).toMatch(/^ {2}\d{4}-\d\d-\d\dT0[23]:[03]0:00-0[45]:00 {3}\S+Z$/);

  const triggered = await ctl('trigger', 'sched/cli', '-n', NS);
  expect(triggered).toMatchObject({ code: 0, stderr: '' });
  const run = triggered.stdout.match(/^session\/(cli-manual-[0-9a-z]{5}) created$/m)![1]!;
  // The operator sees the manual run as the Schedule's active run.
  await waitFor(async () => (await get('cli')).status?.active?.some((r) => r.name === run), {
    description: 'the manual run active in the status',
    intervalMs: 50,
  });
  expect((await runs('cli')).map((r) => r.metadata!.annotations!['steward.dev/trigger'])).toEqual(['manual']);

  expect((await ctl('suspend', 'sched/cli', '-n', NS)).stdout).toBe('schedule/cli suspended\n');
  await ready('Suspended');
  expect((await ctl('resume', 'sched/cli', '-n', NS)).stdout).toBe('schedule/cli resumed\n');
  await ready('Scheduled');
});

test('stewardctl with Workflow runs: trigger makes a Workflow; describe names its kind and active runs', async () => {
  await workflowSchedule('wf-cli', { schedule: '0 0 1 1 *' });
  await waitFor(
    async () =>
      (await get('wf-cli')).status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'Scheduled',
    { description: 'wf-cli scheduled', intervalMs: 50 },
  );
  const triggered = await ctl('trigger', 'sched/wf-cli', '-n', NS);
  expect(triggered).toMatchObject({ code: 0, stderr: '' });
  const run = triggered.stdout.match(/^workflow\/(wf-cli-manual-[0-9a-z]{5}) created$/m)![1]!;
  const [wf] = await runs('wf-cli', NS, WORKFLOW_GVK);
  expect(wf!.metadata).toMatchObject({
    name: run,
    labels: { team: 'reports' },
    annotations: { 'steward.dev/trigger': 'manual' },
    ownerReferences: [expect.objectContaining({ kind: 'Schedule', name: 'wf-cli', controller: true })],
  });
  expect(JSON.stringify(wf!.spec)).toContain('STEWARD_SCHEDULED_TIME');
  await waitFor(async () => (await get('wf-cli')).status?.active?.some((r) => r.name === run), {
    description: 'the manual Workflow active in the status',
    intervalMs: 50,
  });
  const described = await ctl('describe', 'sched/wf-cli', '-n', NS);
  expect(described.code).toBe(0);
  expect(described.stdout).toMatch(/^Runs:\s+Workflow$/m);
  expect(described.stdout).toMatch(new RegExp(`^Active:\\s+workflow/${run}$`, 'm'));
  expect(described.stdout).toMatch(
    /^Description:\s+At 00:00, on day 1 of the month, only in January \(UTC\)$/m,
  );
  const wide = await ctl('get', 'sched/wf-cli', '-n', NS, '-o', 'wide');
  expect(wide.stdout).toMatch(/^wf-cli\s+0 0 1 1 \*\s+false\s+1\s.*\sWorkflow$/m);
});

test('without the Schedule CRD: --controllers schedule exits 1 saying so; by default the manager runs without it', async () => {
  await stopManager();
  await client.delete(
    { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' },
    { name: 'schedules.steward.dev' },
  );
  await waitFor(
    async () => {
      try {
        await client.list(SCHEDULE_GVK, { namespace: NS });
        return false;
      } catch {
        return true;
      }
    },
    { description: 'the Schedule CRD gone', intervalMs: 100 },
  );
  const explicit = startOperator(cp.kubeconfigPath, ['--controllers', 'schedule']);
  expect(await explicit.exited).toBe(1);
  expect(explicit.logs()).toContain('the Schedule CRD (steward.dev/v1alpha1) is not installed');
  const byDefault = startOperator(cp.kubeconfigPath, ['--namespace', NS]);
  await waitFor(() => byDefault.logs().includes('Starting workers'), {
    description: `the session controller running (logs: ${byDefault.logs()})`,
    timeoutMs: 30_000,
    intervalMs: 50,
  });
  expect(byDefault.logs()).toContain('Not starting the schedule controller');
  expect(await byDefault.stop()).toBe(0);
});
