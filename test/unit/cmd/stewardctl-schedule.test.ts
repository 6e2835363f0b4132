// stewardctl and Schedules, in-process against a FakeClient: get/list/describe sched/NAME (the
// next times in the zone, the expression in words), trigger, suspend and resume.
import { SESSION_GVK } from '../../../controllers/session/index.js';
import { type Schedule, SCHEDULE_GVK } from '../../../controllers/schedule/index.js';
import { FakeClient } from '../../../lib/testing/index.js';
import type { KubernetesObject } from '../../../lib/index.js';
import type { Ctx } from '../../../cmd/stewardctl/context.js';
import { defaultKinds } from '../../../cmd/stewardctl/kinds/index.js';
import { inZone, scheduleKind } from '../../../cmd/stewardctl/kinds/schedule.js';
import { main } from '../../../cmd/stewardctl/main.js';

const NS = 'ns';
const KINDS = [
  { gvk: SCHEDULE_GVK, resource: 'schedules', namespaced: true },
  { gvk: SESSION_GVK, resource: 'sessions', namespaced: true },
];

async function fixture(spec: Partial<Schedule['spec']> = {}, status: Schedule['status'] = {}) {
  const client = new FakeClient({ kinds: KINDS });
  await client.create<Schedule>({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Schedule',
    metadata: { namespace: NS, name: 'nightly' },
    spec: {
      schedule: '30 2 * * *',
      timeZone: 'Europe/Berlin',
      sessionTemplate: { metadata: { labels: { team: 'a' } }, spec: { template: { image: 'busybox:1.36' } } },
      ...spec,
    },
  });
  await client.patchStatus(
    SCHEDULE_GVK,
    { namespace: NS, name: 'nightly' },
    { type: 'merge', body: { status } },
  );
  return client;
}

async function run(client: FakeClient, now: string, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const ctx = (opts: { namespace?: string }): Ctx => ({
    client,
    namespace: opts.namespace ?? NS,
    out: (s) => (stdout += s),
    note: (s) => (stderr += s),
    openLog: () => Promise.reject(new Error('no logs here')),
    signal: new AbortController().signal,
    now: () => Date.parse(now),
  });
  const code = await main(argv, { context: ctx, stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

const NOW = '2026-01-01T12:00:00Z';

test('sched/, schedule/, schedules/ name the kind', () => {
  for (const arg of ['sched/x', 'schedule/x', 'schedules/x', 'Schedule/x'])
    expect(defaultKinds().resolve(arg)).toEqual({ kind: scheduleKind, name: 'x' });
});

test('get and list: SCHEDULE SUSPEND ACTIVE LAST NEXT AGE; -o wide adds TIMEZONE MISSED RUNS', async () => {
  const client = await fixture(
    {},
    {
      activeCount: 1,
      active: [{ apiVersion: 'steward.dev/v1alpha1', kind: 'Session', name: 'nightly-1', uid: 'u' }],
      lastScheduleTime: '2026-01-01T01:30:00Z',
      nextScheduleTime: '2026-01-02T01:30:00Z',
      missedRuns: 4,
    },
  );
  const table = await run(client, NOW, 'get', 'sched/nightly');
  expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+SCHEDULE\s+SUSPEND\s+ACTIVE\s+LAST\s+NEXT\s+AGE$/);
  expect(table.stdout.split('\n')[1]).toMatch(
    /^nightly\s+30 2 \* \* \*\s+false\s+1\s+10h\s+2026-01-02T01:30:00Z\s+\S+$/,
  );
  const wide = await run(client, NOW, 'get', 'sched/nightly', '-o', 'wide');
  expect(wide.stdout.split('\n')[1]).toMatch(/Europe\/Berlin\s+4\s+Session$/);
  expect((await run(client, NOW, 'list', 'sched', '-o', 'name')).stdout).toBe('schedule/nightly\n');
  expect((await run(client, NOW, 'list', 'schedules')).stdout).toMatch(/^nightly\s+30 2/m);
});

test('describe: the expression in words and the next 5 times in the zone, as croner computes them', async () => {
  const out = (await run(await fixture(), NOW, 'describe', 'sched/nightly')).stdout;
  expect(out).toMatch(/^Schedule:\s+30 2 \* \* \*$/m);
  expect(out).toMatch(/^Time zone:\s+Europe\/Berlin$/m);
  expect(out).toMatch(/^Concurrency:\s+Allow$/m);
  expect(out).toMatch(/^Description:\s+At 02:30 \(Europe\/Berlin\)$/m);
  const next = out.slice(out.indexOf('Next 5 times (Europe/Berlin):')).split('\n').slice(1, 6);
  expect(next.map((l) => l.trim().split(/\s+/))).toEqual(
    [2, 3, 4, 5, 6].map((d) => [`2026-01-0${d}T02:30:00+01:00`, `2026-01-0${d}T01:30:00Z`]),
  );
});

test('describe: the run kind, and active runs as kind/name (for stewardctl describe)', async () => {
  const client = await fixture(
    {
      sessionTemplate: undefined,
      workflowTemplate: { spec: { tasks: [{ name: 'a', session: { template: { image: 'x' } } }] } },
    } as never,
    {
      activeCount: 2,
      active: [
        { apiVersion: 'steward.dev/v1alpha1', kind: 'Workflow', name: 'nightly-1', uid: 'u1' },
        { apiVersion: 'steward.dev/v1alpha1', kind: 'Workflow', name: 'nightly-manual-abcde', uid: 'u2' },
      ],
    },
  );
  const out = (await run(client, NOW, 'describe', 'sched/nightly')).stdout;
  expect(out).toMatch(/^Runs:\s+Workflow$/m);
  expect(out).toMatch(/^Active:\s+workflow\/nightly-1, workflow\/nightly-manual-abcde$/m);
});

test('describe across the spring-forward night: 02:30 does not exist, the run is at 03:00 CEST', async () => {
  const out = (await run(await fixture(), '2026-03-27T12:00:00Z', 'describe', 'sched/nightly')).stdout;
  const next = out.slice(out.indexOf('Next 5 times')).split('\n').slice(1, 4);
  expect(next.map((l) => l.trim().split(/\s+/)[0])).toEqual([
    '2026-03-28T02:30:00+01:00',
    '2026-03-29T03:00:00+02:00',
    '2026-03-30T02:30:00+02:00',
  ]);
});

test('describe: suspended, a seconds schedule, and an expression croner refuses', async () => {
  const suspended = await run(
    await fixture({ suspend: true, schedule: '*/5 * * * * *', timeZone: undefined }),
    NOW,
    'describe',
    'sched/nightly',
  );
  expect(suspended.stdout).toMatch(/^Description:\s+Every 5 seconds \(UTC\)$/m);
  expect(suspended.stdout).toMatch(
    /^Next 5 times \(UTC\) \(suspended: none runs until resumed\):\n {2}2026-01-01T12:00:05\+00:00/m,
  );
  const bad = await run(await fixture({ schedule: '61 * * * *' }), NOW, 'describe', 'sched/nightly');
  expect(bad.code).toBe(0);
  expect(bad.stdout).toMatch(
    /^Next times:\s+<none: schedule "61 \* \* \* \*": Invalid value for minute: 61>$/m,
  );
});

test('trigger: a manual run now, from the template, owned by the Schedule; --name; not for Sessions', async () => {
  const client = await fixture();
  const r = await run(client, NOW, 'trigger', 'sched/nightly');
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout).toMatch(/^session\/nightly-manual-[0-9a-z]{5} created\n$/);
  const name = r.stdout.split(' ')[0]!.split('/')[1]!;
  const s = await client.get<Schedule>(SCHEDULE_GVK, { namespace: NS, name: 'nightly' });
  const made = await client.get<KubernetesObject & { spec: { template: { env: unknown[] } } }>(SESSION_GVK, {
    namespace: NS,
    name,
  });
  expect(made.metadata).toMatchObject({
    labels: { team: 'a', 'steward.dev/schedule': 'nightly' },
    annotations: { 'steward.dev/trigger': 'manual', 'steward.dev/scheduled-time': NOW },
    ownerReferences: [{ kind: 'Schedule', name: 'nightly', uid: s.metadata!.uid, controller: true }],
  });
  expect(made.spec.template.env).toEqual([{ name: 'STEWARD_SCHEDULED_TIME', value: NOW }]);

  expect((await run(client, NOW, 'trigger', 'sched/nightly', '--name', 'by-hand')).stdout).toBe(
    'session/by-hand created\n',
  );
  expect(await run(client, NOW, 'trigger', 'sched/nightly', '--name', 'by-hand')).toMatchObject({
    code: 1,
    stderr: 'stewardctl: session ns/by-hand already exists\n',
  });
  expect(await run(client, NOW, 'trigger', 'sched/nightly', '--name', 'Bad_Name')).toMatchObject({ code: 2 });
  expect(await run(client, NOW, 'trigger', 'sched/nope')).toMatchObject({
    code: 1,
    stderr: 'stewardctl: schedule ns/nope not found\n',
  });
  expect(await run(client, NOW, 'trigger', 'by-hand')).toMatchObject({
    code: 2,
    stderr: 'stewardctl: a session cannot be triggered\n',
  });
});

test('suspend and resume: spec.suspend, several at once; not for Sessions', async () => {
  const client = await fixture();
  const suspend = await run(client, NOW, 'suspend', 'sched/nightly');
  expect(suspend).toMatchObject({ code: 0, stdout: 'schedule/nightly suspended\n' });
  expect((await client.get<Schedule>(SCHEDULE_GVK, { namespace: NS, name: 'nightly' })).spec?.suspend).toBe(
    true,
  );
  expect((await run(client, NOW, 'resume', 'sched', 'nightly')).stdout).toBe('schedule/nightly resumed\n');
  expect((await client.get<Schedule>(SCHEDULE_GVK, { namespace: NS, name: 'nightly' })).spec?.suspend).toBe(
    false,
  );
  const missing = await run(client, NOW, 'suspend', 'sched/nightly', 'sched/nope');
  expect(missing.code).toBe(1);
  expect(missing.stdout).toBe('schedule/nightly suspended\n');
  expect(missing.stderr).toContain('schedule ns/nope not found');
  expect(await run(client, NOW, 'suspend', 'somesession')).toMatchObject({
    code: 2,
    stderr: 'stewardctl: a session cannot be suspended\n',
  });
});

test('the completion script knows the new commands and the kind', async () => {
  const { completionScript } = await import('../../../cmd/stewardctl/commands/completion.js');
  const { program } = await import('../../../cmd/stewardctl/main.js');
  const script = completionScript(program(), defaultKinds(), 'bash');
  for (const w of ['trigger', 'suspend', 'resume', 'sched', 'schedules']) expect(script).toContain(w);
});

test('inZone: the wall clock and offset of a zone, either side of a DST change', () => {
  expect(inZone(Date.parse('2026-07-01T00:00:00Z'), 'America/New_York')).toBe('2026-06-30T20:00:00-04:00');
  expect(inZone(Date.parse('2026-01-01T00:00:00Z'), 'America/New_York')).toBe('2025-12-31T19:00:00-05:00');
  expect(inZone(Date.parse('2026-01-01T00:00:00Z'), 'UTC')).toBe('2026-01-01T00:00:00+00:00');
  expect(inZone(Date.parse('2026-01-01T00:00:00Z'), 'Asia/Kolkata')).toBe('2026-01-01T05:30:00+05:30');
});
