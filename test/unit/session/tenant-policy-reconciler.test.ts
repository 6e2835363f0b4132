// The reconciler's side of the tenant policy: a Session that breaks it ends Failed/PolicyViolation
// with an event and no Job; one within it gets a Job whose pod mounts no API token by default.
import { Registry } from 'prom-client';
import { silentLogger } from '../../../lib/index.js';
import { FakeClient } from '../../../lib/testing/index.js';
import { FakeClock } from '../../../lib/util/clock.js';
import {
  type Job,
  JOB_GVK,
  parseTenantPolicy,
  type Session,
  SESSION_GVK,
  SessionMetrics,
  SessionReconciler,
  type TenantPolicy,
} from '../../../controllers/session/index.js';

const KINDS = [{ gvk: SESSION_GVK, resource: 'sessions', namespaced: true }];

function setup(tenantPolicy?: TenantPolicy) {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const client = new FakeClient({ clock, kinds: KINDS });
  const registry = new Registry();
  const events: Array<{ type: string; reason: string; message: string }> = [];
  const reconciler = new SessionReconciler({
    client,
    clock,
    runnerImage: 'runner:1',
    metrics: new SessionMetrics(registry),
    recorder: { event: (_o, type, reason, message) => events.push({ type, reason, message }) },
    ...(tenantPolicy ? { tenantPolicy } : {}),
  });
  const reconcile = (name: string) => reconciler.reconcile({ namespace: 'ns', name }, ctx());
  const get = (name: string) => client.get<Session>(SESSION_GVK, { namespace: 'ns', name });
  const run = async (name: string, template: object) => {
    await client.create<Session>({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: { namespace: 'ns', name },
      spec: { template },
    });
    await reconcile(name);
    const session = await get(name);
    const jobs = (await client.list<Job>(JOB_GVK, { namespace: 'ns' })).items.filter((j) =>
      j.metadata!.name!.startsWith(`${name}-`),
    );
    return { session, jobs };
  };
  return { run, reconcile, get, client, clock, events, registry };
}

const ctx = () => ({ logger: silentLogger(), signal: new AbortController().signal, reconcileID: 't' });

describe('Session reconciler under the tenant policy', () => {
  test('without a policy given, the defaults apply: a named ServiceAccount → Failed/PolicyViolation, no Job, an event', async () => {
    const { run, events, registry } = setup();
    const { session, jobs } = await run('sa', { serviceAccountName: 'cluster-admin-sa' });
    expect(session.status).toMatchObject({ phase: 'Failed', reason: 'PolicyViolation' });
    expect(session.status?.message).toBe(
      'Tenant policy rule serviceAccounts.allowed: spec.template.serviceAccountName "cluster-admin-sa" is not allowed in namespace ns',
    );
    expect(session.status?.conditions?.find((c) => c.type === 'Finished')).toMatchObject({
      status: 'True',
      reason: 'Failed',
    });
    expect(jobs).toEqual([]);
    expect(events).toEqual([
      { type: 'Warning', reason: 'PolicyViolation', message: session.status?.message },
    ]);
    expect(await registry.metrics()).toContain(
      'steward_session_errors_total{namespace="ns",phase="Pending",error_type="policy_violation"} 1',
    );
  });

  test('each escalation of the issue is refused by the defaults, naming the rule', async () => {
    const { run } = setup();
    const cases: Array<[string, object, string]> = [
      [
        'secret',
        { env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'p' } } }] },
        'secrets.allowed',
      ],
      ['tolerate', { tolerations: [{ operator: 'Exists' }] }, 'tolerations.allowed'],
      ['service', { labels: { app: 'payments' } }, 'labels.serviceSelectorKeys'],
      [
        'apparmor',
        { annotations: { 'container.apparmor.security.beta.kubernetes.io/session': 'unconfined' } },
        'annotations.deniedKeys',
      ],
    ];
    for (const [name, template, rule] of cases) {
      const { session, jobs } = await run(name, template);
      expect([name, session.status?.phase, session.status?.reason, jobs.length]).toEqual([
        name,
        'Failed',
        'PolicyViolation',
        0,
      ]);
      expect(session.status?.message).toContain(`rule ${rule}:`);
    }
  });

  test('a Session within the policy runs; its pod mounts no token unless the policy allows it', async () => {
    const strict = setup();
    const { session, jobs } = await strict.run('ok', { labels: { team: 'a' } });
    expect(session.status?.phase).toBe('Starting');
    expect(jobs[0]!.spec!.template!.spec!.automountServiceAccountToken).toBe(false);

    const loose = setup(
      parseTenantPolicy({ serviceAccounts: { allowed: ['builder'], automountToken: true } }),
    );
    const named = await loose.run('named', { serviceAccountName: 'builder' });
    expect(named.session.status?.phase).toBe('Starting');
    const pod = named.jobs[0]!.spec!.template!.spec!;
    expect(pod.serviceAccountName).toBe('builder');
    expect(pod.automountServiceAccountToken).toBeUndefined();
  });

  test('the policy is checked before every attempt: a retry after the policy tightened is refused', async () => {
    // The operator restarted with a stricter policy between two attempts of a Session.
    const loose = setup(
      parseTenantPolicy({ tolerations: { allowed: [{ key: 'gpu', operator: 'Exists' }] } }),
    );
    const template = { tolerations: [{ key: 'gpu', operator: 'Exists' }] };
    await loose.client.create<Session>({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: { namespace: 'ns', name: 'r' },
      spec: { template, retry: { limit: 1, backoff: { initialSeconds: 0 } } },
    });
    await loose.reconcile('r');
    expect((await loose.get('r')).status?.phase).toBe('Starting');
    await loose.client.patchStatus(
      JOB_GVK,
      { namespace: 'ns', name: 'r-1' },
      { type: 'merge', body: { status: { conditions: [{ type: 'Failed', status: 'True', reason: 'X' }] } } },
    );
    await loose.reconcile('r');
    expect((await loose.get('r')).status).toMatchObject({ phase: 'Pending', reason: 'RetryBackoff' });

    const strict = new SessionReconciler({
      client: loose.client,
      clock: loose.clock,
      runnerImage: 'runner:1',
    });
    await strict.reconcile({ namespace: 'ns', name: 'r' }, ctx());
    expect((await loose.get('r')).status).toMatchObject({
      phase: 'Failed',
      reason: 'PolicyViolation',
      attempt: 1,
    });
    expect(
      (await loose.client.list<Job>(JOB_GVK, { namespace: 'ns' })).items.map((j) => j.metadata!.name),
    ).toEqual(['r-1']);
  });
});
