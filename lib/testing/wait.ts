/**
 * Waiting without fixed sleeps: poll a condition until it holds or a deadline passes, plus the
 * two probes the control plane needs (free loopback ports, an HTTPS status code).
 */
import { request } from 'node:https';
import { createServer, type Server } from 'node:net';

import { WaitTimeoutError } from './errors.js';

/** Options of `waitFor`. */
export interface WaitOptions {
  /** Give up after this long. Default 30 s. */
  timeoutMs?: number;
  /** Pause between attempts. Default 100 ms. */
  intervalMs?: number;
  /** What is awaited, for the timeout message. Default `condition`. */
  description?: string;
  /** Stops waiting early (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Calls `check` until it returns a value other than `undefined`/`false`, and returns that value.
 * A throwing `check` counts as "not yet"; the last error is attached to the `WaitTimeoutError`.
 * Use it in tests instead of sleeping: `await waitFor(async () => (await get()).status?.ready)`.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 100, description = 'condition', signal } = opts;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(description, timeoutMs, lastError);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, deadline - Date.now())));
  }
}

/**
 * Reserves `count` distinct free TCP ports on 127.0.0.1. All listeners stay open until every port
 * is known, so the same port is never handed out twice; another process can still take one
 * before its user binds it, which the caller detects as an early exit.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      const addr = server.address();
      if (addr === null || typeof addr === 'string') throw new Error('listener has no port');
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export interface TlsCredentials {
  ca?: string;
  cert?: string;
  key?: string;
}

/** GETs `url` and resolves with the status code; rejects on a connection error or after 5 s. */
export function httpsStatus(url: string, tls: TlsCredentials = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        // Without a CA (kube-scheduler's self-signed serving certificate) only liveness matters.
        rejectUnauthorized: tls.ca !== undefined,
        timeout: 5_000,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
