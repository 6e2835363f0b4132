// The failure classification (controllers/session/failure.ts) and the retry decision by class
// (policy.ts): pure functions, one test per class and per rule.
import {
  classifyFailedJob,
  classifyStarting,
  effectiveRetry,
  FAILURE_CLASSES,
  jobDeleted,
  jobRejected,
  observePods,
  type Pod,
  type PodView,
  retryDecision,
  timeoutClass,
} from '../../../controllers/session/index.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (ms: number) => new Date(T0 + ms).toISOString();

function pod(status: Pod['status'], extra: { created?: number; deleting?: boolean } = {}): Pod {
  return {
    metadata: {
      name: 'p',
      creationTimestamp: at(extra.created ?? 0),
      ...(extra.deleting ? { deletionTimestamp: at(1) } : {}),
    },
    status,
  };
}
const terminated = (exitCode: number, reason = 'Error', message?: string): Pod['status'] => ({
  phase: exitCode === 0 ? 'Succeeded' : 'Failed',
  containerStatuses: [{ name: 'session', state: { terminated: { exitCode, reason, message } } }],
});
const view = (p: Pod) => observePods([p])!;

describe('classifyFailedJob: one class per cause', () => {
  test('ExitCode, with the code and the container’s message', () => {
    expect(
      classifyFailedJob(2, 'BackoffLimitExceeded', undefined, view(pod(terminated(3, 'Error', 'boom')))),
    ).toEqual({
      class: 'ExitCode',
      reason: 'ExitCode',
      exitCode: 3,
      message: 'Attempt 2 failed: exit code 3 (Error): boom',
    });
  });

  test('OOMKilled: killed for its memory, exit code 137', () => {
    expect(
      classifyFailedJob(1, 'BackoffLimitExceeded', undefined, view(pod(terminated(137, 'OOMKilled')))),
    ).toEqual(expect.objectContaining({ class: 'OOMKilled', reason: 'OOMKilled', exitCode: 137 }));
  });

  test.each([
    ['TerminationByKubelet', 'Evicted'],
    ['EvictionByEvictionAPI', 'Evicted'],
    ['PreemptionByScheduler', 'Preempted'],
    ['DeletionByTaintManager', 'NodeLost'],
    ['DeletionByPodGC', 'NodeLost'],
    ['SomethingNew', 'Evicted'],
  ])('a DisruptionTarget condition with reason %s → %s, whatever the exit code', (reason, cls) => {
    const status = {
      ...terminated(137),
      conditions: [{ type: 'DisruptionTarget', status: 'True', reason, message: 'disrupted' }],
    };
    const f = classifyFailedJob(1, 'BackoffLimitExceeded', undefined, view(pod(status)));
    expect(f).toMatchObject({ class: cls, reason: cls, exitCode: 137 });
    expect(f.message).toContain(`the pod was disrupted (${reason}: disrupted)`);
  });

  test('the kubelet’s Evicted and NodeLost pod reasons, without the condition', () => {
    const evicted = { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' };
    expect(classifyFailedJob(1, undefined, undefined, view(pod(evicted))).class).toBe('Evicted');
    expect(
      classifyFailedJob(1, undefined, undefined, view(pod({ phase: 'Failed', reason: 'NodeLost' }))).class,
    ).toBe('NodeLost');
  });

  test('a DisruptionTarget that is False is no disruption', () => {
    const status = { ...terminated(3), conditions: [{ type: 'DisruptionTarget', status: 'False' }] };
    expect(classifyFailedJob(1, undefined, undefined, view(pod(status))).class).toBe('ExitCode');
  });

  test('DeadlineExceeded: the Job’s own deadline, over the exit code of the pod it killed', () => {
    expect(
      classifyFailedJob(
        1,
        'DeadlineExceeded',
        'Job was active longer than specified deadline',
        view(pod(terminated(143))),
      ),
    ).toMatchObject({ class: 'DeadlineExceeded', exitCode: 143 });
  });

  test('ImagePull: a Job that failed while its pod could not pull', () => {
    const status = {
      phase: 'Pending',
      containerStatuses: [
        { name: 'session', state: { waiting: { reason: 'ImagePullBackOff', message: 'back-off' } } },
      ],
    };
    expect(classifyFailedJob(1, 'DeadlineExceeded', undefined, view(pod(status))).class).toBe(
      'DeadlineExceeded',
    );
    expect(classifyFailedJob(1, 'BackoffLimitExceeded', undefined, view(pod(status)))).toMatchObject({
      class: 'ImagePull',
      message: 'The image of attempt 1 cannot be pulled: ImagePullBackOff: back-off',
    });
  });

  test('JobFailed: nothing left says why (the pod is gone)', () => {
    expect(
      classifyFailedJob(4, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', undefined),
    ).toEqual({
      class: 'JobFailed',
      reason: 'JobFailed',
      message:
        'Attempt 4 failed: Job BackoffLimitExceeded: Job has reached the specified backoff limit (its pod is gone)',
    });
  });

  test('the pod gone: the Job’s podFailurePolicy condition still tells the exit code or the disruption', () => {
    const byCode =
      'Container session for pod ns/s-1-abc failed with exit code 75 matching FailJob rule at index 1';
    expect(classifyFailedJob(1, 'PodFailurePolicy', byCode, undefined)).toEqual({
      class: 'ExitCode',
      reason: 'ExitCode',
      exitCode: 75,
      message: `Attempt 1 failed: exit code 75 (from the Job: ${byCode})`,
    });
    const byCondition = 'Pod ns/s-1-abc has condition DisruptionTarget matching FailJob rule at index 0';
    expect(classifyFailedJob(1, 'PodFailurePolicy', byCondition, undefined).class).toBe('Evicted');
    // The pod, when it is still there, says more than the Job.
    expect(
      classifyFailedJob(1, 'PodFailurePolicy', byCode, view(pod(terminated(137, 'OOMKilled')))).class,
    ).toBe('OOMKilled');
  });

  test('JobDeleted and JobRejected', () => {
    expect(jobDeleted(2, 's-2')).toEqual({
      class: 'JobDeleted',
      reason: 'JobDeleted',
      message: 'Job s-2 of attempt 2 was deleted before it finished',
    });
    expect(jobRejected(1, 's-1', 'env[0].name: Invalid value')).toMatchObject({
      class: 'JobRejected',
      reason: 'JobRejected',
    });
  });
});

describe('classifyStarting: a pod that has not started running', () => {
  const pulling = (reason: string, created = 0) =>
    view(
      pod(
        {
          phase: 'Pending',
          containerStatuses: [{ name: 'session', state: { waiting: { reason, message: 'denied' } } }],
        },
        { created },
      ),
    );

  test('ImagePull: a note until the grace is over, then the attempt fails', () => {
    const during = classifyStarting(1, pulling('ErrImagePull'), T0 + 29_999, 30_000);
    expect(during.failure).toBeUndefined();
    expect(during.note).toEqual({
      reason: 'ImagePull',
      message: `The image of attempt 1 cannot be pulled: ErrImagePull: denied; the attempt fails at ${at(30_000).replace('.000', '')} unless it recovers`,
    });
    expect(during.recheckAt).toBe(T0 + 30_000);
    expect(classifyStarting(1, pulling('ImagePullBackOff'), T0 + 30_000, 30_000).failure).toEqual({
      class: 'ImagePull',
      reason: 'ImagePull',
      message: 'The image of attempt 1 cannot be pulled: ImagePullBackOff: denied',
    });
  });

  test('an invalid image name fails at once; a grace of 0 fails at the first pull error', () => {
    expect(classifyStarting(1, pulling('InvalidImageName'), T0, 30_000).failure?.class).toBe('ImagePull');
    expect(classifyStarting(1, pulling('ErrImagePull'), T0, 0).failure?.class).toBe('ImagePull');
  });

  test('Unschedulable: the scheduler’s message as a note, never a failure by itself', () => {
    const p = view(
      pod({
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/2 nodes are available',
          },
        ],
      }),
    );
    expect(classifyStarting(3, p, T0 + 1e9, 0)).toEqual({
      note: {
        reason: 'Unschedulable',
        message: 'The pod of attempt 3 cannot be scheduled: 0/2 nodes are available',
      },
    });
  });

  test('a pod merely being created says nothing', () => {
    expect(classifyStarting(1, pulling('ContainerCreating'), T0, 0)).toEqual({});
    expect(classifyStarting(1, undefined, T0, 0)).toEqual({});
  });

  test('timeoutClass: what kept the pod from running, else DeadlineExceeded', () => {
    expect(timeoutClass(pulling('ImagePullBackOff'))).toBe('ImagePull');
    const unschedulable: PodView = { name: 'p', running: false, deleting: false, unschedulable: 'no nodes' };
    expect(timeoutClass(unschedulable)).toBe('Unschedulable');
    expect(timeoutClass(undefined)).toBe('DeadlineExceeded');
  });
});

describe('observePods', () => {
  test('of several pods, a failed one explains the attempt; else the newest', () => {
    const failed = pod(terminated(3), { created: 0 });
    failed.metadata!.name = 'failed';
    const newer = pod({ phase: 'Running' }, { created: 5 });
    newer.metadata!.name = 'newer';
    expect(observePods([newer, failed])?.name).toBe('failed');
    const older = pod({ phase: 'Pending' }, { created: 0 });
    older.metadata!.name = 'older';
    expect(observePods([newer, older])?.name).toBe('newer');
    expect(observePods([])).toBeUndefined();
  });
});

describe('retryDecision: by class', () => {
  const retry = (r: object) => effectiveRetry({ retry: r });

  test('defaults: every class but JobRejected', () => {
    const r = retry({ limit: 3 });
    for (const c of FAILURE_CLASSES) {
      expect([c, retryDecision(r, 1, 0, { class: c }).retry]).toEqual([c, c !== 'JobRejected']);
    }
  });

  test('retry.on narrows the classes', () => {
    const r = retry({ limit: 3, on: ['Evicted', 'OOMKilled'] });
    expect(retryDecision(r, 1, 0, { class: 'OOMKilled', exitCode: 137 }).retry).toBe(true);
    expect(retryDecision(r, 1, 0, { class: 'ExitCode', exitCode: 1 })).toEqual({
      retry: false,
      counted: true,
      why: 'ExitCode is not in retry.on',
    });
  });

  test('onExitCodes narrows ExitCode and OOMKilled; disruptions retry regardless', () => {
    const r = retry({ limit: 3, onExitCodes: [75] });
    expect(retryDecision(r, 1, 0, { class: 'ExitCode', exitCode: 75 }).retry).toBe(true);
    expect(retryDecision(r, 1, 0, { class: 'ExitCode', exitCode: 1 }).retry).toBe(false);
    expect(retryDecision(r, 1, 0, { class: 'OOMKilled', exitCode: 137 }).retry).toBe(false);
    for (const c of ['Evicted', 'Preempted', 'NodeLost'] as const) {
      expect(retryDecision(r, 1, 0, { class: c, exitCode: 137 })).toEqual({ retry: true, counted: true });
    }
  });

  test('limit counts failed attempts, minus the ignored disruptions', () => {
    const r = retry({ limit: 2 });
    expect(retryDecision(r, 2, 0, { class: 'ExitCode', exitCode: 1 }).retry).toBe(true);
    expect(retryDecision(r, 3, 0, { class: 'ExitCode', exitCode: 1 })).toMatchObject({
      retry: false,
      why: 'retry.limit 2 reached',
    });
    expect(retryDecision(r, 3, 1, { class: 'ExitCode', exitCode: 1 }).retry).toBe(true);
  });

  test('ignoreDisruptions: disruptions retry uncounted, even with limit 0, up to 10 of them', () => {
    const r = retry({ limit: 0, ignoreDisruptions: true });
    expect(retryDecision(r, 1, 0, { class: 'Evicted' })).toEqual({ retry: true, counted: false });
    expect(retryDecision(r, 10, 9, { class: 'Preempted' })).toEqual({ retry: true, counted: false });
    expect(retryDecision(r, 11, 10, { class: 'NodeLost' }).retry).toBe(false);
    expect(retryDecision(r, 1, 0, { class: 'OOMKilled' }).retry).toBe(false);
  });
});
