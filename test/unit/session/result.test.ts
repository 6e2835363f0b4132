// status.result: the container's termination message, and the Workflow annotations that become
// STEWARD_WORKFLOW, STEWARD_TASK and STEWARD_UPSTREAM in the pod.
import {
  ANNOTATION_TASK,
  ANNOTATION_UPSTREAM,
  ANNOTATION_WORKFLOW,
  JOB_GVK,
  jobName,
  MAX_RESULT_LENGTH,
} from '../../../controllers/session/index.js';
import { Harness } from './harness.js';

const SPEC = { template: { image: 'busybox', command: ['echo', 'hi'] } };

type Container = {
  env: Array<{ name: string; value?: string }>;
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
};
const containerOf = (job: { spec?: { template?: { spec?: Record<string, unknown> } } }) =>
  (job.spec!.template!.spec!.containers as Container[])[0]!;

describe('Session result (status.result)', () => {
  test('a succeeded attempt records its termination message; the pod keeps the file-or-log policy', async () => {
    const h = new Harness();
    await h.create('s', SPEC);
    await h.reconcile('s');
    const c = containerOf(await h.job('s', 1));
    expect([c.terminationMessagePath, c.terminationMessagePolicy]).toEqual([
      '/dev/termination-log',
      'FallbackToLogsOnError',
    ]);
    await h.pod('s', 1, { exitCode: 0, reason: 'Completed', message: '{"rows":42}' });
    await h.finishJob('s', 1, 'Complete');
    await h.reconcile('s');
    expect((await h.session('s')).status).toMatchObject({ phase: 'Succeeded', result: '{"rows":42}' });
  });

  test('a failed attempt records its message; a retry starts without the old result', async () => {
    const h = new Harness();
    await h.create('s', { ...SPEC, retry: { limit: 1, backoff: { initialSeconds: 1 } } });
    await h.reconcile('s');
    await h.pod('s', 1, { exitCode: 3, message: 'disk full' });
    await h.finishJob('s', 1, 'Failed');
    await h.reconcile('s');
    h.clock.step(1_000);
    await h.reconcile('s');
    let s = await h.session('s');
    expect(s.status).toMatchObject({ phase: 'Starting', attempt: 2 });
    expect(s.status?.result).toBeUndefined();
    await h.pod('s', 2, { exitCode: 4, message: 'still full' });
    await h.finishJob('s', 2, 'Failed');
    await h.reconcile('s');
    s = await h.session('s');
    expect(s.status).toMatchObject({ phase: 'Failed', exitCode: 4, result: 'still full' });
    expect(s.status?.message).toContain('still full');
  });

  test('no termination message: no result', async () => {
    const h = new Harness();
    await h.create('s', SPEC);
    await h.reconcile('s');
    await h.pod('s', 1, { exitCode: 0, reason: 'Completed' });
    await h.finishJob('s', 1, 'Complete');
    await h.reconcile('s');
    const s = await h.session('s');
    expect(s.status?.phase).toBe('Succeeded');
    expect(s.status?.result).toBeUndefined();
  });

  test('a message longer than the CRD allows is cut to MAX_RESULT_LENGTH characters, not bytes', async () => {
    const h = new Harness();
    await h.create('s', SPEC);
    await h.reconcile('s');
    await h.pod('s', 1, { exitCode: 0, reason: 'Completed', message: 'é'.repeat(MAX_RESULT_LENGTH + 10) });
    await h.finishJob('s', 1, 'Complete');
    await h.reconcile('s');
    const result = (await h.session('s')).status?.result ?? '';
    expect(result.length).toBeLessThanOrEqual(MAX_RESULT_LENGTH);
    expect(result).toMatch(/^é+ … \[\d+ more characters truncated\]$/);
  });

  test('a completed Job whose pod the cache still shows running waits for the pod, but not forever', async () => {
    const h = new Harness();
    await h.create('s', SPEC);
    await h.reconcile('s');
    await h.pod('s', 1, 'running');
    await h.reconcile('s');
    const completed = new Date(h.clock.now()).toISOString();
    await h.client.patchStatus(
      JOB_GVK,
      { namespace: 'ns', name: jobName('s', 1) },
      {
        type: 'merge',
        body: {
          status: { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: completed }] },
        },
      },
    );
    expect(await h.reconcile('s')).toEqual({ requeueAfterMs: 1_000 });
    expect((await h.session('s')).status?.phase).toBe('Running');
    await h.pod('s', 1, { exitCode: 0, reason: 'Completed', message: 'done' });
    await h.reconcile('s');
    expect((await h.session('s')).status).toMatchObject({ phase: 'Succeeded', result: 'done' });

    // A pod that never shows its end: Succeeded without a result 10 s after the Job completed.
    await h.create('t', SPEC);
    await h.reconcile('t');
    await h.pod('t', 1, 'running');
    await h.reconcile('t');
    await h.client.patchStatus(
      JOB_GVK,
      { namespace: 'ns', name: jobName('t', 1) },
      {
        type: 'merge',
        body: {
          status: {
            conditions: [
              { type: 'Complete', status: 'True', lastTransitionTime: new Date(h.clock.now()).toISOString() },
            ],
          },
        },
      },
    );
    expect(await h.reconcile('t')).toEqual({ requeueAfterMs: 1_000 });
    h.clock.step(10_000);
    await h.reconcile('t');
    const t = await h.session('t');
    expect(t.status?.phase).toBe('Succeeded');
    expect(t.status?.result).toBeUndefined();
  });
});

describe('Sessions of a Workflow task', () => {
  test('the Workflow annotations become STEWARD_WORKFLOW, STEWARD_TASK and STEWARD_UPSTREAM', async () => {
    const h = new Harness();
    await h.client.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: {
        namespace: 'ns',
        name: 'wf-b',
        annotations: {
          [ANNOTATION_WORKFLOW]: 'wf',
          [ANNOTATION_TASK]: 'b',
          [ANNOTATION_UPSTREAM]: '{"a":"42"}',
        },
      },
      spec: SPEC,
    });
    await h.reconcile('wf-b');
    const env = containerOf(await h.job('wf-b', 1)).env;
    expect(env).toEqual(
      expect.arrayContaining([
        { name: 'STEWARD_WORKFLOW', value: 'wf' },
        { name: 'STEWARD_TASK', value: 'b' },
        { name: 'STEWARD_UPSTREAM', value: '{"a":"42"}' },
      ]),
    );
  });

  test('a Session of no Workflow gets none of them', async () => {
    const h = new Harness();
    await h.create('s', SPEC);
    await h.reconcile('s');
    const names = containerOf(await h.job('s', 1)).env.map((e) => e.name);
    expect(names.filter((n) => /WORKFLOW|TASK|UPSTREAM/.test(n))).toEqual([]);
  });
});
