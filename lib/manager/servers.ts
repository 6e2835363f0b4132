import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { http } from '../util/node-http.js';

/** A health or readiness check: resolves (or returns) when healthy, throws/rejects with why not. */
export type Check = () => void | Promise<void>;

/**
 * Parses a bind address as controller-runtime takes it: `:8080` (all interfaces),
 * `127.0.0.1:8080`, `[::1]:8080`, or `0` to disable. Port 0 picks a free port.
 */
export function parseBindAddress(addr: string): { host: string | undefined; port: number } | undefined {
  if (addr === '0' || addr === '') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new RangeError(`bad bind address "${addr}": want host:port, :port or 0`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
};

/**
 * A server could not listen on its bind address: the port is taken, privileged, or the host
 * is not this machine's. `option` names the Manager option (`metricsBindAddress`,
 * `healthProbeBindAddress`); the message is one line, e.g. `metricsBindAddress ":8080":
 * cannot listen: address already in use (EADDRINUSE)`.
 */
export class BindError extends Error {
  readonly code = 'ERR_BIND';
  /** The system error code (`EADDRINUSE`, `EACCES`, …), or '' if there was none. */
  readonly syscallCode: string;
  constructor(
    readonly option: string,
    readonly address: string,
    cause: unknown,
  ) {
    const sys = (cause as { code?: unknown } | undefined)?.code;
    const syscallCode = typeof sys === 'string' ? sys : '';
    const what = LISTEN_FAILURES[syscallCode] ?? (cause instanceof Error ? cause.message : String(cause));
    super(`${option} "${address}": cannot listen: ${what}${syscallCode ? ` (${syscallCode})` : ''}`, {
      cause,
    });
    this.name = 'BindError';
    this.syscallCode = syscallCode;
  }
}

/** A minimal HTTP server with exact-path routes; `listen` resolves with the bound address. */
export class HttpServer {
  readonly #server: Server;
  readonly #routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>();

  constructor(readonly name: string) {
    this.#server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const route = this.#routes.get(path);
      if (route === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      route(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      });
    });
    // Probes and scrapes are short; do not let a stuck client hold the process at shutdown.
    this.#server.keepAliveTimeout = 5_000;
  }

  route(path: string, handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): this {
    this.#routes.set(path, handler);
    return this;
  }

  listen(addr: { host: string | undefined; port: number }): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(addr.port, addr.host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/** Serves `/metrics` from `registry` in the Prometheus text format. */
export function metricsServer(registry: Registry): HttpServer {
  return new HttpServer('metrics').route('/metrics', async (_req, res) => {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(body);
  });
}

/**
 * Runs named checks the way kube-apiserver's /healthz does: 200 `ok` when all pass, else 500
 * with one `[+]name ok` / `[-]name failed: reason` line per check, so a failing probe names
 * itself in the kubelet's event.
 */
export async function runChecks(checks: ReadonlyMap<string, Check>): Promise<{ ok: boolean; body: string }> {
  const lines: string[] = [];
  let ok = true;
  for (const [name, check] of checks) {
    try {
      await check();
      lines.push(`[+]${name} ok`);
    } catch (err) {
      ok = false;
      lines.push(`[-]${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { ok, body: ok ? 'ok\n' : `${lines.join('\n')}\n${'healthz check failed'}\n` };
}

/** Serves `/healthz` (liveness) and `/readyz` (readiness) from two sets of checks. */
export function healthServer(
  healthz: ReadonlyMap<string, Check>,
  readyz: ReadonlyMap<string, Check>,
): HttpServer {
  const serve = (checks: ReadonlyMap<string, Check>) => async (req: IncomingMessage, res: ServerResponse) => {
    const { ok, body } = await runChecks(checks);
    const verbose = (req.url ?? '').includes('verbose');
    const text = ok && verbose ? `${[...checks.keys()].map((n) => `[+]${n} ok`).join('\n')}\nok\n` : body;
    res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
  };
  return new HttpServer('health').route('/healthz', serve(healthz)).route('/readyz', serve(readyz));
}
