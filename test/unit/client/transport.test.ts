import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RestTransport } from '../../../lib/client/transport.js';

let server: http.Server;
let connections = 0;
let url: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
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
