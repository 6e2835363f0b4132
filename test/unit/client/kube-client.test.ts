import http from 'node:http';
import { jest } from '@jest/globals';
import { Registry } from 'prom-client';
import {
  AlreadyExistsError,
  ConflictError,
  GoneError,
  InvalidError,
  NotFoundError,
  RequestError,
  TooManyRequestsError,
} from '../../../lib/client/errors.js';
import { KubeClient } from '../../../lib/client/kube-client.js';
import { applyPatch, jsonPatch, mergePatch } from '../../../lib/client/patch.js';
import { FakeClock } from '../../../lib/util/clock.js';
import { LoopbackApi, json, status } from './loopback.js';

const POD = { group: '', version: 'v1', kind: 'Pod' };
const DEPLOY = { group: 'apps', version: 'v1', kind: 'Deployment' };
const WIDGET = { group: 'steward.dev', version: 'v1alpha1', kind: 'Widget' };

let api: LoopbackApi;
let client: KubeClient;

beforeEach(async () => {
  api = await LoopbackApi.start();
  client = new KubeClient(api.kubeConfig(), { qps: -1, retry: { maxRetries: 0 } });
});

afterEach(async () => {
  client.close();
  await api.close();
});

describe('requests', () => {
  test('get sends the path, auth and accept headers', async () => {
    api.respond = (_r, res) => json(res, 200, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } });
    const pod = await client.get(POD, { namespace: 'ns', name: 'p' });
    expect(pod.metadata?.name).toBe('p');
    const [r] = api.requests;
    expect(r!.method).toBe('GET');
    expect(r!.url.pathname).toBe('/api/v1/namespaces/ns/pods/p');
    expect(r!.headers.authorization).toBe('Bearer secret-token');
    expect(r!.headers.accept).toBe('application/json');
  });

  test('list passes selectors and pagination and fills in apiVersion/kind on items', async () => {
    api.respond = (_r, res) =>
      json(res, 200, {
        metadata: { resourceVersion: '42', continue: 'tok2' },
        items: [{ metadata: { name: 'd' } }],
      });
    const list = await client.list(DEPLOY, {
      namespace: 'ns',
      labelSelector: { app: 'web' },
      fieldSelector: { 'metadata.name': 'd' },
      limit: 10,
      continue: 'tok1',
    });
    expect(list.items[0]).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } });
    expect(list.metadata).toEqual({ resourceVersion: '42', continue: 'tok2' });
    const q = api.requests[0]!.url.searchParams;
    expect(api.requests[0]!.url.pathname).toBe('/apis/apps/v1/namespaces/ns/deployments');
    expect(Object.fromEntries(q)).toEqual({
      labelSelector: 'app=web',
      fieldSelector: 'metadata.name=d',
      limit: '10',
      continue: 'tok1',
    });
  });

  test('list of a namespaced kind without a namespace lists across namespaces', async () => {
    api.respond = (_r, res) => json(res, 200, { metadata: {}, items: [] });
    await client.list(POD);
    expect(api.requests[0]!.url.pathname).toBe('/api/v1/pods');
  });

  test('create, update and status writes use POST/PUT on the right paths', async () => {
    api.respond = (r, res) => json(res, r.method === 'POST' ? 201 : 200, JSON.parse(r.body));
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'ns' },
      spec: {},
    };
    await client.create(d, { fieldManager: 'me', dryRun: true });
    await client.update(d);
    await client.updateStatus(d);
    expect(api.requests.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)).toEqual([
      'POST /apis/apps/v1/namespaces/ns/deployments?dryRun=All&fieldManager=me',
      'PUT /apis/apps/v1/namespaces/ns/deployments/d',
      'PUT /apis/apps/v1/namespaces/ns/deployments/d/status',
    ]);
    expect(JSON.parse(api.requests[0]!.body)).toEqual(d);
  });

  test('patch types have their content types; apply sends fieldManager and force', async () => {
    api.respond = (_r, res) => json(res, 200, {});
    const key = { namespace: 'ns', name: 'p' };
    await client.patch(POD, key, mergePatch({ metadata: { labels: { a: 'b' } } }));
    await client.patch(POD, key, jsonPatch([{ op: 'remove', path: '/metadata/labels/a' }]));
    await client.patchStatus(POD, key, mergePatch({ status: { phase: 'X' } }));
    await client.patch(
      POD,
      key,
      applyPatch({ apiVersion: 'v1', kind: 'Pod' }, { fieldManager: 'steward', force: true }),
    );
    await client.apply(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' } },
      { fieldManager: 'm2' },
    );
    expect(api.requests.map((r) => [r.url.pathname, r.headers['content-type'], r.url.search])).toEqual([
      ['/api/v1/namespaces/ns/pods/p', 'application/merge-patch+json', ''],
      ['/api/v1/namespaces/ns/pods/p', 'application/json-patch+json', ''],
      ['/api/v1/namespaces/ns/pods/p/status', 'application/merge-patch+json', ''],
      ['/api/v1/namespaces/ns/pods/p', 'application/apply-patch+yaml', '?fieldManager=steward&force=true'],
      ['/api/v1/namespaces/ns/pods/p', 'application/apply-patch+yaml', '?fieldManager=m2'],
    ]);
    expect(JSON.parse(api.requests[1]!.body)).toEqual([{ op: 'remove', path: '/metadata/labels/a' }]);
  });

  test('delete sends DeleteOptions with propagation and preconditions', async () => {
    api.respond = (_r, res) => json(res, 200, { kind: 'Status', status: 'Success' });
    await client.delete(
      POD,
      { namespace: 'ns', name: 'p' },
      {
        propagationPolicy: 'Foreground',
        preconditions: { uid: 'u1', resourceVersion: '7' },
      },
    );
    const r = api.requests[0]!;
    expect(r.method).toBe('DELETE');
    expect(JSON.parse(r.body)).toEqual({
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Foreground',
      preconditions: { uid: 'u1', resourceVersion: '7' },
    });
  });

  test('a namespaced kind without a namespace is a TypeError before any request', async () => {
    await expect(client.get(POD, { name: 'p' })).rejects.toThrow(TypeError);
    expect(api.requests).toHaveLength(0);
  });

  test('custom kinds are resolved through discovery, once', async () => {
    api.respond = (r, res) => {
      if (r.url.pathname === '/apis/steward.dev/v1alpha1') {
        json(res, 200, { resources: [{ name: 'widgets', namespaced: false, kind: 'Widget' }] });
      } else json(res, 200, { metadata: { name: 'w' } });
    };
    await client.get(WIDGET, { name: 'w' });
    await client.get(WIDGET, { name: 'w' });
    expect(api.requests.map((r) => r.url.pathname)).toEqual([
      '/apis/steward.dev/v1alpha1',
      '/apis/steward.dev/v1alpha1/widgets/w',
      '/apis/steward.dev/v1alpha1/widgets/w',
    ]);
  });

  test('Dates in bodies are sent as MicroTime', async () => {
    api.respond = (r, res) => json(res, 201, JSON.parse(r.body));
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l', namespace: 'ns' },
      spec: { renewTime: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 5)) },
    };
    const out = await client.create(lease);
    expect((out.spec as unknown as { renewTime: string }).renewTime).toBe('2026-01-01T00:00:00.005000Z');
  });
});

describe('errors', () => {
  test.each([
    [404, 'NotFound', NotFoundError],
    [409, 'Conflict', ConflictError],
    [409, 'AlreadyExists', AlreadyExistsError],
    [410, 'Expired', GoneError],
    [422, 'Invalid', InvalidError],
    [429, 'TooManyRequests', TooManyRequestsError],
  ])('%d %s becomes %p', async (code, reason, Cls) => {
    api.respond = (_r, res) => status(res, code, reason);
    const err = await client.get(POD, { namespace: 'ns', name: 'p' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cls);
    expect(err).toMatchObject({ status: code, reason });
  });

  test('a non-Status error body still yields a classified error', async () => {
    api.respond = (_r, res) => {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found');
    };
    const err = await client.get(POD, { namespace: 'ns', name: 'p' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain('404 page not found');
  });

  test('a long non-Status body, split across reads inside characters, is cut at a character boundary', async () => {
    // 499 ASCII bytes, then 4-byte characters: the cut at 500 UTF-16 units falls inside the
    // first one's surrogate pair, which would print as U+FFFD.
    const body = Buffer.from('x'.repeat(499) + '😀'.repeat(10), 'utf8');
    api.respond = (_r, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.write(body.subarray(0, 501));
      setImmediate(() => res.end(body.subarray(501)));
    };
    const err = (await client.get(POD, { namespace: 'ns', name: 'p' }).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toMatch(/\uFFFD|[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(err.message).toContain('x'.repeat(499));
  });

  test('connection refused becomes a RequestError with the cause', async () => {
    const kc = api.kubeConfig();
    await api.close();
    const c = new KubeClient(kc, { retry: { maxRetries: 0 } });
    const err = await c.get(POD, { namespace: 'ns', name: 'p' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect(((err as RequestError).cause as { code: string }).code).toBe('ECONNREFUSED');
    c.close();
    api = await LoopbackApi.start();
  });
});

/** Steps the fake clock whenever the client is waiting on it, until `p` settles. */
async function drive<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    await new Promise((r) => setImmediate(r));
    const at = clock.nextTimerAt();
    if (at !== undefined) clock.setTime(at);
  }
  return p;
}

describe('request timeout', () => {
  // The idle timeout is a Node socket timer: beyond 2^31-1 ms Node truncates it with a
  // TimeoutOverflowWarning, and Infinity (or NaN, or a negative value) made every request fail
  // with ERR_OUT_OF_RANGE. Jest gives a test its own `process`, so the warning itself is not
  // observable here; the delays handed to Node are (as in long-delay.test.ts).
  test('any requestTimeoutMs from 0 (none) to Infinity works and never overflows a Node timer', async () => {
    const spy = jest.spyOn(http.ClientRequest.prototype, 'setTimeout');
    api.respond = (_r, res) => json(res, 200, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } });
    try {
      for (const requestTimeoutMs of [0, 1_000, 2 ** 31, 30 * 86_400_000, Infinity]) {
        const c = new KubeClient(api.kubeConfig(), { qps: -1, requestTimeoutMs, retry: { maxRetries: 0 } });
        const pod = await c.get(POD, { namespace: 'ns', name: 'p' });
        c.close();
        expect([requestTimeoutMs, pod.metadata?.name]).toEqual([requestTimeoutMs, 'p']);
      }
      const handed = spy.mock.calls.map(([ms]) => ms);
      expect(handed.filter((ms) => !(ms >= 0 && ms <= 2 ** 31 - 1))).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('retries, throttling and metrics', () => {
  test('429 with Retry-After is retried after that long, and counted by code', async () => {
    const clock = new FakeClock(0);
    const registry = new Registry();
    const c = new KubeClient(api.kubeConfig(), { clock, registry, qps: -1 });
    const waits: number[] = [];
    let n = 0;
    api.respond = (_r, res) => {
      waits.push(clock.now());
      if (n++ < 2) status(res, 429, 'TooManyRequests', { 'Retry-After': '3' });
      else json(res, 200, { metadata: { name: 'p' } });
    };
    await drive(clock, c.get(POD, { namespace: 'ns', name: 'p' }));
    expect(waits).toEqual([0, 3000, 6000]);
    const metrics = await registry.getSingleMetricAsString('rest_client_requests_total');
    expect(metrics).toContain(
      `rest_client_requests_total{code="429",method="GET",host="${new URL(api.url).host}"} 2`,
    );
    expect(metrics).toContain(
      `rest_client_requests_total{code="200",method="GET",host="${new URL(api.url).host}"} 1`,
    );
    expect(await registry.getSingleMetricAsString('rest_client_request_duration_seconds')).toContain(
      '_count{verb="GET"',
    );
    c.close();
  });

  test('retries are bounded', async () => {
    const clock = new FakeClock(0);
    const c = new KubeClient(api.kubeConfig(), {
      clock,
      qps: -1,
      retry: { maxRetries: 2, baseDelayMs: 100 },
    });
    api.respond = (_r, res) => status(res, 503, 'ServiceUnavailable');
    await expect(drive(clock, c.get(POD, { namespace: 'ns', name: 'p' }))).rejects.toThrow(
      /ServiceUnavailable/,
    );
    expect(api.requests).toHaveLength(3);
    c.close();
  });

  test('a 500 on a create is not retried (it may have happened)', async () => {
    const c = new KubeClient(api.kubeConfig(), { qps: -1 });
    api.respond = (_r, res) => status(res, 500, 'InternalError');
    await expect(
      c.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' } }),
    ).rejects.toThrow();
    expect(api.requests).toHaveLength(1);
    c.close();
  });

  test('requests beyond the burst wait for tokens', async () => {
    const clock = new FakeClock(0);
    const c = new KubeClient(api.kubeConfig(), { clock, qps: 10, burst: 2 });
    const times: number[] = [];
    api.respond = (_r, res) => {
      times.push(clock.now());
      json(res, 200, {});
    };
    await drive(clock, Promise.all([1, 2, 3, 4].map((i) => c.get(POD, { namespace: 'ns', name: `p${i}` }))));
    // Real I/O runs while the fake clock is driven, so only lower bounds are exact.
    expect(times).toHaveLength(4);
    expect(times[2]).toBeGreaterThanOrEqual(100);
    expect(times[3]).toBeGreaterThanOrEqual(200);
    c.close();
  });

  test('without a registry nothing is registered anywhere', async () => {
    const { register } = await import('prom-client');
    api.respond = (_r, res) => json(res, 200, {});
    await client.get(POD, { namespace: 'ns', name: 'p' });
    expect(register.getSingleMetric('rest_client_requests_total')).toBeUndefined();
  });
});

describe('watch', () => {
  test('streams events, sends watch parameters, and throws ERROR events as StatusErrors', async () => {
    api.respond = (_r, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(
        JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } }) + '\n',
      );
      res.write(
        JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', metadata: { resourceVersion: '3' } } }) +
          '\n{"type":"MODI',
      );
      res.write('FIED","object":{"metadata":{"name":"a","resourceVersion":"4"}}}\n');
      res.end(
        JSON.stringify({
          type: 'ERROR',
          object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' },
        }) + '\n',
      );
    };
    const seen: string[] = [];
    const iterate = async (): Promise<void> => {
      for await (const ev of client.watch(POD, {
        namespace: 'ns',
        resourceVersion: '1',
        allowWatchBookmarks: true,
        timeoutSeconds: 30,
      })) {
        seen.push(`${ev.type} ${ev.object.metadata?.resourceVersion} ${ev.object.kind}`);
      }
    };
    await expect(iterate()).rejects.toThrow(GoneError);
    expect(seen).toEqual(['ADDED 2 Pod', 'BOOKMARK 3 Pod', 'MODIFIED 4 Pod']);
    expect(Object.fromEntries(api.requests[0]!.url.searchParams)).toEqual({
      watch: 'true',
      resourceVersion: '1',
      allowWatchBookmarks: 'true',
      timeoutSeconds: '30',
    });
  });

  test('a non-200 watch response throws its StatusError; abort ends iteration quietly', async () => {
    api.respond = (_r, res) => status(res, 403, 'Forbidden');
    await expect(client.watch(POD)[Symbol.asyncIterator]().next()).rejects.toThrow(/Forbidden/);

    api.respond = (_r, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }) + '\n');
    };
    const ac = new AbortController();
    const seen: string[] = [];
    for await (const ev of client.watch(POD, { signal: ac.signal })) {
      seen.push(ev.type);
      ac.abort();
    }
    expect(seen).toEqual(['ADDED']);
  });
});
