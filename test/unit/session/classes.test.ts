// The Session reconciler with failure classes (issue 12): retries chosen by class, disruptions
// retried despite onExitCodes and optionally uncounted, image pulls failing fast, unschedulable
// pods reported, and the bounded per-attempt history.
import { isNotFound } from '../../../lib/index.js';
import { MAX_HISTORY } from '../../../controllers/session/index.js';
import { Harness } from './harness.js';

const SPEC = { template: { image: 'busybox', command: ['echo', 'hi'] } };

const disrupted = (reason: string) => ({
  status: {
    phase: 'Failed',
    reason: reason === 'TerminationByKubelet' ? 'Evicted' : undefined,
    conditions: [{ type: 'DisruptionTarget', status: 'True', reason, message: 'node pressure' }],
    containerStatuses: [{ name: 'session', state: { terminated: { exitCode: 137, reason: 'Error' } } }],
  },
});
const pulling = (reason = 'ErrImagePull') => ({
  status: {
    phase: 'Pending',
    containerStatuses: [{ name: 'session', state: { waiting: { reason, message: 'pull access denied' } } }],
  },
});

describe('disruptions', () => {
  test('an evicted attempt is retried although onExitCodes does not list 137; history shows both', async () => {
    const h = new Harness();
    await h.create('ev', { ...SPEC, retry: { limit: 1, onExitCodes: [75], backoff: { initialSeconds: 5 } } });
    await h.reconcile('ev');
    h.clock.step(1_000);
    await h.pod('ev', 1, disrupted('TerminationByKubelet'));
    await h.finishJob('ev', 1, 'Failed', 'BackoffLimitExceeded');
    expect(await h.reconcile('ev')).toEqual({ requeueAfterMs: 5_000 });
    const pending = (await h.session('ev')).status!;
    expect(pending).toMatchObject({ phase: 'Pending', reason: 'RetryBackoff', exitCode: 137, attempt: 1 });
    expect(pending.message).toMatch(
      /^Attempt 1 failed: the pod was disrupted \(TerminationByKubelet: node pressure\); retry 1 of 1 at /,
    );
    h.clock.step(5_000);
    await h.reconcile('ev');
    await h.finishJob('ev', 2, 'Complete');
    await h.reconcile('ev');
    const done = (await h.session('ev')).status!;
    expect(done).toMatchObject({ phase: 'Succeeded', attempt: 2 });
    expect(done.history).toEqual([
      expect.objectContaining({ attempt: 1, class: 'Evicted', exitCode: 137, reason: 'Evicted' }),
      expect.objectContaining({ attempt: 2, reason: 'Completed', exitCode: 0 }),
    ]);
    expect(done.history![1]).not.toHaveProperty('class');
    expect(done.history![0]!.startTime).toBe('2026-01-01T00:00:00Z');
    expect(await h.registry.metrics()).toContain(
      'steward_session_errors_total{namespace="ns",phase="Starting",error_type="Evicted"} 1',
    );
  });

  test('ignoreDisruptions: preemptions do not count against limit 0; an exit code then does', async () => {
    const h = new Harness();
    await h.create('pre', {
      ...SPEC,
      retry: { limit: 0, ignoreDisruptions: true, backoff: { initialSeconds: 0 } },
    });
    await h.reconcile('pre');
    for (const attempt of [1, 2]) {
      await h.pod('pre', attempt, disrupted('PreemptionByScheduler'));
      await h.finishJob('pre', attempt, 'Failed');
      await h.reconcile('pre'); // Pending, retrying at once
      await h.reconcile('pre');
      const s = (await h.session('pre')).status!;
      expect(s).toMatchObject({ phase: 'Starting', attempt: attempt + 1, ignoredFailures: attempt });
    }
    await h.pod('pre', 3, { exitCode: 1 });
    await h.finishJob('pre', 3, 'Failed');
    await h.reconcile('pre');
    const s = (await h.session('pre')).status!;
    expect(s).toMatchObject({
      phase: 'Failed',
      reason: 'ExitCode',
      exitCode: 1,
      attempt: 3,
      ignoredFailures: 2,
    });
    expect(s.history!.map((e) => e.class)).toEqual(['Preempted', 'Preempted', 'ExitCode']);
  });
});

describe('OOMKilled and retry.on', () => {
  test('OOMKilled: Failed with that reason and exit code 137, counted by class', async () => {
    const h = new Harness();
    await h.create('oom', SPEC);
    await h.reconcile('oom');
    await h.pod('oom', 1, 'running');
    await h.reconcile('oom');
    await h.pod('oom', 1, { exitCode: 137, reason: 'OOMKilled' });
    await h.finishJob('oom', 1, 'Failed');
    await h.reconcile('oom');
    expect((await h.session('oom')).status).toMatchObject({
      phase: 'Failed',
      reason: 'OOMKilled',
      exitCode: 137,
    });
    expect(h.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'OOMKilled' });
    expect(await h.registry.metrics()).toContain(
      'steward_session_errors_total{namespace="ns",phase="Running",error_type="OOMKilled"} 1',
    );
  });

  test('a class not in retry.on is not retried, and the message says why', async () => {
    const h = new Harness();
    await h.create('on', { ...SPEC, retry: { limit: 3, on: ['Evicted'] } });
    await h.reconcile('on');
    await h.pod('on', 1, { exitCode: 2 });
    await h.finishJob('on', 1, 'Failed');
    await h.reconcile('on');
    const s = (await h.session('on')).status!;
    expect(s).toMatchObject({ phase: 'Failed', reason: 'ExitCode', exitCode: 2 });
    expect(s.message).toBe('Attempt 1 failed: exit code 2 (Error); not retried: ExitCode is not in retry.on');
  });
});

describe('image pulls fail fast, unschedulable pods are reported', () => {
  test('ErrImagePull: Starting/ImagePull during the grace, then the attempt fails and its Job is deleted', async () => {
    const h = new Harness();
    await h.create('img', {
      ...SPEC,
      imagePullGraceSeconds: 20,
      retry: { limit: 1, backoff: { initialSeconds: 1 } },
    });
    await h.reconcile('img');
    await h.pod('img', 1, pulling());
    expect(await h.reconcile('img')).toEqual({ requeueAfterMs: 20_000 });
    const noted = (await h.session('img')).status!;
    expect(noted).toMatchObject({ phase: 'Starting', reason: 'ImagePull' });
    expect(noted.message).toContain(
      'cannot be pulled: ErrImagePull: pull access denied; the attempt fails at',
    );
    h.clock.step(20_000);
    await h.reconcile('img');
    const pending = (await h.session('img')).status!;
    expect(pending).toMatchObject({ phase: 'Pending', reason: 'RetryBackoff', attempt: 1 });
    expect(pending.history).toEqual([
      expect.objectContaining({ attempt: 1, class: 'ImagePull', reason: 'ImagePull' }),
    ]);
    // The operator failed the attempt while its Job was active: the Job is deleted.
    expect(await h.job('img', 1).catch(isNotFound)).toBe(true);
    h.clock.step(1_000);
    await h.reconcile('img');
    await h.pod('img', 2, pulling('InvalidImageName'));
    await h.reconcile('img');
    expect((await h.session('img')).status).toMatchObject({
      phase: 'Failed',
      reason: 'ImagePull',
      attempt: 2,
    });
    expect(await h.activeJobs()).toEqual([]);
  });

  test('an unschedulable pod is reported while Starting; the start timeout records it in the history', async () => {
    const h = new Harness();
    await h.create('un', { ...SPEC, startTimeoutSeconds: 60 });
    await h.reconcile('un');
    const unschedulable = {
      status: {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/2 nodes are available: 2 node(s) didn’t match Pod’s node affinity/selector.',
          },
        ],
      },
    };
    await h.pod('un', 1, unschedulable);
    expect(await h.reconcile('un')).toEqual({ requeueAfterMs: 60_000 });
    expect((await h.session('un')).status).toMatchObject({
      phase: 'Starting',
      reason: 'Unschedulable',
      message:
        'The pod of attempt 1 cannot be scheduled: 0/2 nodes are available: 2 node(s) didn’t match Pod’s node affinity/selector.',
    });
    const events = h.events.length;
    await h.reconcile('un');
    expect(h.events).toHaveLength(events); // the same note is not written twice
    h.clock.step(60_000);
    await h.reconcile('un');
    const s = (await h.session('un')).status!;
    expect(s).toMatchObject({ phase: 'TimedOut', reason: 'StartTimeout' });
    expect(s.message).toMatch(
      /^Attempt 1 did not start running within 60s: The pod of attempt 1 cannot be scheduled/,
    );
    expect(s.history).toEqual([
      expect.objectContaining({ attempt: 1, class: 'Unschedulable', reason: 'StartTimeout' }),
    ]);
  });
});

describe('history', () => {
  test(`keeps the last ${MAX_HISTORY} attempts`, async () => {
    const h = new Harness();
    await h.create('many', { ...SPEC, retry: { limit: 12, backoff: { initialSeconds: 0 } } });
    await h.reconcile('many');
    for (let attempt = 1; attempt <= 13; attempt++) {
      await h.pod('many', attempt, { exitCode: attempt % 200 });
      await h.finishJob('many', attempt, 'Failed');
      await h.reconcile('many'); // Pending, retrying at once
      await h.reconcile('many');
    }
    const s = (await h.session('many')).status!;
    expect(s).toMatchObject({ phase: 'Failed', attempt: 13, exitCode: 13 });
    expect(s.history!.map((e) => e.attempt)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(s.history!.every((e) => e.class === 'ExitCode' && e.exitCode === e.attempt)).toBe(true);
  });
});
