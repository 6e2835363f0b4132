import { SharedInformer } from '../../../lib/cache/informer.js';
import type { KubernetesObject } from '../../../lib/client/object.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';
import {
  buildJob,
  jobFinished,
  type Job,
  type Session,
  sessionInformers,
  trimJob,
  trimPod,
} from '../../../controllers/session/index.js';

const session: Session = {
  apiVersion: 'steward.dev/v1alpha1',
  kind: 'Session',
  metadata: { namespace: 'ns', name: 's', uid: 'uid-1' },
  spec: { template: { image: 'busybox', command: ['true'] }, input: { big: 'x'.repeat(1000) } },
};

function job(): Job {
  const j = buildJob(session, 1, { startTimeoutSeconds: 300 });
  return {
    ...j,
    metadata: { ...j.metadata, managedFields: [{ manager: 'kube-controller-manager' }] },
    spec: {
      ...j.spec,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } },
    } as Job['spec'],
    status: {
      conditions: [{ type: 'Complete', status: 'True', reason: 'CompletionsReached' }],
      succeeded: 1,
    },
  };
}

describe('cache transforms of the Session operator', () => {
  test('trimJob drops the spec (with the pod template) and managedFields; keeps what the reconciler reads', () => {
    const t = trimJob(job());
    expect(t.spec).toBeUndefined();
    expect(t.metadata?.managedFields).toBeUndefined();
    expect(t.metadata?.ownerReferences?.[0]?.uid).toBe('uid-1');
    expect(t.metadata?.labels?.['steward.dev/attempt']).toBe('1');
    expect(t.metadata?.annotations?.['steward.dev/session']).toBe('s');
    expect(jobFinished(t)?.type).toBe('Complete');
  });

  test('trimPod keeps metadata, status and the node name only', () => {
    const pod: KubernetesObject & { spec?: unknown; status?: unknown } = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'ns', name: 'p', labels: { a: 'b' }, managedFields: [{}] },
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'session', env: [{ name: 'STEWARD_INPUT', value: 'x' }] }],
      },
      status: { phase: 'Running', containerStatuses: [{ name: 'session', state: { running: {} } }] },
    };
    const t = trimPod(pod);
    expect(t.spec).toEqual({ nodeName: 'n1' });
    expect(t.status).toEqual(pod.status);
    expect(t.metadata).toEqual({ namespace: 'ns', name: 'p', labels: { a: 'b' } });
  });

  test("the operator's Job informer stores trimmed Jobs", async () => {
    const clock = new FakeClock(0);
    const fake = new FakeClient({ clock });
    await fake.create(job());
    const { gvk, request } = sessionInformers().job;
    const inf = new SharedInformer<Job>(fake, { gvk, ...request, clock });
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    await inf.waitForSync();
    const cached = inf.store.get('ns/s-1');
    ac.abort();
    await run;
    expect(cached?.spec?.template).toBeUndefined();
    expect(cached?.metadata?.ownerReferences?.[0]?.uid).toBe('uid-1');
  });
});
