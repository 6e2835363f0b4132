// KubeClient against a real kube-apiserver: CRUD, selectors, pagination, every patch type,
// status subresource, deletes with preconditions, errors, MicroTime, discovery and metrics.
import { Registry } from 'prom-client';
import {
  AlreadyExistsError,
  ConflictError,
  InvalidError,
  KubeClient,
  NotFoundError,
  applyPatch,
  jsonPatch,
  mergePatch,
  microTime,
  type KubernetesObject,
} from '../../lib/index.js';
import { startControlPlane, waitFor, type ControlPlane } from '../../lib/testing/index.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const WIDGET = { group: 'steward.dev', version: 'v1alpha1', kind: 'Widget' };
const LEASE = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' };
const NS = 'client-test';

let cp: ControlPlane;
let client: KubeClient;
let registry: Registry;

const cm = (
  name: string,
  data: Record<string, string> = {},
  labels: Record<string, string> = {},
): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS, labels },
  data,
});

beforeAll(async () => {
  cp = await startControlPlane();
  registry = new Registry();
  client = new KubeClient(cp.kubeConfig, { registry, qps: 100, burst: 100 });
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.steward.dev' },
    spec: {
      group: 'steward.dev',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  });
  await waitFor(
    async () => {
      const crd = await client.get<
        KubernetesObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
      >(
        { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' },
        { name: 'widgets.steward.dev' },
      );
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    },
    { description: 'CRD established' },
  );
});

afterAll(async () => {
  client?.close();
  await cp?.stop();
});

test('create, get, conflict on a stale update, AlreadyExists, NotFound', async () => {
  const created = await client.create(cm('a', { k: 'v1' }));
  expect(created.metadata?.uid).toBeDefined();
  const got = await client.get(CM, { namespace: NS, name: 'a' });
  expect(got.data).toEqual({ k: 'v1' });
  expect(got.apiVersion).toBe('v1');
  const updated = await client.update({ ...got, data: { k: 'v2' } });
  expect(updated.metadata?.resourceVersion).not.toBe(got.metadata?.resourceVersion);
  await expect(client.update({ ...got, data: { k: 'stale' } })).rejects.toThrow(ConflictError);
  await expect(client.create(cm('a'))).rejects.toThrow(AlreadyExistsError);
  await expect(client.get(CM, { namespace: NS, name: 'missing' })).rejects.toThrow(NotFoundError);
});

test('metadataOnlyResponse: create, update, patch and status patch answer with the metadata alone', async () => {
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'meta-only', namespace: NS, labels: { a: 'b' } },
    spec: {
      template: {
        spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x', command: ['true'] }] },
      },
    },
  };
  const created = await client.create(job, { metadataOnlyResponse: true });
  expect(created.apiVersion).toBe('meta.k8s.io/v1');
  expect(created.kind).toBe('PartialObjectMetadata');
  expect(created.metadata).toMatchObject({ name: 'meta-only', namespace: NS, labels: { a: 'b' } });
  expect(created.metadata?.uid).toBeDefined();
  expect(created).not.toHaveProperty('spec');
  // The same object, as the API has it: the answer's resourceVersion and uid are the real ones.
  const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
  const full = await client.get<typeof job>(JOB, { namespace: NS, name: 'meta-only' });
  expect(full.metadata).toMatchObject({
    uid: created.metadata?.uid,
    resourceVersion: created.metadata?.resourceVersion,
  });
  expect(full.spec.template.spec.containers[0]!.image).toBe('x');

  const patched = await client.patch(
    JOB,
    { namespace: NS, name: 'meta-only' },
    mergePatch({ metadata: { labels: { c: 'd' } } }),
    { metadataOnlyResponse: true },
  );
  expect(patched.kind).toBe('PartialObjectMetadata');
  expect(patched.metadata?.labels).toEqual({ a: 'b', c: 'd' });
  const status = await client.patchStatus(
    JOB,
    { namespace: NS, name: 'meta-only' },
    mergePatch({ status: { active: 0 } }),
    { metadataOnlyResponse: true },
  );
  expect(status.kind).toBe('PartialObjectMetadata');
  expect(status).not.toHaveProperty('status');
  const updated = await client.update(
    { ...cm('meta-cm', { k: 'v' }), metadata: { ...(await client.create(cm('meta-cm'))).metadata } },
    { metadataOnlyResponse: true },
  );
  expect(updated.kind).toBe('PartialObjectMetadata');
  expect(updated).not.toHaveProperty('data');
  // Without the option, the whole object as before.
  expect((await client.create(cm('meta-full', { k: 'v' }))).data).toEqual({ k: 'v' });
});

test('validation failures are InvalidError with causes', async () => {
  const err = await client.create(cm('Not_A_Valid_Name')).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidError);
  expect((err as InvalidError).body?.details?.causes?.length).toBeGreaterThan(0);
});

test('list with label and field selectors, and pagination', async () => {
  for (let i = 0; i < 5; i++) await client.create(cm(`page-${i}`, {}, { set: 'paged', odd: String(i % 2) }));
  const odd = await client.list(CM, { namespace: NS, labelSelector: { set: 'paged', odd: '1' } });
  expect(odd.items.map((o) => o.metadata?.name).sort()).toEqual(['page-1', 'page-3']);
  const byName = await client.list(CM, { namespace: NS, fieldSelector: { 'metadata.name': 'page-4' } });
  expect(byName.items.map((o) => o.metadata?.name)).toEqual(['page-4']);
  const names: string[] = [];
  let cont: string | undefined;
  let pages = 0;
  do {
    const page = await client.list(CM, {
      namespace: NS,
      labelSelector: 'set=paged',
      limit: 2,
      continue: cont,
    });
    names.push(...page.items.map((o) => o.metadata!.name!));
    cont = page.metadata.continue;
    pages++;
  } while (cont);
  expect(pages).toBe(3);
  expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
});

test('merge patch, JSON patch and server-side apply with a field manager', async () => {
  await client.create(cm('patched', { a: '1' }));
  const key = { namespace: NS, name: 'patched' };
  await client.patch(CM, key, mergePatch({ data: { b: '2' } }));
  await client.patch(CM, key, jsonPatch([{ op: 'remove', path: '/data/a' }]));
  expect((await client.get(CM, key)).data).toEqual({ b: '2' });

  const applied = await client.apply(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied', namespace: NS },
      data: { x: 'mine' },
    },
    { fieldManager: 'manager-one' },
  );
  expect(applied.metadata?.managedFields?.map((f) => f.manager)).toContain('manager-one');
  const contested = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'applied', namespace: NS },
    data: { x: 'theirs' },
  };
  await expect(client.apply(contested, { fieldManager: 'manager-two' })).rejects.toThrow(ConflictError);
  const forced = await client.patch(
    CM,
    { namespace: NS, name: 'applied' },
    applyPatch(contested, { fieldManager: 'manager-two', force: true }),
  );
  expect(forced.data).toEqual({ x: 'theirs' });
});

test('delete with preconditions and propagation policy', async () => {
  const obj = await client.create(cm('doomed'));
  const key = { namespace: NS, name: 'doomed' };
  await expect(client.delete(CM, key, { preconditions: { uid: 'not-the-uid' } })).rejects.toThrow(
    ConflictError,
  );
  await client.delete(CM, key, {
    preconditions: { uid: obj.metadata!.uid! },
    propagationPolicy: 'Foreground',
  });
  // Foreground deletion holds the object with a finalizer until its dependents are gone; this
  // control plane runs no garbage collector, so release it by hand.
  const held = await client.get(CM, key);
  expect(held.metadata?.finalizers).toEqual(['foregroundDeletion']);
  expect(held.metadata?.deletionTimestamp).toBeDefined();
  await client.patch(CM, key, mergePatch({ metadata: { finalizers: null } }));
  await expect(client.get(CM, key)).rejects.toThrow(NotFoundError);
  await expect(client.delete(CM, key)).rejects.toThrow(NotFoundError);
});

test('custom resources through discovery: generation bumps on spec, status only through the subresource', async () => {
  expect(await client.isNamespaced(WIDGET)).toBe(true);
  const w = await client.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Widget',
    metadata: { name: 'w', namespace: NS },
    spec: { size: 1 },
  });
  expect(w.metadata?.generation).toBe(1);
  const ignoredStatus = await client.update({ ...w, status: { phase: 'Ignored' } });
  expect(ignoredStatus.status).toBeUndefined();
  const withStatus = await client.updateStatus({ ...ignoredStatus, status: { phase: 'Ready' } });
  expect(withStatus.status).toEqual({ phase: 'Ready' });
  expect(withStatus.metadata?.generation).toBe(1);
  const bigger = await client.patch(WIDGET, { namespace: NS, name: 'w' }, mergePatch({ spec: { size: 2 } }));
  expect(bigger.metadata?.generation).toBe(2);
  const patched = await client.patchStatus(
    WIDGET,
    { namespace: NS, name: 'w' },
    mergePatch({ status: { phase: 'Done' } }),
  );
  expect(patched.status).toEqual({ phase: 'Done' });
});

test('Lease MicroTime fields: Dates and microTime() strings are accepted and read back with microseconds', async () => {
  const now = Date.now();
  await client.create({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'lease', namespace: NS },
    spec: {
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: new Date(now),
      renewTime: microTime(now),
    },
  });
  const lease = await client.get<KubernetesObject & { spec: { acquireTime: string; renewTime: string } }>(
    LEASE,
    {
      namespace: NS,
      name: 'lease',
    },
  );
  expect(lease.spec.renewTime).toBe(microTime(now));
  expect(lease.spec.acquireTime).toBe(microTime(now));
});

test('watch streams create, update and delete', async () => {
  const start = await client.list(CM, { namespace: NS, limit: 1 });
  const ac = new AbortController();
  const seen: string[] = [];
  const watching = (async () => {
    for await (const ev of client.watch(CM, {
      namespace: NS,
      resourceVersion: start.metadata.resourceVersion,
      signal: ac.signal,
    })) {
      if (ev.object.metadata?.name === 'watched') seen.push(ev.type);
      if (seen.length === 3) ac.abort();
    }
  })();
  await client.create(cm('watched'));
  await client.patch(CM, { namespace: NS, name: 'watched' }, mergePatch({ data: { x: 'y' } }));
  await client.delete(CM, { namespace: NS, name: 'watched' });
  await watching;
  expect(seen).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
});

test('requests are counted by code, method and host', async () => {
  const text = await registry.getSingleMetricAsString('rest_client_requests_total');
  const host = new URL(cp.server).host;
  expect(text).toContain(`code="201",method="POST",host="${host}"`);
  expect(text).toContain(`code="404",method="GET",host="${host}"`);
  expect(text).toContain(`code="409",method="PUT",host="${host}"`);
});
