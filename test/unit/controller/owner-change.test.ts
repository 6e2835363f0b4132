import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '../../../lib/client/object.js';
import type { Request } from '../../../lib/controller/index.js';
import { Manager } from '../../../lib/manager/index.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { waitFor } from '../../../lib/testing/index.js';

/**
 * `owns()` end to end: when an owned object is updated to name a different controller owner,
 * the old owner is reconciled as well as the new one (controller-runtime's
 * EnqueueRequestForOwner does the same), so the old owner learns it lost the object.
 */

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const SECRET = { group: '', version: 'v1', kind: 'Secret' };

const owner = (name: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'default', name, uid: `uid-${name}` },
});
const ownedBy = (name: string) => [
  { apiVersion: 'v1', kind: 'ConfigMap', name, uid: `uid-${name}`, controller: true },
];

test('an owned object that changes owner enqueues both owners', async () => {
  const client = new FakeClient({
    objects: [
      owner('old-owner'),
      owner('new-owner'),
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { namespace: 'default', name: 'child', ownerReferences: ownedBy('old-owner') },
      },
    ],
  });
  const mgr = await Manager.create({
    kubeConfig: new KubeConfig(),
    client,
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
  });
  const seen: string[] = [];
  const c = mgr
    .controller('owners')
    .for(CM)
    .owns(SECRET)
    .complete({
      reconcile: async (req: Request) => {
        seen.push(req.name);
      },
    });
  const stop = new AbortController();
  const running = mgr.start(stop.signal);
  try {
    await waitFor(() => seen.includes('old-owner') && seen.includes('new-owner'), {
      description: 'the initial list reconciled',
    });
    await waitFor(() => c.queue.len() === 0 && c.queue.processingLen() === 0, { description: 'idle queue' });
    seen.length = 0;
    await client.patch(
      SECRET,
      { namespace: 'default', name: 'child' },
      { type: 'merge', body: { metadata: { ownerReferences: ownedBy('new-owner') } } },
    );
    await waitFor(() => seen.includes('old-owner') && seen.includes('new-owner'), {
      description: 'both owners reconciled after the owner change',
      timeoutMs: 3000,
      intervalMs: 10,
    });
  } finally {
    stop.abort();
    await running;
  }
});
