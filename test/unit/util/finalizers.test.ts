import { ConflictError } from '../../../lib/client/errors.js';
import type { KubernetesObject } from '../../../lib/client/object.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../../../lib/util/finalizers.js';

const F = 'steward.dev/cleanup';
const cm = (finalizers?: string[]): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'ns', name: 'c', ...(finalizers ? { finalizers } : {}) },
});

describe('finalizers', () => {
  test('add patches the list once, keeping others; a second add writes nothing', async () => {
    const client = new FakeClient();
    const created = await client.create(cm(['other.io/x']));
    const added = await addFinalizer(client, created, F);
    expect(added.metadata?.finalizers).toEqual(['other.io/x', F]);
    expect(hasFinalizer(added, F)).toBe(true);
    const rv = added.metadata?.resourceVersion;
    expect(await addFinalizer(client, added, F)).toBe(added);
    expect(client.resourceVersion).toBe(rv);
  });

  test('remove patches it out; removing an absent finalizer writes nothing', async () => {
    const client = new FakeClient();
    const created = await client.create(cm([F, 'other.io/x']));
    const removed = await removeFinalizer(client, created, F);
    expect(removed.metadata?.finalizers).toEqual(['other.io/x']);
    expect(await removeFinalizer(client, removed, F)).toBe(removed);
  });

  test('the patch is conditional on the resourceVersion read: a stale object conflicts', async () => {
    const client = new FakeClient();
    const stale = await client.create(cm());
    // Someone else adds their finalizer meanwhile; ours must not overwrite the list.
    await addFinalizer(client, stale, 'other.io/x');
    await expect(addFinalizer(client, stale, F)).rejects.toThrow(ConflictError);
    const now = await client.get(
      { group: '', version: 'v1', kind: 'ConfigMap' },
      { namespace: 'ns', name: 'c' },
    );
    expect(now.metadata?.finalizers).toEqual(['other.io/x']);
  });

  test('removing the last finalizer of a deleted object lets it go', async () => {
    const client = new FakeClient();
    const created = await client.create(cm([F]));
    await client.delete({ group: '', version: 'v1', kind: 'ConfigMap' }, { namespace: 'ns', name: 'c' });
    const deleting = await client.get(
      { group: '', version: 'v1', kind: 'ConfigMap' },
      { namespace: 'ns', name: 'c' },
    );
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();
    await removeFinalizer(client, deleting, F);
    expect(created.metadata?.finalizers).toEqual([F]);
    await expect(
      client.get({ group: '', version: 'v1', kind: 'ConfigMap' }, { namespace: 'ns', name: 'c' }),
    ).rejects.toThrow(/not found/);
  });

  test('bad input: a finalizer that is not a qualified name, an object without resourceVersion', async () => {
    const client = new FakeClient();
    await expect(addFinalizer(client, await client.create(cm()), 'Not A Name')).rejects.toThrow(TypeError);
    await expect(addFinalizer(client, cm(), F)).rejects.toThrow(/resourceVersion/);
    const d: KubernetesObject = { ...cm(), metadata: { namespace: 'ns', name: 'd' } };
    await client.create(d);
    const unconditional = await addFinalizer(client, d, F, { conditional: false });
    expect(unconditional.metadata?.finalizers).toEqual([F]);
  });
});
