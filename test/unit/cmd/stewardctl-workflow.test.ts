// stewardctl on Workflows, in-process against a FakeClient: wf/NAME in every command, the DAG
// drawing of describe, submit -f of a Workflow with --wait's exit codes, logs --task.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SESSION_GVK } from '../../../controllers/session/index.js';
import { type Workflow, WORKFLOW_GVK, type WorkflowStatus } from '../../../controllers/workflow/index.js';
import { FakeClient } from '../../../lib/testing/index.js';
import type { Ctx } from '../../../cmd/stewardctl/context.js';
import { dagTable, humanDuration } from '../../../cmd/stewardctl/kinds/workflow-dag.js';
import { main } from '../../../cmd/stewardctl/main.js';

const NS = 'ns';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (s: number) => new Date(NOW - 60_000 + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const RUN = { template: { image: 'busybox' } };
const DIAMOND = [
  { name: 'a', session: RUN },
  { name: 'b', dependsOn: ['a'], session: RUN },
  { name: 'c', dependsOn: ['a'], session: RUN },
  { name: 'd', dependsOn: ['b', 'c'], session: RUN },
];

function newClient() {
  return new FakeClient({
    kinds: [
      { gvk: SESSION_GVK, resource: 'sessions', namespaced: true },
      { gvk: WORKFLOW_GVK, resource: 'workflows', namespaced: true },
    ],
  });
}

async function workflow(client: FakeClient, name: string, status?: WorkflowStatus): Promise<void> {
  await client.create<Workflow>({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Workflow',
    metadata: { namespace: NS, name },
    spec: { tasks: DIAMOND },
  });
  if (status)
    await client.patchStatus(WORKFLOW_GVK, { namespace: NS, name }, { type: 'merge', body: { status } });
}

const FAILED: WorkflowStatus = {
  phase: 'Failed',
  reason: 'TaskFailed',
  message: 'Task c failed (ExitCode): Attempt 2 failed: exit code 3; 1 skipped',
  progress: '4/4',
  startTime: at(0),
  completionTime: at(30),
  tasks: {
    a: {
      phase: 'Succeeded',
      session: 'diamond-a',
      attempt: 1,
      reason: 'Completed',
      startTime: at(0),
      completionTime: at(12),
    },
    b: {
      phase: 'Succeeded',
      session: 'diamond-b',
      attempt: 1,
      reason: 'Completed',
      startTime: at(12),
      completionTime: at(20),
    },
    c: {
      phase: 'Failed',
      session: 'diamond-c',
      attempt: 2,
      exitCode: 3,
      reason: 'ExitCode',
      message: 'Attempt 2 failed: exit code 3',
      startTime: at(12),
      completionTime: at(30),
    },
    d: {
      phase: 'Skipped',
      reason: 'UpstreamFailed',
      message: 'Not started: upstream task c failed',
      completionTime: at(30),
    },
  },
};

async function run(client: FakeClient, argv: string[], logs: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const opened: string[] = [];
  const ctx = (opts: { namespace?: string }): Ctx => ({
    client,
    namespace: opts.namespace ?? NS,
    out: (s) => (stdout += s),
    note: (s) => (stderr += s),
    openLog: async (_ns, pod) => {
      opened.push(pod);
      return Readable.from([Buffer.from(logs[pod] ?? '')]);
    },
    signal: new AbortController().signal,
    now: () => NOW,
  });
  const code = await main(argv, { context: ctx, stderr: (s) => (stderr += s) });
  return { code, stdout, stderr, opened };
}

describe('wf/NAME in get, list, describe, cancel, delete', () => {
  test('get and list: PHASE, PROGRESS, AGE (and REASON, MESSAGE wide)', async () => {
    const client = newClient();
    await workflow(client, 'diamond', FAILED);
    await workflow(client, 'fresh');
    for (const arg of ['wf/diamond', 'workflow/diamond', 'workflows/diamond', 'Workflow/diamond']) {
      const r = await run(client, ['get', arg]);
      expect([arg, r.code]).toEqual([arg, 0]);
      expect(r.stdout.split('\n')[0]!.split(/\s+/)).toEqual(['NAME', 'PHASE', 'PROGRESS', 'AGE']);
      expect(r.stdout.split('\n')[1]!.split(/\s+/)).toEqual(['diamond', 'Failed', '4/4', expect.any(String)]);
    }
    const list = await run(client, ['list', 'wf']);
    expect(list.stdout).toMatch(/^NAME\s+PHASE\s+PROGRESS\s+AGE\n/);
    expect(list.stdout).toMatch(/\nfresh\s+0\/4\s/);
    const wide = await run(client, ['get', 'wf/diamond', '-o', 'wide']);
    expect(wide.stdout).toContain('TaskFailed');
    expect((await run(client, ['list', 'workflows', '-o', 'name'])).stdout).toBe(
      'workflow/diamond\nworkflow/fresh\n',
    );
  });

  test('describe draws the DAG by level, with phases, durations, dependencies and reasons', async () => {
    const client = newClient();
    await workflow(client, 'diamond', FAILED);
    const r = await run(client, ['describe', 'wf/diamond']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Kind:          Workflow (steward.dev/v1alpha1)');
    expect(r.stdout).toContain('Progress:      4/4');
    expect(r.stdout).toContain('On failure:    Stop');
    const dag = r.stdout.slice(r.stdout.indexOf('DAG'), r.stdout.indexOf('Events:')).trimEnd().split('\n');
    expect(dag[0]).toBe('DAG (4 tasks in 3 levels):');
    expect(dag[1]!.trim().split(/\s{2,}/)).toEqual(['LEVEL', 'TASK', 'PHASE', 'DURATION', 'AFTER', 'REASON']);
    const rows = dag.slice(2).map((l) => l.trim().split(/\s{2,}/));
    expect(rows).toEqual([
      ['0', '─ ✓ a', 'Succeeded', '12s', 'Completed'],
      ['1', '┌ ✓ b', 'Succeeded', '8s', 'a', 'Completed'],
      ['└ ✗ c', 'Failed (attempt 2)', '18s', 'a', 'ExitCode: Attempt 2 failed: exit code 3'],
      ['2', '─ ⊘ d', 'Skipped', 'b, c', 'UpstreamFailed: Not started: upstream task c failed'],
    ]);
    // The order: fields, conditions, the DAG, events.
    expect(r.stdout.indexOf('Conditions:')).toBeLessThan(r.stdout.indexOf('DAG'));
    expect(r.stdout.indexOf('DAG')).toBeLessThan(r.stdout.indexOf('Events:'));
  });

  test('a Workflow whose graph has a cycle is listed as given, with the problem', () => {
    const wf: Workflow = {
      metadata: { name: 'loop' },
      spec: {
        tasks: [
          { name: 'a', dependsOn: ['b'], session: RUN },
          { name: 'b', dependsOn: ['a'], session: RUN },
        ],
      },
    };
    const { title, rows } = dagTable(wf, NOW);
    expect(title).toBe('Tasks (dependency cycle: a → b → a)');
    expect(rows.slice(1).map((r) => [r[1], r[2]])).toEqual([
      ['┌ · a', 'Pending'],
      ['└ · b', 'Pending'],
    ]);
  });

  test('durations read as people read them', () => {
    expect([850, 42_000, 185_000, 7_800_000].map(humanDuration)).toEqual(['850ms', '42s', '3m05s', '2h10m']);
  });

  test('cancel patches spec.cancel; delete deletes', async () => {
    const client = newClient();
    await workflow(client, 'diamond');
    const c = await run(client, ['cancel', 'wf/diamond']);
    expect([c.code, c.stdout]).toEqual([0, 'workflow/diamond cancel requested\n']);
    expect((await client.get<Workflow>(WORKFLOW_GVK, { namespace: NS, name: 'diamond' })).spec?.cancel).toBe(
      true,
    );
    const d = await run(client, ['delete', 'wf/diamond']);
    expect([d.code, d.stdout]).toEqual([0, 'workflow/diamond deleted\n']);
    expect((await client.list(WORKFLOW_GVK, { namespace: NS })).items).toEqual([]);
    const missing = await run(client, ['get', 'wf/nope']);
    expect([missing.code, missing.stderr]).toEqual([1, 'stewardctl: workflow ns/nope not found\n']);
  });
});

describe('submit -f with a Workflow', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stewardctl-wf-'));
  const file = join(dir, 'wf.yaml');
  writeFileSync(
    file,
    `apiVersion: steward.dev/v1alpha1
kind: Workflow
metadata: { name: diamond }
spec:
  tasks:
    - { name: a, session: { template: { image: busybox } } }
    - { name: b, dependsOn: [a], session: { template: { image: busybox } } }
`,
  );

  test('creates it', async () => {
    const client = newClient();
    const r = await run(client, ['submit', '-f', file]);
    expect([r.code, r.stdout]).toEqual([0, 'workflow/diamond created\n']);
    const wf = await client.get<Workflow>(WORKFLOW_GVK, { namespace: NS, name: 'diamond' });
    expect(wf.spec?.tasks.map((t) => t.name)).toEqual(['a', 'b']);
  });

  test.each([
    ['Succeeded', 0],
    ['Failed', 1],
    ['Cancelled', 1],
  ] as const)('--wait streams progress and exits by the outcome: %s → %i', async (phase, code) => {
    const client = newClient();
    // Play the operator: once the Workflow exists, move it to Running, then to the end.
    const stop = client.prependReactor((a) => {
      if (a.verb !== 'create' || a.gvk.kind !== 'Workflow') return;
      setTimeout(() => {
        void (async () => {
          const key = { namespace: NS, name: 'diamond' };
          await client.patchStatus(WORKFLOW_GVK, key, {
            type: 'merge',
            body: { status: { phase: 'Running', progress: '0/2', reason: 'TasksRunning' } },
          });
          await client.patchStatus(WORKFLOW_GVK, key, {
            type: 'merge',
            body: {
              status: { phase, progress: '2/2', reason: phase === 'Succeeded' ? 'AllTasksSucceeded' : phase },
            },
          });
        })();
      }, 10);
    });
    const r = await run(client, ['submit', '-f', file, '--wait']);
    stop();
    expect(r.code).toBe(code);
    expect(r.stdout).toContain('workflow/diamond created');
    expect(r.stdout).toMatch(/diamond {2}Running {2}0\/2 {2}TasksRunning/);
    expect(r.stdout).toMatch(new RegExp(`diamond {2}${phase} {2}2/2`));
    if (code === 1) expect(r.stderr).toBe(`stewardctl: workflow diamond ended ${phase}\n`);
  });
});

describe('logs wf/NAME --task T', () => {
  async function withSession(client: FakeClient) {
    await workflow(client, 'diamond', FAILED);
    await client.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: { namespace: NS, name: 'diamond-c' },
      spec: RUN,
    });
    await client.patchStatus(
      SESSION_GVK,
      { namespace: NS, name: 'diamond-c' },
      { type: 'merge', body: { status: { phase: 'Failed', attempt: 2, jobName: 'diamond-c-2' } } },
    );
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: NS,
        name: 'diamond-c-2-xyz',
        labels: { 'steward.dev/session': 'diamond-c', 'steward.dev/attempt': '2' },
        annotations: { 'steward.dev/session': 'diamond-c' },
      },
      spec: { containers: [{ name: 'session', image: 'busybox' }] },
    });
  }

  test('the log of the task’s Session’s latest attempt', async () => {
    const client = newClient();
    await withSession(client);
    const r = await run(client, ['logs', 'wf/diamond', '--task', 'c'], { 'diamond-c-2-xyz': 'disk full\n' });
    expect([r.code, r.stdout, r.opened]).toEqual([0, 'disk full\n', ['diamond-c-2-xyz']]);
  });

  test('without --task, or a task that is not there, or one that never ran: a clear error', async () => {
    const client = newClient();
    await withSession(client);
    const none = await run(client, ['logs', 'wf/diamond']);
    expect([none.code, none.stderr]).toEqual([
      2,
      'stewardctl: logs of a workflow need --task TASK (tasks of diamond: a, b, c, d)\n',
    ]);
    const unknown = await run(client, ['logs', 'wf/diamond', '--task', 'zz']);
    expect([unknown.code, unknown.stderr]).toEqual([
      2,
      'stewardctl: workflow diamond has no task zz (tasks: a, b, c, d)\n',
    ]);
    const skipped = await run(client, ['logs', 'wf/diamond', '--task', 'd']);
    expect([skipped.code, skipped.stderr]).toEqual([
      1,
      'stewardctl: task d of workflow diamond never started (Skipped: UpstreamFailed)\n',
    ]);
    const onSession = await run(client, ['logs', 'diamond-c', '--task', 'c']);
    expect([onSession.code, onSession.stderr]).toEqual([
      2,
      'stewardctl: --task is for workflows (wf/NAME), not a session\n',
    ]);
  });
});
