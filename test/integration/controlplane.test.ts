// The test control plane against the API surface the framework relies on: CRDs, custom objects
// (CRUD, watch, the status subresource), Leases and RBAC. One control plane for the whole file.
import {
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  Watch,
} from '@kubernetes/client-node';
import { existsSync } from 'node:fs';

import { startControlPlane, waitFor, type ControlPlane } from '../../lib/testing/index.js';

const GROUP = 'test.steward.dev';
const VERSION = 'v1';
const PLURAL = 'widgets';
const NS = 'default';

interface Widget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number };
  spec?: { size?: number };
  status?: { phase?: string };
}

let cp: ControlPlane;
let objects: CustomObjectsApi;

beforeAll(async () => {
  cp = await startControlPlane();
  objects = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  const crds = cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
  await crds.createCustomResourceDefinition({
    body: {
      metadata: { name: `${PLURAL}.${GROUP}` },
      spec: {
        group: GROUP,
        scope: 'Namespaced',
        names: { plural: PLURAL, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: VERSION,
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: { type: 'integer' } } },
                  status: { type: 'object', properties: { phase: { type: 'string' } } },
                },
              },
            },
          },
        ],
      },
    },
  });
  // Established: the CRD's names are accepted and its REST endpoint is about to serve.
  await waitFor(
    async () => {
      const crd = await crds.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    },
    { description: 'CRD Established' },
  );
  // Established precedes the endpoint by a moment; a list proves the resource is served.
  await waitFor(
    () =>
      objects.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL }),
    {
      description: 'widgets served',
    },
  );
});

afterAll(async () => {
  await cp?.stop();
});

const widget = (name: string, size: number): Widget => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: 'Widget',
  metadata: { name },
  spec: { size },
});
const ref = (name: string) => ({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name });

test('the kubeconfig file and the KubeConfig reach the same apiserver as admin', async () => {
  expect(existsSync(cp.kubeconfigPath)).toBe(true);
  const fromFile = new KubeConfig();
  fromFile.loadFromFile(cp.kubeconfigPath);
  expect(fromFile.getCurrentCluster()?.server).toBe(cp.server);
  const { items } = await fromFile.makeApiClient(CoreV1Api).listNamespace();
  expect(items.map((n) => n.metadata?.name)).toContain('kube-system');
});

test('custom objects: create, get, update, watch and delete', async () => {
  const events: Array<[string, string | undefined, number | undefined]> = [];
  const watch = await new Watch(cp.kubeConfig).watch(
    `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`,
    {},
    (type, obj: Widget) => events.push([type, obj.metadata.name, obj.spec?.size]),
    () => {},
  );
  try {
    const created = (await objects.createNamespacedCustomObject({
      ...ref('w1'),
      body: widget('w1', 1),
    })) as Widget;
    expect(created.metadata.generation).toBe(1);

    const got = (await objects.getNamespacedCustomObject(ref('w1'))) as Widget;
    const updated = (await objects.replaceNamespacedCustomObject({
      ...ref('w1'),
      body: { ...got, spec: { size: 2 } },
    })) as Widget;
    expect(updated.spec?.size).toBe(2);
    expect(updated.metadata.generation).toBe(2);

    // A stale resourceVersion is a conflict, the basis of optimistic concurrency.
    await expect(
      objects.replaceNamespacedCustomObject({ ...ref('w1'), body: { ...got, spec: { size: 3 } } }),
    ).rejects.toMatchObject({ code: 409 });

    await objects.deleteNamespacedCustomObject(ref('w1'));
    await expect(objects.getNamespacedCustomObject(ref('w1'))).rejects.toMatchObject({ code: 404 });

    await waitFor(() => events.some(([type]) => type === 'DELETED'), { description: 'DELETED event' });
    expect(events).toEqual([
      ['ADDED', 'w1', 1],
      ['MODIFIED', 'w1', 2],
      ['DELETED', 'w1', 2],
    ]);
  } finally {
    watch.abort();
  }
});

test('the status subresource: status and spec are written separately', async () => {
  const created = (await objects.createNamespacedCustomObject({
    ...ref('w2'),
    body: { ...widget('w2', 1), status: { phase: 'ignored' } },
  })) as Widget;
  // Status in a create or main-resource update is dropped once the subresource exists.
  expect(created.status).toBeUndefined();

  const withStatus = (await objects.replaceNamespacedCustomObjectStatus({
    ...ref('w2'),
    body: { ...created, spec: { size: 99 }, status: { phase: 'Ready' } },
  })) as Widget;
  expect(withStatus.status?.phase).toBe('Ready');
  expect(withStatus.spec?.size).toBe(1);
  // Status writes do not bump the generation; spec writes do.
  expect(withStatus.metadata.generation).toBe(1);

  const specUpdate = (await objects.replaceNamespacedCustomObject({
    ...ref('w2'),
    body: { ...withStatus, spec: { size: 5 }, status: { phase: 'Overwritten' } },
  })) as Widget;
  expect(specUpdate.status?.phase).toBe('Ready');
  expect(specUpdate.metadata.generation).toBe(2);
  await objects.deleteNamespacedCustomObject(ref('w2'));
});

// MicroTime fields need six fractional digits; client-node writes a Date with three, which the
// apiserver rejects, so Lease times are passed as strings (client-node sends those unchanged).
const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z') as unknown as Date;
const millis = (t: Date | string | undefined) => (t === undefined ? undefined : new Date(t).getTime());

test('Leases: create, renew with a resourceVersion, conflict on a stale one', async () => {
  const leases = cp.kubeConfig.makeApiClient(CoordinationV1Api);
  const now = Date.now();
  const lease = await leases.createNamespacedLease({
    namespace: NS,
    body: {
      metadata: { name: 'steward-test' },
      spec: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      },
    },
  });
  expect(millis(lease.spec?.renewTime)).toBe(now);
  const spec = { ...lease.spec, acquireTime: microTime(now) };
  const renewed = await leases.replaceNamespacedLease({
    name: 'steward-test',
    namespace: NS,
    body: { ...lease, spec: { ...spec, renewTime: microTime(now + 1000) } },
  });
  expect(renewed.spec?.holderIdentity).toBe('a');
  expect(millis(renewed.spec?.renewTime)).toBe(now + 1000);
  // The first read's resourceVersion is stale now: a competing writer loses.
  await expect(
    leases.replaceNamespacedLease({
      name: 'steward-test',
      namespace: NS,
      body: { ...lease, spec: { ...spec, renewTime: microTime(now), holderIdentity: 'b' } },
    }),
  ).rejects.toMatchObject({ code: 409 });
});

test('RBAC: a user without rights is denied until a RoleBinding grants them', async () => {
  const user = await cp.userKubeConfig('jane', ['steward-testers']);
  const janeCore = user.makeApiClient(CoreV1Api);
  await expect(janeCore.listNamespacedConfigMap({ namespace: NS })).rejects.toMatchObject({ code: 403 });
  await expect(janeCore.listNamespace()).rejects.toMatchObject({ code: 403 });

  const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: NS,
    body: {
      metadata: { name: 'configmap-reader' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: NS,
    body: {
      metadata: { name: 'testers-read-configmaps' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
      // Bound to the group: proves the certificate's O entries arrive as groups.
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'steward-testers' }],
    },
  });
  // The authorizer reads RBAC objects from an informer: wait until it has seen the binding.
  await waitFor(() => janeCore.listNamespacedConfigMap({ namespace: NS }), { description: 'jane may list' });
  await expect(janeCore.listNamespace()).rejects.toMatchObject({ code: 403 });

  // The same user as a kubeconfig file (for kubectl or a subprocess) has the same rights.
  const fromFile = new KubeConfig();
  fromFile.loadFromFile(await cp.writeUserKubeconfig('jane', ['steward-testers']));
  expect(fromFile.getCurrentUser()?.name).toBe('jane');
  await fromFile.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: NS });
  await expect(
    janeCore.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'nope' } } }),
  ).rejects.toMatchObject({ code: 403 });
});
