import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClient } from '../../../lib/client/kube-client.js';

export interface Recorded {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Responder = (req: Recorded, res: http.ServerResponse) => void;

/** A loopback HTTP server standing in for the API server, recording what the client sends. */
export class LoopbackApi {
  readonly requests: Recorded[] = [];
  respond: Responder = (_req, res) => json(res, 200, {});
  #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(): Promise<LoopbackApi> {
    const server = http.createServer();
    const api = new LoopbackApi(server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rec: Recorded = {
          method: req.method ?? '',
          url: new URL(req.url ?? '/', 'http://x'),
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        api.requests.push(rec);
        api.respond(rec, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'secret-token' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    return kc;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A LoopbackApi and a KubeClient on it (no rate limit, no retries) for the tests of the enclosing
 * describe block: started before them, closed after. Read `.api` and `.client` inside the tests.
 */
export function useLoopbackClient(): { readonly api: LoopbackApi; readonly client: KubeClient } {
  let api: LoopbackApi | undefined;
  let client: KubeClient | undefined;
  beforeAll(async () => {
    api = await LoopbackApi.start();
    client = new KubeClient(api.kubeConfig(), { qps: -1, retry: { maxRetries: 0 } });
  });
  afterAll(async () => {
    client?.close();
    await api?.close();
  });
  return {
    get api() {
      return api!;
    },
    get client() {
      return client!;
    },
  };
}

export function json(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function status(
  res: http.ServerResponse,
  code: number,
  reason: string,
  headers: Record<string, string> = {},
): void {
  json(
    res,
    code,
    { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: `${reason} happened` },
    headers,
  );
}
