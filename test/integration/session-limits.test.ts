// The Session API's limits against a real kube-apiserver: each bound of the schema at its edge
// (the largest value accepted, one more refused), the operator handling the largest values,
// and the specs that once wedged a Session with no status: a Job rejection whose message is
// longer than status allows, and an input nested thousands of levels deep.
import { MAX_MESSAGE_LENGTH, MAX_SECONDS } from '../../controllers/session/bounds.js';
import { SESSION_GVK } from '../../controllers/session/index.js';
import { isInvalid, KubeClient, type StatusError } from '../../lib/index.js';
import { type ControlPlane, startControlPlane } from '../../lib/testing/index.js';
import { createSession, installCrd, JOB, startOperator, waitJob, waitPhase } from './session-helpers.js';

let cp: ControlPlane;
let client: KubeClient;
let operator: Awaited<ReturnType<typeof startOperator>>;
const NS = 'limits';
const IMG = { template: { image: 'busybox:1.36', command: ['sh', '-c', 'echo hi'] } };

beforeAll(async () => {
  cp = await startControlPlane();
  client = new KubeClient(cp.kubeConfig, { qps: 500, burst: 500 });
  await installCrd(client);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  operator = await startOperator(cp.kubeConfig, { namespaces: [NS] });
});
afterAll(async () => {
  await operator?.stop();
  client?.close();
  await cp?.stop();
});

let n = 0;
const name = (prefix: string) => `${prefix}-${n++}`;

/** Sets `path` (dotted) to `value` in a copy of IMG. */
function withField(path: string, value: unknown): Record<string, unknown> {
  const spec: Record<string, unknown> = structuredClone(IMG);
  const parts = path.split('.');
  let cur = spec;
  for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
  cur[parts[parts.length - 1]!] = value;
  return spec;
}

describe('each bound of the schema, at its edge', () => {
  // [field, largest accepted value]; one more must be refused with the field named.
  const edges: Array<[string, number]> = [
    ['startTimeoutSeconds', MAX_SECONDS],
    ['timeoutSeconds', MAX_SECONDS],
    ['ttlSecondsAfterFinished', MAX_SECONDS],
    ['retry.limit', 100],
    ['retry.backoff.initialSeconds', MAX_SECONDS],
    ['retry.backoff.maxSeconds', MAX_SECONDS],
    ['retry.backoff.factor', 100],
  ];

  test.each(edges)('%s: %d accepted and handled by the operator, one more refused', async (field, max) => {
    const spec =
      field === 'retry.backoff.initialSeconds'
        ? withField('retry.backoff', { initialSeconds: max, maxSeconds: max })
        : withField(field, max);
    const ok = name('edge');
    await createSession(client, NS, ok, spec);
    // The operator runs it: the Job (with any backstop deadline derived from these) is accepted.
    await waitPhase(client, NS, ok, 'Starting');
    await waitJob(client, NS, ok, 1);

    const over =
      field === 'retry.backoff.initialSeconds'
        ? withField('retry.backoff', { initialSeconds: max + 1, maxSeconds: max })
        : withField(field, max + 1);
    const err = await createSession(client, NS, name('over'), over).then(
      () => undefined,
      (e: unknown) => e as StatusError,
    );
    expect(err && isInvalid(err)).toBe(true);
    expect(err!.message).toContain(`spec.${field}`);
    expect(err!.message).toMatch(/should be less than or equal to/);
  });

  test('a timeout beyond 2^53 is refused by the schema, not misreported by the operator', async () => {
    const err = await client
      .create({
        apiVersion: 'steward.dev/v1alpha1',
        kind: 'Session',
        metadata: { namespace: NS, name: name('huge') },
        spec: { ...IMG, timeoutSeconds: 2 ** 60 },
      })
      .then(
        () => undefined,
        (e: unknown) => e as StatusError,
      );
    expect(err && isInvalid(err)).toBe(true);
    expect(err!.message).toContain('spec.timeoutSeconds');
  });
});

describe('specs that used to leave a Session with no status', () => {
  test('256 invalid env names: Failed/JobRejected with the API server’s message, truncated', async () => {
    const env = Array.from({ length: 256 }, (_, i) => ({
      name: `bad=name-${i}-${'x'.repeat(200)}`,
      value: 'v',
    }));
    const s = name('envs');
    await createSession(client, NS, s, { template: { ...IMG.template, env } });
    const failed = await waitPhase(client, NS, s, 'Failed');
    expect(failed.status).toMatchObject({ reason: 'JobRejected' });
    expect(failed.status!.message!.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(failed.status!.message).toMatch(
      /^The API server rejected Job envs-\d+-1 of attempt 1: .*env\[0\]\.name/,
    );
    expect(failed.status!.message).toMatch(/characters truncated\]$/);
    expect((await client.list(JOB, { namespace: NS })).items.map((j) => j.metadata!.name)).not.toContain(
      `${s}-1`,
    );
  });

  test('an input nested 4,600 levels deep: Failed/InvalidSpec saying so', async () => {
    const s = name('deep');
    // Sent as text: JSON.stringify itself gives up at this depth.
    const body = `{"apiVersion":"steward.dev/v1alpha1","kind":"Session","metadata":{"namespace":"${NS}","name":"${s}"},"spec":{"template":{"image":"busybox:1.36"},"input":${'{"a":'.repeat(4_600)}"leaf"${'}'.repeat(4_600)}}}`;
    const res = await fetchAsAdmin(`/apis/steward.dev/v1alpha1/namespaces/${NS}/sessions`, body);
    expect(res.status).toBe(201);
    const failed = await waitPhase(client, NS, s, 'Failed');
    expect(failed.status).toMatchObject({
      reason: 'InvalidSpec',
      message: 'spec.input is nested more than 100 levels deep',
    });
  });

  // valueFrom, envFrom and tolerations keep unknown fields (they are a pod's own types), and the
  // safe default tenant policy allows a fieldRef: serializing the Job built from this used to
  // throw RangeError on every reconcile, leaving the Session with no status.
  test('a template field nested 4,600 levels deep: Failed/InvalidSpec naming the field', async () => {
    const s = name('deepenv');
    const deep = `${'{"a":'.repeat(4_600)}1${'}'.repeat(4_600)}`;
    const body = `{"apiVersion":"steward.dev/v1alpha1","kind":"Session","metadata":{"namespace":"${NS}","name":"${s}"},"spec":{"template":{"image":"busybox:1.36","env":[{"name":"A","valueFrom":{"fieldRef":{"fieldPath":"metadata.name","x":${deep}}}}]}}}`;
    const res = await fetchAsAdmin(`/apis/steward.dev/v1alpha1/namespaces/${NS}/sessions`, body);
    expect(res.status).toBe(201);
    const failed = await waitPhase(client, NS, s, 'Failed');
    expect(failed.status).toMatchObject({
      reason: 'InvalidSpec',
      message: 'spec.template.env[0].valueFrom is nested more than 100 levels deep',
    });
  });

  // env values have no length bound in a pod, so a Session can be stored just under etcd's
  // request limit (1.5 MiB) with room for no Job and no status: the Job was refused as a
  // passing failure and retried, each status write was refused too, and the Session stayed
  // with no status.
  test('a Session just under etcd’s limit: Failed/JobRejected with a status that fits', async () => {
    const env = (bytes: number) =>
      Array.from({ length: 256 }, (_, i) => ({ name: `E${i}`, value: 'v'.repeat(Math.floor(bytes / 256)) }));
    const spec = (bytes: number) => ({ template: { ...IMG.template, env: env(bytes) } });
    // The largest that the API server stores, to within 256 bytes (the object's own overhead
    // depends on its name and managed fields, so it is measured rather than assumed).
    let lo = 1_400_000;
    let hi = 1_600_000;
    while (hi - lo > 256) {
      const mid = Math.floor((lo + hi) / 2);
      const probe = name('probe');
      const stored = await createSession(client, NS, probe, spec(mid)).then(
        () => true,
        () => false,
      );
      if (stored) await client.delete(SESSION_GVK, { namespace: NS, name: probe });
      if (stored) lo = mid;
      else hi = mid;
    }
    const s = `${name('huge')}x`;
    await createSession(client, NS, s, spec(lo - 2_048));
    const failed = await waitPhase(client, NS, s, 'Failed');
    expect(failed.status).toMatchObject({ reason: 'JobRejected' });
    expect(failed.status!.message).toMatch(/request is too large/);
  });
});

/** POSTs a raw JSON body with the control plane's admin credentials. */
async function fetchAsAdmin(path: string, body: string): Promise<{ status: number; text: string }> {
  const { request } = await import('node:https');
  const user = cp.kubeConfig.getCurrentUser()!;
  const cluster = cp.kubeConfig.getCurrentCluster()!;
  const url = new URL(path, cluster.server);
  const decode = (b64?: string) => (b64 ? Buffer.from(b64, 'base64') : undefined);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ca: decode(cluster.caData),
        cert: decode(user.certData),
        key: decode(user.keyData),
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
