// The shipped RBAC, both ways of installing it, against a real kube-apiserver with an audit log
// and the OwnerReferencesPermissionEnforcement admission plugin (which checks the
// sessions/finalizers grant behind the Jobs' blockOwnerDeletion owner references):
// - cluster-wide (manifests/rbac): the operator (Session and Workflow controllers) works as its
//   ServiceAccount, and every write verb the ClusterRole grants is one the audit log shows it
//   using;
// - namespaced (manifests/namespaced, built with kubectl kustomize as users would): the operator
//   works in the namespaces it was given Roles in, with the overlay's --watch-namespaces, and
//   has no rights anywhere else.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { KubeClient, type KubernetesObject } from '../../lib/index.js';
import {
  type ControlPlane,
  installCRDs,
  locateBinaries,
  startControlPlane,
  waitFor,
  waitForEvents,
} from '../../lib/testing/index.js';
import {
  apply,
  createSession,
  finishJob,
  manifests,
  playPod,
  ROOT,
  session,
  waitJob,
  waitPhase,
} from './session-helpers.js';
import { createWorkflow, installWorkflowCRDs, startOperator, waitWorkflow } from './workflow-helpers.js';

const SA_USER = 'system:serviceaccount:steward-system:steward-manager';
const SA_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:steward-system'];
const SESSION = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
const SCHEDULE = { group: 'steward.dev', version: 'v1alpha1', kind: 'Schedule' };
const IMG = { template: { image: 'busybox:1.36' } };

let cp: ControlPlane;
let admin: KubeClient;
let dir: string;
let auditLog: string;

beforeAll(async () => {
  // The control plane's directory does not exist before it starts: the audit files go in one
  // of the test's own.
  dir = mkdtempSync(join(tmpdir(), 'steward-rbac-'));
  const policy = join(dir, 'audit-policy.yaml');
  auditLog = join(dir, 'audit.log');
  writeFileSync(
    policy,
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      'omitStages: [RequestReceived, ResponseStarted]',
      'rules:',
      `  - level: Metadata`,
      `    users: ['${SA_USER}']`,
      '  - level: None',
      '',
    ].join('\n'),
  );
  cp = await startControlPlane({
    apiServerFlags: [
      '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
      `--audit-policy-file=${policy}`,
      `--audit-log-path=${auditLog}`,
      '--audit-log-mode=blocking',
    ],
  });
  admin = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  await installWorkflowCRDs(admin);
  await installCRDs(admin, [join(ROOT, 'manifests', 'crd', 'steward.dev_schedules.yaml')]);
  await apply(
    admin,
    manifests('manager').filter((o) => o.kind === 'Namespace'),
  );
});
afterAll(async () => {
  admin?.close();
  await cp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { apiGroup?: string; resource?: string; subresource?: string; namespace?: string };
  responseStatus?: { code?: number };
}

const auditLines = () => readFileSync(auditLog, 'utf8').split('\n');

/**
 * What the operator's ServiceAccount did after line `from` of the audit log, per
 * `group/resource[/subresource]: verb`, with the response codes.
 */
function auditedRequests(from = 0): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const line of auditLines().slice(from)) {
    if (!line) continue;
    const e = JSON.parse(line) as AuditEvent;
    if (e.user.username !== SA_USER || !e.objectRef?.resource) continue;
    const r = e.objectRef;
    const key = `${r.apiGroup ?? ''}/${r.resource}${r.subresource ? `/${r.subresource}` : ''}: ${e.verb}`;
    if (!out.has(key)) out.set(key, new Set());
    out.get(key)!.add(e.responseStatus?.code ?? 0);
  }
  return out;
}

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
const grants = (rules: Rule[]) =>
  rules.flatMap((r) =>
    r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}: ${v}`))),
  );
const WRITES = /: (create|update|patch|delete)$/;

/** Drives Sessions through every path that writes: success with a TTL, cancellation, a refusal. */
async function exercise(ns: string): Promise<void> {
  await createSession(admin, ns, 'ok', { ...IMG, ttlSecondsAfterFinished: 0 });
  await waitJob(admin, ns, 'ok', 1);
  await playPod(admin, ns, 'ok', 1, 'running');
  await waitPhase(admin, ns, 'ok', 'Running');
  await finishJob(admin, ns, 'ok-1', 'Complete');
  await waitFor(
    () =>
      session(admin, ns, 'ok').then(
        () => false,
        () => true,
      ),
    {
      description: `${ns}/ok Succeeded and deleted after its TTL`,
    },
  );
  await createSession(admin, ns, 'cancel', IMG);
  await waitJob(admin, ns, 'cancel', 1);
  await admin.patch(
    SESSION,
    { namespace: ns, name: 'cancel' },
    { type: 'merge', body: { spec: { cancel: true } } },
  );
  await waitPhase(admin, ns, 'cancel', 'Cancelled');
  await createSession(admin, ns, 'refused', {
    template: { image: 'busybox:1.36', serviceAccountName: 'admin' },
  });
  expect((await waitPhase(admin, ns, 'refused', 'Failed')).status?.reason).toBe('PolicyViolation');
  // A Workflow: its task's Session created (owned by the Workflow, which needs the
  // workflows/finalizers grant), its status written, then the Workflow deleted after its TTL.
  await createWorkflow(admin, ns, 'flow', {
    ttlSecondsAfterFinished: 0,
    tasks: [{ name: 'a', session: IMG }],
  });
  await waitJob(admin, ns, 'flow-a', 1);
  await finishJob(admin, ns, 'flow-a-1', 'Complete');
  await waitFor(
    () =>
      admin
        .get({ group: 'steward.dev', version: 'v1alpha1', kind: 'Workflow' }, { namespace: ns, name: 'flow' })
        .then(
          () => false,
          () => true,
        ),
    { description: `${ns}/flow Succeeded and deleted after its TTL` },
  );
  // A cancelled Workflow: the running task's Session gets spec.cancel.
  await createWorkflow(admin, ns, 'stopped', { tasks: [{ name: 'a', session: IMG }] });
  await waitJob(admin, ns, 'stopped-a', 1);
  await admin.patch(
    { group: 'steward.dev', version: 'v1alpha1', kind: 'Workflow' },
    { namespace: ns, name: 'stopped' },
    { type: 'merge', body: { spec: { cancel: true } } },
  );
  expect((await waitWorkflow(admin, ns, 'stopped')).status?.phase).toBe('Cancelled');
}

/**
 * Drives Schedules through every path that writes: runs (a Session's and a Workflow's) created,
 * the active one cancelled (Replace), finished ones pruned (history limits 0), the status patched.
 */
async function exerciseSchedule(ns: string): Promise<void> {
  const templates = {
    'every-2s': { sessionTemplate: { spec: IMG } },
    'wf-every-2s': { workflowTemplate: { spec: { tasks: [{ name: 'a', session: IMG }] } } },
  };
  for (const [name, template] of Object.entries(templates)) {
    await admin.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Schedule',
      metadata: { namespace: ns, name },
      spec: {
        schedule: '*/2 * * * * *',
        concurrencyPolicy: 'Replace',
        successfulRunsHistoryLimit: 0,
        failedRunsHistoryLimit: 0,
        ...template,
      },
    });
  }
  for (const name of Object.keys(templates)) {
    await waitForEvents(admin, ns, name, ['SuccessfulDelete'], {
      description: `${ns}/${name}: a run replaced, cancelled and pruned`,
      timeoutMs: 60_000,
    });
    await admin.patch(
      SCHEDULE,
      { namespace: ns, name },
      { type: 'merge', body: { spec: { suspend: true } } },
    );
  }
}

async function asServiceAccount(): Promise<KubeConfig> {
  return cp.userKubeConfig(SA_USER, SA_GROUPS);
}

describe('cluster-wide install (manifests/rbac)', () => {
  afterAll(async () => {
    // The namespaced install below must not inherit these rights.
    const rbac = { group: 'rbac.authorization.k8s.io', version: 'v1' };
    await admin.delete({ ...rbac, kind: 'ClusterRoleBinding' }, { name: 'steward-manager' });
    await admin.delete({ ...rbac, kind: 'ClusterRole' }, { name: 'steward-manager' });
  });

  test('the operator works as its ServiceAccount, and uses every write verb the ClusterRole grants', async () => {
    const rbac = manifests('rbac');
    expect(rbac.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'ServiceAccount',
    ]);
    await apply(admin, rbac);
    await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cluster-wide' } });
    const op = await startOperator(await asServiceAccount(), undefined, {
      leaderElection: true,
      schedules: true,
    });
    try {
      await exercise('cluster-wide');
      await exerciseSchedule('cluster-wide');
      const metrics = await (await fetch(`http://${op.mgr.metricsAddress}/metrics`)).text();
      expect(metrics).not.toMatch(/rest_client_requests_total\{code="403"/);
    } finally {
      await op.stop();
    }
    const used = auditedRequests();
    const forbidden = [...used].filter(([, codes]) => codes.has(403)).map(([k]) => k);
    expect(forbidden).toEqual([]);
    const granted = rbac
      .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
      .flatMap((o) => grants((o as unknown as { rules: Rule[] }).rules));
    // Not requests of their own, so not in the audit log: events are patched only when a repeat
    // is aggregated, and the finalizers updates are what the admission plugin checks for the
    // owner references with blockOwnerDeletion (of the Jobs, the tasks' Sessions and the
    // Schedules' runs): it would have refused those creates above without them.
    const notRequests = new Set([
      '/events: patch',
      'steward.dev/sessions/finalizers: update',
      'steward.dev/workflows/finalizers: update',
      'steward.dev/schedules/finalizers: update',
    ]);
    const unused = granted.filter((g) => WRITES.test(g) && !notRequests.has(g) && !used.has(g));
    expect(unused).toEqual([]);
    const writes = [...used.keys()].filter((k) => WRITES.test(k)).sort();
    expect(writes).toEqual(
      [
        '/events: create',
        'batch/jobs: create',
        'batch/jobs: delete',
        'coordination.k8s.io/leases: create',
        'coordination.k8s.io/leases: update',
        'steward.dev/sessions: create',
        'steward.dev/sessions: delete',
        'steward.dev/sessions: patch',
        'steward.dev/sessions/status: patch',
        'steward.dev/schedules/status: patch',
        'steward.dev/workflows: create',
        'steward.dev/workflows: delete',
        'steward.dev/workflows: patch',
        'steward.dev/workflows/status: patch',
      ].sort(),
    );
  });
});

describe('namespaced install (manifests/namespaced)', () => {
  const kubectl = locateBinaries().kubectl;
  const build = (dir: string) =>
    (
      loadAll(
        execFileSync(kubectl, ['kustomize', join(ROOT, 'manifests', dir)]).toString(),
      ) as KubernetesObject[]
    ).filter(Boolean);

  test('rights in the watched namespaces only; the operator works there with the overlay’s --watch-namespaces', async () => {
    const objects = build('namespaced');
    expect(
      objects.filter((o) => o.kind?.startsWith('Cluster') && o.kind !== 'CustomResourceDefinition'),
    ).toEqual([]);
    const deployment = objects.find((o) => o.kind === 'Deployment') as KubernetesObject & {
      spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
    };
    const watch = deployment.spec.template.spec.containers[0]!.args.find((a) =>
      a.startsWith('--watch-namespaces='),
    )!;
    const namespaces = watch.split('=')[1]!.split(',');
    expect(namespaces).toEqual(['sessions']);
    // Everything the overlay makes (the Deployment only sits there: no controllers run here).
    await apply(
      admin,
      objects.filter((o) => o.kind !== 'CustomResourceDefinition'),
    );
    // A second watched namespace the way docs/operations.md says, as `kubectl apply -n`.
    await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } });
    await apply(
      admin,
      build('rbac/namespaced').map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'team-b' } })),
    );
    await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'unwatched' } });

    const sa = await asServiceAccount();
    const saClient = new KubeClient(sa);
    try {
      await expect(saClient.list(SESSION)).rejects.toThrow(/forbidden/i);
      await expect(saClient.list(SESSION, { namespace: 'unwatched' })).rejects.toThrow(/forbidden/i);
      await expect(
        saClient.list({ group: '', version: 'v1', kind: 'Secret' }, { namespace: 'sessions' }),
      ).rejects.toThrow(/forbidden/i);
    } finally {
      saClient.close();
    }
    const mark = auditLines().length - 1;
    const op = await startOperator(sa, [...namespaces, 'team-b'], { leaderElection: true, schedules: true });
    try {
      await exercise('sessions');
      await exerciseSchedule('sessions');
      await exercise('team-b');
      await createSession(admin, 'unwatched', 'ignored', IMG);
      const metrics = await (await fetch(`http://${op.mgr.metricsAddress}/metrics`)).text();
      expect(metrics).not.toMatch(/rest_client_requests_total\{code="403"/);
    } finally {
      await op.stop();
    }
    expect((await session(admin, 'unwatched', 'ignored')).status).toBeUndefined();
    const forbidden = [...auditedRequests(mark)].filter(([, codes]) => codes.has(403)).map(([k]) => k);
    expect(forbidden).toEqual([]);
  });

  test('the overlay carries the tenant policy ConfigMap the Deployment mounts', () => {
    const objects = build('namespaced');
    const cm = objects.find((o) => o.kind === 'ConfigMap') as KubernetesObject & {
      data: Record<string, string>;
    };
    expect(cm.metadata!.name).toMatch(/^steward-tenant-policy-/);
    expect(load(cm.data['tenant-policy.yaml']!)).toMatchObject({ serviceAccounts: { allowed: [] } });
    const deployment = JSON.stringify(objects.find((o) => o.kind === 'Deployment'));
    expect(deployment).toContain(`"name":"${cm.metadata!.name}"`);
  });
});
