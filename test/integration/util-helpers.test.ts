// The lib/util finalizer helpers against a real kube-apiserver: their patches are conditional
// on the resourceVersion read, and they meet the server's own finalizer rules.
import {
  addFinalizer,
  ConflictError,
  InvalidError,
  KubeClient,
  type KubernetesObject,
  removeFinalizer,
  setControllerReference,
} from '../../lib/index.js';
import { startControlPlane, type ControlPlane } from '../../lib/testing/index.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const NS = 'util-test';
const F = 'steward.dev/cleanup';
let cp: ControlPlane;
let client: KubeClient;

const cm = (name: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS },
});

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 100, burst: 100 });
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
});
afterAll(async () => {
  client?.close();
  await cp?.stop();
});

test('a finalizer patch from a stale read conflicts and leaves the other writer’s list intact', async () => {
  const stale = await client.create(cm('stale'));
  await addFinalizer(client, stale, 'other.example.com/x');
  await expect(addFinalizer(client, stale, F)).rejects.toThrow(ConflictError);
  const fresh = await client.get(CM, { namespace: NS, name: 'stale' });
  expect(fresh.metadata?.finalizers).toEqual(['other.example.com/x']);
  const both = await addFinalizer(client, fresh, F);
  expect(both.metadata?.finalizers).toEqual(['other.example.com/x', F]);
});

test('a finalizer holds deletion until removed; a deleting object takes no new ones', async () => {
  const held = await addFinalizer(client, await client.create(cm('held')), F);
  await client.delete(CM, { namespace: NS, name: 'held' });
  const deleting = await client.get(CM, { namespace: NS, name: 'held' });
  expect(deleting.metadata?.deletionTimestamp).toBeDefined();
  await expect(addFinalizer(client, deleting, 'other.example.com/late')).rejects.toThrow(InvalidError);
  await removeFinalizer(client, deleting, F);
  await expect(client.get(CM, { namespace: NS, name: 'held' })).rejects.toThrow(/not found/);
  expect(held.metadata?.finalizers).toEqual([F]);
});

test('an owner reference set by setControllerReference is accepted by the server', async () => {
  const owner = await client.create(cm('owner'));
  const owned = await client.create(setControllerReference(owner, cm('owned')));
  expect(owned.metadata?.ownerReferences).toEqual([
    expect.objectContaining({ kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid, controller: true }),
  ]);
});
