import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RestTransport } from '../../../lib/client/transport.js';

let server: http.Server;
let connections = 0;
let url: string;
let lastRawHeaders: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    lastRawHeaders = req.rawHeaders;
    if (req.url?.startsWith('/watch')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('');
      return; // held open until the client ends it
    }
    setTimeout(() => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    }, 5);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => (connections = 0));

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('RestTransport headers', () => {
  const names = () => lastRawHeaders.filter((_, i) => i % 2 === 0);
  const value = (name: string) =>
    lastRawHeaders.filter((_, i) => i % 2 === 1 && lastRawHeaders[i - 1]!.toLowerCase() === name);

  test("the header list is written as built: Host first, the credentials, the body's type and length", async () => {
    const t = new RestTransport(kubeConfig(), { qps: -1, userAgent: 'ua/1' });
    await t.request({ method: 'POST', path: '/x', body: { a: 1 } });
    expect(names()).toEqual([
      'Host',
      'Accept',
      'User-Agent',
      'Authorization',
      'Content-Type',
      'Content-Length',
      'Connection',
    ]);
    expect(value('host')).toEqual([new URL(url).host]);
    expect(value('authorization')).toEqual(['Bearer t']);
    expect(value('user-agent')).toEqual(['ua/1']);
    expect(value('content-length')).toEqual(['7']);
    t.close();
  });

  test("Basic auth and the kubeconfig's own headers are sent once; the transport's own names win", async () => {
    const kc = {
      getCurrentCluster: () => ({ name: 'c', server: url, skipTLSVerify: true }),
      applyToHTTPSOptions: async (o: { auth?: string; headers?: Record<string, unknown> }) => {
        o.auth = 'user:pass';
        o.headers = { accept: 'text/plain', 'Impersonate-Group': ['a', 'b'], 'X-Skip': undefined };
      },
    };
    const t = new RestTransport(kc as never, { qps: -1 });
    await t.request({ method: 'GET', path: '/x', accept: 'application/json;as=Table' });
    expect(value('authorization')).toEqual([`Basic ${Buffer.from('user:pass').toString('base64')}`]);
    expect(value('accept')).toEqual(['application/json;as=Table']);
    expect(value('impersonate-group')).toEqual(['a', 'b']);
    expect(value('x-skip')).toEqual([]);
    t.close();
  });
});

describe('RestTransport connections', () => {
  test('requests share at most maxConnections connections', async () => {
    const t = new RestTransport(kubeConfig(), { qps: -1, maxConnections: 4 });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => t.request({ method: 'GET', path: '/x' })),
    );
    expect(results).toHaveLength(50);
    expect(connections).toBeLessThanOrEqual(4);
    t.close();
  });

  test('watches have connections of their own: an open watch does not hold back requests', async () => {
    const t = new RestTransport(kubeConfig(), { qps: -1, maxConnections: 1 });
    const watch = await t.stream({ method: 'GET', path: '/watch' });
    await expect(t.request({ method: 'GET', path: '/x' })).resolves.toEqual({ ok: true });
    await expect(t.request({ method: 'GET', path: '/y' })).resolves.toEqual({ ok: true });
    expect(connections).toBe(2);
    watch.destroy();
    t.close();
  });

  test('maxConnections must be a whole number >= 1', () => {
    expect(() => new RestTransport(kubeConfig(), { maxConnections: 0 })).toThrow(
      /KubeClient: maxConnections must be an integer >= 1, got 0/,
    );
  });
});

describe('RestTransport writeFence', () => {
  test('asked after the rate limiter’s wait: a reason refuses the write unsent and unretried; GETs are never fenced', async () => {
    let fence: string | undefined;
    const asked: number[] = [];
    const t = new RestTransport(kubeConfig(), {
      qps: 20,
      burst: 1,
      retry: { maxRetries: 3 },
      writeFence: () => {
        asked.push(connections);
        return fence;
      },
    });
    try {
      await t.request({ method: 'POST', path: '/a', body: {} });
      expect(connections).toBe(1);
      // The bucket is empty: this write waits 50 ms, and the fence is asked after that wait.
      const write = t.request({
        method: 'PATCH',
        path: '/b',
        body: {},
        contentType: 'application/merge-patch+json',
      });
      fence = 'the Lease was lost';
      await expect(write).rejects.toMatchObject({
        name: 'WriteFencedError',
        code: 'ERR_K8S_WRITE_FENCED',
        message: 'PATCH /b not sent: the Lease was lost',
      });
      expect(asked).toHaveLength(2);
      const before = connections;
      await expect(t.request({ method: 'GET', path: '/c' })).resolves.toEqual({ ok: true });
      expect(asked).toHaveLength(2);
      expect(connections).toBe(before); // the refused write opened nothing; the GET reused the socket
    } finally {
      t.close();
    }
  });
});
