// Wiring into a Manager: a Workflow's Sessions are found in the cache by index, so the list each
// reconcile makes costs what the Workflow owns, not every Session the cache holds.
import { KubeConfig } from '@kubernetes/client-node';
import { type Session, SESSION_GVK, setupSessionController } from '../../../controllers/session/index.js';
import {
  LABEL_WORKFLOW,
  sessionProgressed,
  setupWorkflowController,
} from '../../../controllers/workflow/index.js';
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

describe('sessionProgressed: the Session events that enqueue their Workflow', () => {
  const session = (status?: Session['status']): Session => ({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { namespace: 'ns', name: 's' },
    spec: { template: { image: 'x' } },
    ...(status ? { status } : {}),
  });
  const create = (s: Session, isInInitialList = false) =>
    sessionProgressed({ type: 'create', object: s, isInInitialList });
  const update = (a: Session, b: Session, isResync = false) =>
    sessionProgressed({ type: 'update', old: a, object: b, isResync });

  test('a Session the Workflow just created does not: that reconcile already counts it as running', () => {
    expect(create(session())).toBe(false);
    expect(create(session({ phase: 'Starting', attempt: 1 }))).toBe(false);
  });

  test('one first seen already ended or retried, or in the first list, does', () => {
    expect(create(session({ phase: 'Succeeded', attempt: 1 }))).toBe(true);
    expect(create(session({ phase: 'Failed', attempt: 1 }))).toBe(true);
    expect(create(session({ phase: 'Running', attempt: 2 }))).toBe(true);
    expect(create(session(), true)).toBe(true);
  });

  test('updates that end the Session or start an attempt, deletions and resyncs do; other steps do not', () => {
    const running = session({ phase: 'Running', attempt: 1 });
    expect(update(session({ phase: 'Starting', attempt: 1 }), running)).toBe(false);
    expect(update(running, session({ phase: 'Succeeded', attempt: 1 }))).toBe(true);
    expect(update(running, session({ phase: 'Starting', attempt: 2 }))).toBe(true);
    expect(update(running, running, true)).toBe(true);
    expect(sessionProgressed({ type: 'delete', object: running, finalStateUnknown: false })).toBe(true);
  });
});
