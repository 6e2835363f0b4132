// Wiring into a Manager: a Session's Jobs and pods are found in the cache by index, so the
// lists the reconciler makes on every pod check and whenever a Session ends cost what the
// Session owns, not what the cache holds.
import { KubeConfig } from '@kubernetes/client-node';
import { Manager } from '../../../lib/index.js';
import { FakeClient } from '../../../lib/testing/index.js';
import {
  JOB_GVK,
  LABEL_SESSION,
  POD_GVK,
  sessionInformers,
  setupSessionController,
} from '../../../controllers/session/index.js';

test('Jobs and pods are indexed by the steward.dev/session label', async () => {
  const mgr = await Manager.create({
    kubeConfig: new KubeConfig(),
    client: new FakeClient(),
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
  });
  setupSessionController(mgr);
  const informers = sessionInformers();
  for (const [gvk, request] of [
    [JOB_GVK, informers.job.request],
    [POD_GVK, informers.pod.request],
  ] as const) {
    expect(mgr.cache.informerFor(gvk, request).store.hasIndexer(`label:${LABEL_SESSION}`)).toBe(true);
  }
});
