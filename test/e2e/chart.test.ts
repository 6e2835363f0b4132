// The Helm chart installed for real: its rendered manifests (CRDs included) applied to the full
// local cluster, then the operator run as the chart's ServiceAccount (a token for it, and the
// chart's RBAC, are all it has) and a Session through to Succeeded on kwok's simulated pods.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, type KubernetesObject } from '../../lib/index.js';
import { type ControlPlane, startControlPlane, waitFor } from '../../lib/testing/index.js';
import { hack, renderText } from '../integration/chart-helpers.js';
import { type OperatorProcess, startOperator } from './operator.js';

const SESSION = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
const LEASE = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' };
const NS = 'steward-system';
let cp: ControlPlane;
let client: KubeClient;
let operator: OperatorProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'steward-chart-'));
const kubectl = (args: string[], input?: string) =>
  hack('kubectl.sh', ['--kubeconfig', cp.kubeconfigPath, ...args], { input });

beforeAll(async () => {
  cp = await startControlPlane({ cluster: true, nodes: { count: 1 } });
  client = new KubeClient(cp.kubeConfig, { qps: 200, burst: 200 });
});
afterAll(async () => {
  await operator?.stop();
  client?.close();
  await cp?.stop();
});

test('installed from the chart, the operator runs a Session with the chart’s RBAC alone', async () => {
  await kubectl(['create', 'namespace', NS]);
  // What `helm install -n steward-system steward charts/steward` would create. The Deployment's
  // pod is kwok's (it runs nothing); the operator runs here, as that pod's ServiceAccount.
  const manifests = await renderText({
    crds: true,
    namespace: NS,
    set: ['manager.runnerImage=busybox:1.36'],
  });
  const applied = await kubectl(['apply', '-f', '-'], manifests);
  expect(applied).toMatch(/^customresourcedefinition.apiextensions.k8s.io\/sessions.steward.dev created$/m);
  expect(applied).toMatch(/^clusterrole.rbac.authorization.k8s.io\/steward created$/m);
  await kubectl(['wait', '--for', 'condition=established', '--timeout=60s', 'crd/sessions.steward.dev']);
  const token = (await kubectl(['create', 'token', 'steward', '-n', NS, '--duration', '1h'])).trim();
  const ca = cp.kubeConfig.getCurrentCluster()!;
  const kubeconfig = join(dir, 'steward-sa.kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: {
            server: cp.server,
            'certificate-authority-data': ca.caData,
            'certificate-authority': ca.caFile,
          },
        },
      ],
      users: [{ name: 'steward', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'steward' } }],
      'current-context': 'c',
    }),
  );
  // The Deployment's arguments, as rendered, with the Lease in the release namespace and the
  // tenant policy read from the chart's ConfigMap (mounted at /etc/steward in the pod).
  const policy = JSON.parse(
    await kubectl(['get', 'configmap', 'steward-tenant-policy', '-n', NS, '-o', 'json']),
  ) as { data: Record<string, string> };
  writeFileSync(join(dir, 'tenant-policy.yaml'), policy.data['tenant-policy.yaml']!);
  const deploy = JSON.parse(await kubectl(['get', 'deploy', 'steward', '-n', NS, '-o', 'json'])) as {
    spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
  };
  const args = deploy.spec.template.spec.containers[0]!.args.filter(
    (a) => !/^--(metrics|health-probe)-bind-address=/.test(a),
  ).map((a) => a.replace(/^--tenant-policy=\/etc\/steward\//, `--tenant-policy=${dir}/`));
  expect(args).toContain(`--tenant-policy=${dir}/tenant-policy.yaml`);
  operator = startOperator(kubeconfig, [...args, `--leader-election-namespace=${NS}`]);
  await client.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { namespace: 'default', name: 'via-chart' },
    spec: { template: { command: ['echo', 'hi'] } },
  });
  const s = await waitFor(
    async () => {
      if (operator!.child.exitCode !== null) throw new Error(`the operator exited:\n${operator!.logs()}`);
      const got = await client.get<KubernetesObject & { status?: { phase?: string } }>(SESSION, {
        namespace: 'default',
        name: 'via-chart',
      });
      return got.status?.phase === 'Succeeded' ? got : undefined;
    },
    { description: 'via-chart Succeeded', timeoutMs: 90_000 },
  );
  expect(s.status?.phase).toBe('Succeeded');
  const lease = await client.get<KubernetesObject & { spec: { holderIdentity?: string } }>(LEASE, {
    namespace: NS,
    name: 'steward-manager',
  });
  expect(lease.spec.holderIdentity).toBeTruthy();
  expect(operator.logs()).not.toMatch(/forbidden/i);
});
