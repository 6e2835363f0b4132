// The tenant policy against a real kube-apiserver, from the point of view of a Session author:
// jane may create Sessions in two namespaces but not pods, Jobs or Secrets. Each namespace has
// the things she would like to reach: a ServiceAccount bound to cluster-admin, a Secret, a
// ConfigMap, another app's Service. One operator watches `strict` with the built-in defaults,
// another watches `loose` with a loosened policy; every escalation must end Failed/PolicyViolation
// with no Job, and what the loosened policy allows must reach the Job's pod.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { DEFAULT_TENANT_POLICY, type Job, parseTenantPolicy } from '../../controllers/session/index.js';
import { KubeClient, type KubernetesObject } from '../../lib/index.js';
import { type ControlPlane, startControlPlane, waitFor, waitForEvents } from '../../lib/testing/index.js';
import {
  installCrd,
  JOB,
  ROOT,
  type SessionObj,
  session,
  startOperator,
  waitJob,
} from './session-helpers.js';

const STRICT = 'strict';
const LOOSE = 'loose';

const LOOSE_POLICY = parseTenantPolicy({
  serviceAccounts: { allowed: ['builder'], automountToken: true },
  secrets: { allowed: ['shared-ca'] },
  configMaps: { allowed: ['app-config'] },
  tolerations: { allowed: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }] },
  nodeSelector: { allowed: [{ key: 'pool', values: ['batch'] }] },
  labels: { serviceSelectorKeys: ['app'] },
  resources: { max: { cpu: '2', memory: '4Gi' } },
});

let cp: ControlPlane;
let admin: KubeClient;
let jane: KubeClient;
const operators: Array<{ stop: () => Promise<void> }> = [];

beforeAll(async () => {
  cp = await startControlPlane();
  admin = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  await installCrd(admin);
  for (const ns of [STRICT, LOOSE]) await tenantNamespace(ns);
  jane = new KubeClient(await cp.userKubeConfig('jane'), { qps: 500, burst: 500 });
  operators.push(await startOperator(cp.kubeConfig, { namespaces: [STRICT] }));
  operators.push(await startOperator(cp.kubeConfig, { namespaces: [LOOSE], tenantPolicy: LOOSE_POLICY }));
});
afterAll(async () => {
  for (const op of operators) await op.stop();
  jane?.close();
  admin?.close();
  await cp?.stop();
});

/** A namespace with what an escalation would reach, and jane as a Session author in it. */
async function tenantNamespace(ns: string): Promise<void> {
  const v1 = (kind: string, name: string, rest: object = {}) => ({
    apiVersion: 'v1',
    kind,
    metadata: { namespace: ns, name },
    ...rest,
  });
  const rbac = (kind: string, name: string, rest: object) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: kind.startsWith('Cluster') ? { name } : { namespace: ns, name },
    ...rest,
  });
  for (const obj of [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    v1('ServiceAccount', 'admin-sa'),
    v1('ServiceAccount', 'builder'),
    // The namespace's most powerful ServiceAccount.
    rbac('ClusterRoleBinding', `${ns}-admin-sa`, {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'admin-sa', namespace: ns }],
    }),
    v1('Secret', 'db-password', { stringData: { password: 'hunter2' } }),
    v1('Secret', 'shared-ca', { stringData: { 'ca.crt': 'x' } }),
    v1('ConfigMap', 'app-config', { data: { a: '1' } }),
    v1('ConfigMap', 'payments-config', { data: { a: '1' } }),
    // Another app's Service: a pod labelled app=payments would receive its traffic.
    v1('Service', 'payments', { spec: { selector: { app: 'payments' }, ports: [{ port: 80 }] } }),
    rbac('Role', 'session-author', {
      rules: [
        { apiGroups: ['steward.dev'], resources: ['sessions'], verbs: ['create', 'get', 'list', 'watch'] },
      ],
    }),
    rbac('RoleBinding', 'jane-session-author', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'session-author' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'jane' }],
    }),
  ]) {
    await admin.create(obj as KubernetesObject);
  }
}

async function submit(ns: string, name: string, template: object): Promise<void> {
  await jane.create({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { namespace: ns, name },
    spec: { template },
  });
}

async function withPhase(ns: string, name: string): Promise<SessionObj> {
  return waitFor(
    async () => {
      const s = await session(admin, ns, name);
      return s.status?.phase ? s : undefined;
    },
    { description: `${ns}/${name} has a phase`, intervalMs: 50 },
  );
}

/** The Session ended Failed/PolicyViolation naming `rule` and `value`, with an event and no Job. */
async function expectRefused(ns: string, name: string, rule: string, value: string): Promise<void> {
  const s = await withPhase(ns, name);
  expect([name, s.status?.phase, s.status?.reason]).toEqual([name, 'Failed', 'PolicyViolation']);
  expect(s.status?.message).toContain(`Tenant policy rule ${rule}: spec.template.`);
  expect(s.status?.message).toContain(value);
  const jobs = await admin.list(JOB, { namespace: ns, labelSelector: { 'steward.dev/session': name } });
  expect(jobs.items).toEqual([]);
  await waitForEvents(admin, ns, name, ['PolicyViolation']);
}

/** The pod template of the Session's first Job. */
async function podOf(
  ns: string,
  name: string,
): Promise<Record<string, unknown> & { containers: Array<Record<string, unknown>> }> {
  const job: Job = await waitJob(admin, ns, name, 1);
  return job.spec!.template!.spec as never;
}

test('jane can create Sessions, but not pods or Jobs, and cannot read Secrets', async () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: STRICT, name: 'p' },
    spec: { containers: [{ name: 'c', image: 'x' }] },
  };
  await expect(jane.create(pod)).rejects.toThrow(/forbidden/i);
  await expect(jane.create({ ...pod, apiVersion: 'batch/v1', kind: 'Job' })).rejects.toThrow(/forbidden/i);
  await expect(
    jane.get({ group: '', version: 'v1', kind: 'Secret' }, { namespace: STRICT, name: 'db-password' }),
  ).rejects.toThrow(/forbidden/i);
  await submit(STRICT, 'can-submit', {});
  expect((await withPhase(STRICT, 'can-submit')).status?.phase).toBe('Starting');
});

describe('the shipped defaults block each escalation of the issue', () => {
  test.each([
    ['most-powerful-sa', { serviceAccountName: 'admin-sa' }, 'serviceAccounts.allowed', '"admin-sa"'],
    [
      'unreadable-secret',
      {
        env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-password', key: 'password' } } }],
      },
      'secrets.allowed',
      '"db-password"',
    ],
    [
      'tolerate-all',
      { tolerations: [{ operator: 'Exists' }] },
      'tolerations.allowed',
      '{"operator":"Exists"}',
    ],
    ['join-service', { labels: { app: 'payments' } }, 'labels.serviceSelectorKeys', '"payments"'],
    [
      'apparmor-unconfined',
      { annotations: { 'container.apparmor.security.beta.kubernetes.io/session': 'unconfined' } },
      'annotations.deniedKeys',
      '"unconfined"',
    ],
  ])('%s → Failed/PolicyViolation', async (name, template, rule, value) => {
    await submit(STRICT, name, template);
    await expectRefused(STRICT, name, rule, value);
  });

  test('a Session within the defaults runs, with no API token in its pod', async () => {
    await submit(STRICT, 'harmless', {
      labels: { team: 'a' },
      resources: { limits: { cpu: '1', memory: '1Gi' } },
    });
    const pod = await podOf(STRICT, 'harmless');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBeUndefined();
  });
});

// Each rule: an escalation refused in both namespaces (by the defaults, and by a loosened policy
// that does not list it), and the variant the loosened policy allows reaching the pod.
describe.each([
  {
    rule: 'serviceAccounts.allowed',
    denied: { serviceAccountName: 'admin-sa' },
    allowed: { serviceAccountName: 'builder' },
    reached: (pod: Pod) => [pod.serviceAccountName, pod.automountServiceAccountToken],
    want: ['builder', undefined],
  },
  {
    rule: 'secrets.allowed',
    denied: { envFrom: [{ secretRef: { name: 'db-password' } }] },
    allowed: { envFrom: [{ secretRef: { name: 'shared-ca' } }] },
    reached: (pod: Pod) => pod.containers[0]!.envFrom,
    want: [{ secretRef: { name: 'shared-ca' } }],
  },
  {
    rule: 'configMaps.allowed',
    denied: { env: [{ name: 'C', valueFrom: { configMapKeyRef: { name: 'payments-config', key: 'a' } } }] },
    allowed: { env: [{ name: 'C', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'a' } } }] },
    reached: (pod: Pod) => (pod.containers[0]!.env as Array<{ name: string }>).find((e) => e.name === 'C'),
    want: { name: 'C', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'a' } } },
  },
  {
    rule: 'envSources',
    denied: { env: [{ name: 'F', valueFrom: { fileKeyRef: { path: 'f', key: 'k', volumeName: 'v' } } }] },
    allowed: { env: [{ name: 'F', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] },
    reached: (pod: Pod) => (pod.containers[0]!.env as Array<{ name: string }>).find((e) => e.name === 'F'),
    want: { name: 'F', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
  },
  {
    rule: 'tolerations.allowed',
    denied: { tolerations: [{ key: 'dedicated', operator: 'Exists' }] },
    allowed: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }] },
    reached: (pod: Pod) => pod.tolerations,
    want: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
  },
  {
    rule: 'nodeSelector.allowed',
    denied: { nodeSelector: { 'node-role.kubernetes.io/control-plane': '' } },
    allowed: { nodeSelector: { pool: 'batch' } },
    reached: (pod: Pod) => pod.nodeSelector,
    want: { pool: 'batch' },
  },
  {
    rule: 'labels.deniedKeys',
    denied: { labels: { 'app.kubernetes.io/name': 'payments' } },
    allowed: { labels: { team: 'a' } },
    reached: (_pod: Pod, job: Job) => job.spec!.template!.metadata!.labels!.team,
    want: 'a',
  },
  {
    rule: 'labels.serviceSelectorKeys',
    denied: { labels: { app: 'payments' } },
    allowed: { labels: { owner: 'jane' } },
    reached: (_pod: Pod, job: Job) => job.spec!.template!.metadata!.labels!.owner,
    want: 'jane',
  },
  {
    rule: 'annotations.deniedKeys',
    denied: { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } },
    allowed: { annotations: { 'example.com/note': 'x' } },
    reached: (_pod: Pod, job: Job) => job.spec!.template!.metadata!.annotations!['example.com/note'],
    want: 'x',
  },
  {
    rule: 'resources.max',
    denied: { resources: { limits: { cpu: '8' } } },
    allowed: { resources: { limits: { cpu: '2', memory: '4Gi' } } },
    reached: (pod: Pod) => (pod.containers[0]!.resources as { limits?: unknown }).limits,
    want: { cpu: '2', memory: '4Gi' },
  },
])('rule $rule', ({ rule, denied, allowed, reached, want }) => {
  const id = rule.replace(/[^a-z]+/gi, '-').toLowerCase();
  test('refused under the defaults and under a policy that does not allow it', async () => {
    await Promise.all([submit(STRICT, `${id}-denied`, denied), submit(LOOSE, `${id}-denied`, denied)]);
    for (const ns of [STRICT, LOOSE]) await expectRefused(ns, `${id}-denied`, rule, '');
  });
  test('allowed by the loosened policy: it reaches the pod', async () => {
    await submit(LOOSE, `${id}-allowed`, allowed);
    const job: Job = await waitJob(admin, LOOSE, `${id}-allowed`, 1);
    expect(reached(job.spec!.template!.spec as Pod, job)).toEqual(want);
    expect((await withPhase(LOOSE, `${id}-allowed`)).status?.phase).toBe('Starting');
  });
});

type Pod = Record<string, unknown> & { containers: Array<Record<string, unknown>> };

describe('the manager process', () => {
  const MANAGER = join(ROOT, 'dist', 'cmd', 'manager.js');
  const dir = mkdtempSync(join(tmpdir(), 'tenant-policy-'));

  test('a bad policy file: exit 2 and one line naming the field', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'serviceAccounts:\n  allowed: [builder]\n  automountToken: sometimes\n');
    const r = spawnSync(process.execPath, [MANAGER, '--tenant-policy', path], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `manager: option '--tenant-policy <path>': ${path}: serviceAccounts.automountToken: must be true or false\n`,
    );
  });

  test('--print-tenant-policy prints the shipped defaults', () => {
    const r = spawnSync(process.execPath, [MANAGER, '--print-tenant-policy'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(parseTenantPolicy(load(r.stdout))).toEqual(DEFAULT_TENANT_POLICY);
  });
});
