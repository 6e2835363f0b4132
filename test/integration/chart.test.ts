// charts/steward: helm lint, helm template for the default, HA and namespaced values, and
// kubectl apply --dry-run=server of what it renders (and of -k manifests) against a real API
// server. The chart's CRDs, RBAC rules, alerts and dashboard are links to manifests/, so the
// two installs cannot drift; these tests hold that.
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { KubeClient, type KubernetesObject } from '../../lib/index.js';
import { type ControlPlane, startControlPlane } from '../../lib/testing/index.js';
import { byKind, CHART, hack, render, renderText } from './chart-helpers.js';
import { ROOT } from './session-helpers.js';

interface Container {
  args: string[];
  image: string;
  securityContext: unknown;
  resources: { limits: unknown };
}
interface Deployment extends KubernetesObject {
  spec: {
    replicas: number;
    template: {
      spec: { securityContext: unknown; topologySpreadConstraints?: unknown[]; containers: Container[] };
    };
  };
}
const deployment = (objs: KubernetesObject[]) => byKind(objs, 'Deployment')[0] as Deployment;
const specOf = <T>(obj: KubernetesObject | undefined) => (obj as KubernetesObject & { spec: T }).spec;

let cp: ControlPlane;
let client: KubeClient;
const kubectl = (args: string[], input?: string) =>
  hack('kubectl.sh', ['--kubeconfig', cp.kubeconfigPath, ...args], { input });

/** Enough of the Prometheus Operator's CRDs for the API server to accept its objects. */
const monitoringCrd = (kind: string, plural: string): KubernetesObject => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.monitoring.coreos.com` },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
});

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 100, burst: 100 });
});
afterAll(async () => {
  client?.close();
  await cp?.stop();
});

test('helm lint --strict passes for every values file', async () => {
  for (const values of [[], ['ci/ha-values.yaml'], ['ci/namespaced-values.yaml']]) {
    const out = await hack('helm.sh', [
      'lint',
      '--strict',
      CHART,
      ...values.flatMap((v) => ['--values', join(CHART, v)]),
    ]);
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

test('kubectl apply -k manifests works on a clean cluster, and its server-side dry run too', async () => {
  // One apply: the Namespace goes first, then everything in it (no "namespace not found").
  const out = await kubectl(['apply', '-k', join(ROOT, 'manifests')]);
  expect(out).toMatch(/^namespace\/steward-system created$/m);
  expect(out).toMatch(/^deployment.apps\/steward-manager created$/m);
  expect(await kubectl(['apply', '--dry-run=server', '-k', join(ROOT, 'manifests')])).toMatch(
    /deployment.apps\/steward-manager (unchanged|configured) \(server dry run\)/,
  );
});

test('the default and the HA renderings pass a server-side dry run', async () => {
  for (const crd of [
    monitoringCrd('ServiceMonitor', 'servicemonitors'),
    monitoringCrd('PrometheusRule', 'prometheusrules'),
  ])
    await client.create(crd);
  await kubectl([
    'wait',
    '--for',
    'condition=established',
    '--timeout=60s',
    'crd/servicemonitors.monitoring.coreos.com',
    'crd/prometheusrules.monitoring.coreos.com',
  ]);
  await kubectl(['create', 'namespace', 'chart-test']);
  for (const values of [[], ['ci/ha-values.yaml']]) {
    const yaml = await renderText({ values, crds: true, namespace: 'chart-test' });
    const out = await kubectl(['apply', '--dry-run=server', '-f', '-'], yaml);
    expect(out).toMatch(
      /deployment.apps\/steward-steward created \(server dry run\)|deployment.apps\/steward created \(server dry run\)/,
    );
    expect(out).not.toMatch(/error/i);
  }
  for (const ns of ['team-a', 'team-b']) await kubectl(['create', 'namespace', ns]);
  const namespaced = await renderText({ values: ['ci/namespaced-values.yaml'], namespace: 'chart-test' });
  expect(await kubectl(['apply', '--dry-run=server', '-f', '-'], namespaced)).toMatch(
    /role.rbac.authorization.k8s.io\/steward created \(server dry run\)/,
  );
});

describe('what the chart renders', () => {
  test('default: one replica with leader election, restricted pod security, no PDB, no monitoring', async () => {
    const objs = await render();
    const deploy = deployment(objs);
    expect(deploy.spec.replicas).toBe(1);
    const pod = deploy.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0]!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.containers[0]!.args).toEqual(
      expect.arrayContaining([
        '--leader-elect=true',
        '--max-concurrent-reconciles=10',
        '--kube-api-qps=20',
        '--kube-api-burst=30',
      ]),
    );
    expect(pod.containers[0]!.image).toBe('ghcr.io/steward-dev/steward:0.1.0');
    for (const kind of ['PodDisruptionBudget', 'ServiceMonitor', 'PrometheusRule'])
      expect(byKind(objs, kind)).toEqual([]);
    expect(byKind(objs, 'ConfigMap').map((c) => c.metadata!.name)).toEqual(['steward-tenant-policy']);
    expect(byKind(objs, 'ClusterRole')).toHaveLength(1);
  });

  test('HA: replicas, PDB, spread, flags, resources and the monitoring objects', async () => {
    const objs = await render({ values: ['ci/ha-values.yaml'] });
    const deploy = deployment(objs);
    expect(deploy.spec.replicas).toBe(3);
    expect(deploy.spec.template.spec.topologySpreadConstraints).toHaveLength(2);
    expect(deploy.spec.template.spec.containers[0]!.args).toEqual(
      expect.arrayContaining([
        '--max-concurrent-reconciles=20',
        '--kube-api-qps=100',
        '--runner-image=busybox:1.36',
      ]),
    );
    expect(deploy.spec.template.spec.containers[0]!.resources.limits).toEqual({ cpu: '1', memory: '1Gi' });
    expect(specOf<{ minAvailable: number }>(byKind(objs, 'PodDisruptionBudget')[0]).minAvailable).toBe(2);
    expect(byKind(objs, 'ServiceMonitor')).toHaveLength(1);
    // The alerts and the dashboard are manifests/' own.
    const rules = load(readFileSync(join(ROOT, 'manifests/prometheus/rules.yaml'), 'utf8')) as {
      groups: unknown;
    };
    expect(specOf<{ groups: unknown }>(byKind(objs, 'PrometheusRule')[0]).groups).toEqual(rules.groups);
    const dashboard = (
      byKind(objs, 'ConfigMap').find((c) => c.metadata!.name!.endsWith('dashboard')) as KubernetesObject & {
        data: Record<string, string>;
      }
    ).data['steward-dashboard.json']!;
    expect(JSON.parse(dashboard)).toEqual(
      JSON.parse(readFileSync(join(ROOT, 'manifests/grafana/steward-dashboard.json'), 'utf8')),
    );
  });

  test('namespaced RBAC: a Role per watched namespace, the same rules, nothing cluster-wide', async () => {
    const objs = await render({ values: ['ci/namespaced-values.yaml'] });
    expect(byKind(objs, 'ClusterRole')).toEqual([]);
    expect(byKind(objs, 'ClusterRoleBinding')).toEqual([]);
    const roles = byKind(objs, 'Role').filter((r) => !r.metadata!.name!.endsWith('leader-election'));
    expect(roles.map((r) => r.metadata!.namespace)).toEqual(['team-a', 'team-b']);
    const manifestRole = load(readFileSync(join(ROOT, 'manifests/rbac/role.yaml'), 'utf8')) as {
      rules: unknown;
    };
    for (const r of roles) expect(r.rules).toEqual(manifestRole.rules);
    const deploy = deployment(objs);
    expect(deploy.spec.template.spec.containers[0]!.args).toContain('--namespace=team-a,team-b');
  });

  test('the tenant policy: manifests/ default, or the values', async () => {
    const cm = (objs: KubernetesObject[]) =>
      (
        byKind(objs, 'ConfigMap').find((c) =>
          c.metadata!.name!.endsWith('tenant-policy'),
        ) as KubernetesObject & {
          data: Record<string, string>;
        }
      ).data['tenant-policy.yaml']!;
    expect(cm(await render())).toBe(
      readFileSync(join(ROOT, 'manifests/manager/tenant-policy.yaml'), 'utf8').trimEnd(),
    );
    const custom = await render({ set: ['tenantPolicy.policy.serviceAccounts.allowed[0]=builder'] });
    expect(load(cm(custom))).toEqual({ serviceAccounts: { allowed: ['builder'] } });
    expect(deployment(custom).spec.template.spec.containers[0]!.args).toContain(
      '--tenant-policy=/etc/steward/tenant-policy.yaml',
    );
    // A changed policy rolls the pods.
    const annotation = (objs: KubernetesObject[]) =>
      (deployment(objs).spec.template as unknown as { metadata: { annotations: Record<string, string> } })
        .metadata.annotations['steward.dev/tenant-policy-sha256'];
    expect(annotation(custom)).not.toBe(annotation(await render()));
  });

  test('cluster RBAC and the CRDs are exactly manifests/ ones', async () => {
    const objs = await render({ crds: true });
    const manifestRole = load(readFileSync(join(ROOT, 'manifests/rbac/role.yaml'), 'utf8')) as {
      rules: unknown;
    };
    expect(byKind(objs, 'ClusterRole')[0]!.rules).toEqual(manifestRole.rules);
    const le = load(readFileSync(join(ROOT, 'manifests/rbac/leader_election_role.yaml'), 'utf8')) as {
      rules: unknown;
    };
    expect(byKind(objs, 'Role')[0]!.rules).toEqual(le.rules);
    // Every CRD of manifests/crd is in the chart's crds/, as a link to it.
    const crdDir = join(ROOT, 'manifests', 'crd');
    const sources = readdirSync(crdDir).filter(
      (f) =>
        f.endsWith('.yaml') &&
        f !== 'kustomization.yaml' &&
        (loadAll(readFileSync(join(crdDir, f), 'utf8')) as KubernetesObject[]).every(
          (o) => o.kind === 'CustomResourceDefinition',
        ),
    );
    const links = readdirSync(join(CHART, 'crds')).map((f) => realpathSync(join(CHART, 'crds', f)));
    expect(links.sort()).toEqual(sources.map((f) => join(crdDir, f)).sort());
    for (const f of readdirSync(join(CHART, 'crds')))
      expect(readlinkSync(join(CHART, 'crds', f))).toMatch(/^\.\.\/\.\.\/\.\.\/manifests\/crd\//);
    const rendered = byKind(objs, 'CustomResourceDefinition')
      .map((c) => c.metadata!.name)
      .sort();
    const expected = sources
      .flatMap((f) => loadAll(readFileSync(join(crdDir, f), 'utf8')) as KubernetesObject[])
      .map((c) => c.metadata!.name)
      .sort();
    expect(rendered).toEqual(expected);
    // And the admission policy that manifests/crd ships beside them (a Workflow's tasks are
    // immutable), rendered from templates/ as it is: Helm's crds/ takes CRDs only.
    const policy = loadAll(
      readFileSync(join(crdDir, 'workflow-tasks-immutable.yaml'), 'utf8'),
    ) as KubernetesObject[];
    expect(policy.map((o) => o.kind)).toEqual([
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    for (const o of policy) expect(byKind(objs, o.kind!)).toEqual([o]);
    expect(readlinkSync(join(CHART, 'files', 'workflow-tasks-immutable.yaml'))).toBe(
      '../../../manifests/crd/workflow-tasks-immutable.yaml',
    );
  });

  test('values that cannot work fail the render with a reason', async () => {
    await expect(render({ set: ['replicaCount=2', 'leaderElection.enabled=false'] })).rejects.toThrow(
      /replicaCount > 1 needs leaderElection.enabled/,
    );
    await expect(render({ set: ['rbac.scope=namespaced'] })).rejects.toThrow(
      /rbac.scope=namespaced needs manager.watchNamespaces/,
    );
    await expect(render({ set: ['rbac.scope=everything'] })).rejects.toThrow(
      /rbac.scope must be cluster or namespaced/,
    );
  });
});
