// batch/v1 Jobs on the full test cluster: the controller manager creates the pods, the scheduler
// binds them to kwok nodes and kwok plays their lifecycle, so Jobs really finish.
import { BatchV1Api, CoreV1Api, type V1Job, type V1Pod } from '@kubernetes/client-node';

import {
  FAKE_ATTEMPT_LABEL,
  FAKE_EXIT_CODE_ANNOTATION,
  FAKE_FAILURE_ANNOTATION,
  FAKE_RUN_SECONDS_ANNOTATION,
  startControlPlane,
  waitFor,
  type ControlPlane,
} from '../../lib/testing/index.js';

const NS = 'default';
let cp: ControlPlane;
let batch: BatchV1Api;
let core: CoreV1Api;

beforeAll(async () => {
  cp = await startControlPlane({ cluster: true, nodes: { count: 2 } });
  batch = cp.kubeConfig.makeApiClient(BatchV1Api);
  core = cp.kubeConfig.makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await cp?.stop();
});

function job(
  name: string,
  annotations: Record<string, string> = {},
  labels: Record<string, string> = {},
): V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { annotations, labels },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'exit 0'] }],
        },
      },
    },
  };
}

/** Waits for the Job's `Complete` or `Failed` condition and returns which. */
async function finished(name: string): Promise<'Complete' | 'Failed'> {
  return waitFor(
    async () => {
      const j = await batch.readNamespacedJob({ name, namespace: NS });
      const c = j.status?.conditions?.find(
        (c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True',
      );
      return c?.type as 'Complete' | 'Failed' | undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200, description: `job ${name} to finish` },
  );
}

async function podsOf(jobName: string): Promise<V1Pod[]> {
  const { items } = await core.listNamespacedPod({ namespace: NS, labelSelector: `job-name=${jobName}` });
  return items;
}

test('cluster start-up: kwok nodes are Ready and schedulable', async () => {
  expect(cp.nodeNames).toEqual(['kwok-node-0', 'kwok-node-1']);
  const { items } = await core.listNode();
  for (const node of items) {
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.spec?.taints ?? []).toEqual([]);
  }
});

test('a plain Job runs its pod on a kwok node to Succeeded and goes Complete', async () => {
  await batch.createNamespacedJob({ namespace: NS, body: job('ok') });
  expect(await finished('ok')).toBe('Complete');

  const [pod, ...others] = await podsOf('ok');
  expect(others).toHaveLength(0);
  expect(pod?.status?.phase).toBe('Succeeded');
  expect(cp.nodeNames).toContain(pod?.spec?.nodeName);
  expect(pod?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
  const j = await batch.readNamespacedJob({ name: 'ok', namespace: NS });
  expect(j.status?.succeeded).toBe(1);
});

test(`a Job whose pod template has ${FAKE_EXIT_CODE_ANNOTATION}: "3" goes Failed with exit code 3`, async () => {
  await batch.createNamespacedJob({
    namespace: NS,
    body: job('fails', { [FAKE_EXIT_CODE_ANNOTATION]: '3' }),
  });
  expect(await finished('fails')).toBe('Failed');

  const j = await batch.readNamespacedJob({ name: 'fails', namespace: NS });
  expect(j.status?.failed).toBe(1);
  expect(j.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
  const [pod] = await podsOf('fails');
  expect(pod?.status?.phase).toBe('Failed');
  expect(pod?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
    exitCode: 3,
    reason: 'Error',
  });
});

test(`${FAKE_RUN_SECONDS_ANNOTATION} holds the pod Running for that long before it completes`, async () => {
  await batch.createNamespacedJob({
    namespace: NS,
    body: job('slow', { [FAKE_RUN_SECONDS_ANNOTATION]: '3' }),
  });
  // Observed Running, with the Job not yet finished.
  await waitFor(async () => (await podsOf('slow'))[0]?.status?.phase === 'Running', {
    timeoutMs: 30_000,
    description: 'slow pod Running',
  });
  const running = await batch.readNamespacedJob({ name: 'slow', namespace: NS });
  expect(running.status?.succeeded ?? 0).toBe(0);
  expect(running.status?.conditions?.some((c) => c.type === 'Complete') ?? false).toBe(false);
  expect(await finished('slow')).toBe('Complete');

  // Timestamps have whole seconds, so a 3 s hold shows as at least 3 s between them.
  const [pod] = await podsOf('slow');
  const startedAt = new Date(pod!.status!.startTime!).getTime();
  const finishedAt = new Date(pod!.status!.containerStatuses![0]!.state!.terminated!.finishedAt!).getTime();
  expect(finishedAt - startedAt).toBeGreaterThanOrEqual(3_000);
});

describe(`${FAKE_FAILURE_ANNOTATION}: failures of the infrastructure and the runtime`, () => {
  test('OOMKilled: exit code 137, reason OOMKilled, the Job Failed', async () => {
    await batch.createNamespacedJob({
      namespace: NS,
      body: job('oom', { [FAKE_FAILURE_ANNOTATION]: 'OOMKilled' }),
    });
    expect(await finished('oom')).toBe('Failed');
    const [pod] = await podsOf('oom');
    expect(pod?.status?.phase).toBe('Failed');
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 137,
      reason: 'OOMKilled',
    });
  });

  test('Evicted and Preempted: the pod Failed with a DisruptionTarget condition', async () => {
    await batch.createNamespacedJob({
      namespace: NS,
      body: job('evicted', { [FAKE_FAILURE_ANNOTATION]: 'Evicted' }),
    });
    await batch.createNamespacedJob({
      namespace: NS,
      body: job('preempted', { [FAKE_FAILURE_ANNOTATION]: 'Preempted' }),
    });
    expect(await finished('evicted')).toBe('Failed');
    expect(await finished('preempted')).toBe('Failed');
    const [evicted] = await podsOf('evicted');
    expect(evicted?.status).toMatchObject({ phase: 'Failed', reason: 'Evicted' });
    expect(evicted?.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet' }),
    );
    const [preempted] = await podsOf('preempted');
    expect(preempted?.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }),
    );
  });

  test('ImagePull: the pod stays Pending, its container waiting in ErrImagePull', async () => {
    await batch.createNamespacedJob({
      namespace: NS,
      body: job('pull', { [FAKE_FAILURE_ANNOTATION]: 'ImagePull' }),
    });
    const pod = await waitFor(
      async () => {
        const [p] = await podsOf('pull');
        return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull' ? p : undefined;
      },
      { timeoutMs: 30_000, description: 'pull pod waiting in ErrImagePull' },
    );
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  test(`one value per attempt by ${FAKE_ATTEMPT_LABEL}; none behaves as the other annotations say`, async () => {
    const annotations = { [FAKE_FAILURE_ANNOTATION]: 'Evicted,none', [FAKE_EXIT_CODE_ANNOTATION]: '4' };
    await batch.createNamespacedJob({
      namespace: NS,
      body: job('try1', annotations, { [FAKE_ATTEMPT_LABEL]: '1' }),
    });
    await batch.createNamespacedJob({
      namespace: NS,
      body: job('try2', annotations, { [FAKE_ATTEMPT_LABEL]: '2' }),
    });
    expect(await finished('try1')).toBe('Failed');
    expect(await finished('try2')).toBe('Failed');
    expect((await podsOf('try1'))[0]?.status?.reason).toBe('Evicted');
    const [second] = await podsOf('try2');
    expect(second?.status?.reason).toBeUndefined();
    expect(second?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(4);
  });
});

test('deleting a Job deletes its pods (garbage collector and kwok pod deletion)', async () => {
  await batch.createNamespacedJob({ namespace: NS, body: job('gc') });
  expect(await finished('gc')).toBe('Complete');
  expect(await podsOf('gc')).toHaveLength(1);

  await batch.deleteNamespacedJob({ name: 'gc', namespace: NS, propagationPolicy: 'Background' });
  await waitFor(async () => (await podsOf('gc')).length === 0, { description: 'gc pods deleted' });
});

test('ttlSecondsAfterFinished removes a finished Job', async () => {
  const body = job('ttl');
  body.spec!.ttlSecondsAfterFinished = 0;
  await batch.createNamespacedJob({ namespace: NS, body });
  await waitFor(
    () =>
      batch.readNamespacedJob({ name: 'ttl', namespace: NS }).then(
        () => false,
        (err: { code?: number }) => err.code === 404,
      ),
    { timeoutMs: 60_000, description: 'ttl job deleted' },
  );
});
