import {
  AlreadyExistsError,
  ConflictError,
  GoneError,
  InvalidError,
  NotFoundError,
} from '../../../lib/client/errors.js';
import type { KubernetesObject } from '../../../lib/client/object.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';

const DEPLOY = { group: 'apps', version: 'v1', kind: 'Deployment' };
const NS = { group: '', version: 'v1', kind: 'Namespace' };
const deploy = (name: string, replicas = 1, labels: Record<string, string> = {}): KubernetesObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { namespace: 'ns', name, labels },
  spec: { replicas },
});
const key = (name: string) => ({ namespace: 'ns', name });

describe('FakeClient', () => {
  test('create assigns uid, resourceVersion, generation; duplicates are AlreadyExists', async () => {
    const c = new FakeClient();
    const d = await c.create(deploy('d'));
    expect(d.metadata).toMatchObject({ name: 'd', generation: 1, resourceVersion: '1' });
    expect(d.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    await expect(c.create(deploy('d'))).rejects.toThrow(AlreadyExistsError);
    const g: KubernetesObject = await c.create({
      ...deploy(''),
      metadata: { namespace: 'ns', generateName: 'gen-' },
    });
    expect(g.metadata?.name).toMatch(/^gen-.{5}$/);
    await expect(
      c.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }),
    ).rejects.toThrow(InvalidError);
  });

  test('stale updates conflict; spec changes bump generation, status and metadata changes do not', async () => {
    const c = new FakeClient();
    const d = await c.create(deploy('d'));
    const v2 = await c.update({ ...d, spec: { replicas: 2 } });
    expect(v2.metadata?.generation).toBe(2);
    await expect(c.update({ ...d, spec: { replicas: 3 } })).rejects.toThrow(ConflictError);
    const v3 = await c.update({ ...v2, metadata: { ...v2.metadata, labels: { a: 'b' } } });
    expect(v3.metadata?.generation).toBe(2);
    const v4 = await c.updateStatus({ ...v3, status: { ready: 1 }, spec: { replicas: 99 } });
    expect(v4.status).toEqual({ ready: 1 });
    expect(v4.spec).toEqual({ replicas: 2 });
    expect(v4.metadata?.generation).toBe(2);
    const v5 = await c.update({ ...v4, status: { ready: 7 } });
    expect(v5.status).toEqual({ ready: 1 });
    expect(Number(v5.metadata?.resourceVersion)).toBe(Number(v4.metadata?.resourceVersion));
  });

  test('patches: merge, json, status, apply; a patch naming a stale resourceVersion conflicts', async () => {
    const c = new FakeClient();
    await c.create(deploy('d'));
    await c.patch(DEPLOY, key('d'), { type: 'merge', body: { metadata: { labels: { x: '1' } } } });
    await c.patch(DEPLOY, key('d'), {
      type: 'json',
      ops: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
    });
    await c.patchStatus(DEPLOY, key('d'), { type: 'merge', body: { status: { ok: true } } });
    let d = await c.get(DEPLOY, key('d'));
    expect([d.metadata?.labels, d.spec, d.status, d.metadata?.generation]).toEqual([
      { x: '1' },
      { replicas: 5 },
      { ok: true },
      2,
    ]);
    await expect(
      c.patch(DEPLOY, key('d'), {
        type: 'merge',
        body: { metadata: { resourceVersion: '1' }, spec: { replicas: 0 } },
      }),
    ).rejects.toThrow(ConflictError);
    await c.apply(deploy('e', 3), { fieldManager: 'me' });
    await c.apply({ ...deploy('e'), spec: { paused: true } }, { fieldManager: 'me' });
    d = await c.get(DEPLOY, key('e'));
    expect(d.spec).toEqual({ replicas: 3, paused: true });
  });

  test('metadataOnlyResponse: writes answer with a PartialObjectMetadata, as the API server does', async () => {
    const c = new FakeClient();
    const partial = { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata' };
    const created = await c.create(deploy('d', 1, { a: 'b' }), { metadataOnlyResponse: true });
    expect(created).toEqual({
      ...partial,
      metadata: expect.objectContaining({ name: 'd', labels: { a: 'b' } }),
    });
    const stored = await c.get(DEPLOY, key('d'));
    expect(created.metadata).toEqual(stored.metadata);
    const patched = await c.patch(
      DEPLOY,
      key('d'),
      { type: 'merge', body: { spec: { replicas: 3 } } },
      {
        metadataOnlyResponse: true,
      },
    );
    expect(patched).toEqual({ ...partial, metadata: expect.objectContaining({ generation: 2 }) });
    const status = await c.patchStatus(
      DEPLOY,
      key('d'),
      { type: 'merge', body: { status: { ready: 1 } } },
      {
        metadataOnlyResponse: true,
      },
    );
    expect(Object.keys(status).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
    const updated = await c.update(
      { ...(await c.get(DEPLOY, key('d'))), spec: { replicas: 4 } },
      {
        metadataOnlyResponse: true,
      },
    );
    expect(updated.kind).toBe('PartialObjectMetadata');
    expect(((await c.get(DEPLOY, key('d'))).spec as { replicas: number }).replicas).toBe(4);
    // Without the option: the whole object.
    expect((await c.create(deploy('e'))).spec).toEqual({ replicas: 1 });
  });

  test('delete honours finalizers and preconditions', async () => {
    const c = new FakeClient();
    const d: KubernetesObject = await c.create({
      ...deploy('d'),
      metadata: { namespace: 'ns', name: 'd', finalizers: ['x/y'] },
    });
    await expect(c.delete(DEPLOY, key('d'), { preconditions: { uid: 'other' } })).rejects.toThrow(
      ConflictError,
    );
    await c.delete(DEPLOY, key('d'));
    const marked = await c.get(DEPLOY, key('d'));
    expect(marked.metadata?.deletionTimestamp).toBeDefined();
    await c.update({ ...marked, metadata: { ...marked.metadata, finalizers: [] } });
    await expect(c.get(DEPLOY, key('d'))).rejects.toThrow(NotFoundError);
    await expect(c.delete(DEPLOY, key('d'))).rejects.toThrow(NotFoundError);
    expect(d.metadata?.uid).toBeDefined();
  });

  test('list filters by namespace and labels and pages in key order', async () => {
    const c = new FakeClient();
    for (const n of ['c', 'a', 'b', 'd']) await c.create(deploy(n, 1, { keep: n === 'd' ? 'no' : 'yes' }));
    await c.create({ ...deploy('z'), metadata: { namespace: 'other', name: 'z' } });
    const page1 = await c.list(DEPLOY, { namespace: 'ns', labelSelector: 'keep=yes', limit: 2 });
    expect(page1.items.map((d) => d.metadata?.name)).toEqual(['a', 'b']);
    const page2 = await c.list(DEPLOY, {
      namespace: 'ns',
      labelSelector: 'keep=yes',
      limit: 2,
      continue: page1.metadata.continue,
    });
    expect(page2.items.map((d) => d.metadata?.name)).toEqual(['c']);
    expect(page2.metadata.continue).toBeUndefined();
    expect((await c.list(DEPLOY)).items).toHaveLength(5);
  });

  test('cluster-scoped kinds ignore namespaces', async () => {
    const c = new FakeClient();
    await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', namespace: 'ignored' } });
    expect((await c.get(NS, { name: 'x' })).metadata?.namespace).toBeUndefined();
  });

  test('watch: from now, resumed from a resourceVersion, Gone after compaction; reactors inject errors', async () => {
    const c = new FakeClient();
    const d = await c.create(deploy('d'));
    await c.patch(DEPLOY, key('d'), { type: 'merge', body: { spec: { replicas: 2 } } });
    await c.delete(DEPLOY, key('d'));
    const seen: string[] = [];
    const ac = new AbortController();
    for await (const ev of c.watch(DEPLOY, {
      resourceVersion: d.metadata?.resourceVersion,
      signal: ac.signal,
    })) {
      seen.push(ev.type);
      if (seen.length === 2) ac.abort();
    }
    expect(seen).toEqual(['MODIFIED', 'DELETED']);
    c.compact();
    await expect(c.watch(DEPLOY, { resourceVersion: '1' })[Symbol.asyncIterator]().next()).rejects.toThrow(
      GoneError,
    );
    const remove = c.prependReactor((a) => (a.verb === 'get' ? new Error('injected') : undefined));
    await expect(c.get(DEPLOY, key('d'))).rejects.toThrow('injected');
    remove();
    await expect(c.get(DEPLOY, key('d'))).rejects.toThrow(NotFoundError);
  });
});
