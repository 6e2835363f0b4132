// Wiring into a Manager: a Workflow's Sessions are found in the cache by index, so the list each
// reconcile makes costs what the Workflow owns, not every Session the cache holds.
import { KubeConfig } from '@kubernetes/client-node';
import { SESSION_GVK, setupSessionController } from '../../../controllers/session/index.js';
import { LABEL_WORKFLOW, setupWorkflowController } from '../../../controllers/workflow/index.js';
import { Manager } from '../../../lib/index.js';
import { FakeClient } from '../../../lib/testing/index.js';

test('Sessions are indexed by the steward.dev/workflow label, beside the Session controller', async () => {
  const mgr = await Manager.create({
    kubeConfig: new KubeConfig(),
    client: new FakeClient(),
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
  });
  setupSessionController(mgr);
  setupWorkflowController(mgr);
  expect(mgr.cache.informerFor(SESSION_GVK, {}).store.hasIndexer(`label:${LABEL_WORKFLOW}`)).toBe(true);
});
