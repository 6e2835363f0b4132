/**
 * Ways to break the connection between an informer and the API server, for the cache's
 * integration tests: a loopback TCP proxy that can refuse, stall or forward, a kube-apiserver
 * restart, and etcd compaction. They work on a `ControlPlane` from lib/testing from the outside
 * (its working directory's pid list and the apiserver's own command line), so the harness needs
 * no test-only API.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { appendFileSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import type { ControlPlane } from '../../lib/testing/index.js';
import { ManagedProcess } from '../../lib/testing/process.js';
import { waitFor } from '../../lib/testing/index.js';

export type ProxyMode = 'forward' | 'refuse' | 'stall';

/**
 * A TCP proxy on 127.0.0.1 in front of the API server. TLS passes through untouched (the serving
 * certificate is for 127.0.0.1, so it stays valid). Modes:
 * - `forward`: a plain pipe;
 * - `refuse`: existing connections are reset and new ones closed at once (server unreachable);
 * - `stall`: existing connections stay open but nothing more is forwarded either way (a
 *   half-dead middlebox); new connections are forwarded normally.
 */
export class LoopbackProxy {
  #server: net.Server;
  #target: { host: string; port: number };
  #mode: ProxyMode = 'forward';
  #pairs = new Set<{ client: net.Socket; upstream: net.Socket; stalled: boolean }>();

  private constructor(target: URL) {
    this.#target = { host: target.hostname, port: Number(target.port) };
    this.#server = net.createServer((client) => this.#accept(client));
  }

  static async start(server: string): Promise<LoopbackProxy> {
    const p = new LoopbackProxy(new URL(server));
    await new Promise<void>((resolve) => p.#server.listen(0, '127.0.0.1', resolve));
    return p;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Open connections through the proxy. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** `kc` with its current cluster's server pointed at this proxy. */
  kubeConfigFor(kc: KubeConfig): KubeConfig {
    const out = new KubeConfig();
    const cluster = kc.getCurrentCluster()!;
    out.loadFromOptions({
      clusters: [{ ...cluster, server: `https://127.0.0.1:${this.port}` }],
      users: kc.users,
      contexts: [{ ...kc.getContextObject(kc.getCurrentContext())!, cluster: cluster.name }],
      currentContext: kc.getCurrentContext(),
    });
    return out;
  }

  setMode(mode: ProxyMode): void {
    this.#mode = mode;
    for (const pair of this.#pairs) {
      if (mode === 'refuse') {
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
      } else if (mode === 'stall') pair.stalled = true;
    }
  }

  async close(): Promise<void> {
    this.setMode('refuse');
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    if (this.#mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.#target);
    const pair = { client, upstream, stalled: false };
    this.#pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (!pair.stalled) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const close = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
      s.on('end', () => {
        if (!pair.stalled) close();
      });
    }
  }
}

interface ProcessInfo {
  pid: number;
  argv: string[];
}

function componentProcess(cp: ControlPlane, name: string): ProcessInfo {
  const pids = readFileSync(join(cp.directory, 'pids'), 'utf8').split('\n').filter(Boolean).map(Number);
  for (const pid of pids.reverse()) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv[0]?.endsWith(`/${name}`) || argv[0] === name) return { pid, argv };
    } catch {
      // Exited (or a zombie without a command line): not the one.
    }
  }
  throw new Error(`no running ${name} in ${cp.directory}/pids`);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The etcd client URL the apiserver uses. */
export function etcdEndpoint(cp: ControlPlane): string {
  const arg = componentProcess(cp, 'kube-apiserver').argv.find((a) => a.startsWith('--etcd-servers='));
  if (!arg) throw new Error('kube-apiserver has no --etcd-servers flag');
  return arg.slice('--etcd-servers='.length).split(',')[0]!;
}

/**
 * Compacts etcd to its current revision through its HTTP gateway, so any older resourceVersion
 * is gone for watches served from etcd. Returns the revision.
 */
export async function compactEtcd(cp: ControlPlane): Promise<number> {
  const etcd = etcdEndpoint(cp);
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${etcd}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const range = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64'), limit: 1 });
  const revision = Number((range.header as { revision: string }).revision);
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}

/** A kube-apiserver started by `restartApiServer`; stop it before the control plane. */
export interface RestartedApiServer {
  stop(): Promise<void>;
}

/**
 * Stops kube-apiserver (SIGTERM, then SIGKILL after `graceMs`, as a rolling restart would), runs `whileDown`, starts it again
 * with the same command line and waits for /readyz. The new process is listed in the control
 * plane's pid file, so the harness's watchdog cleans it up even if the test dies.
 */
export async function restartApiServer(
  cp: ControlPlane,
  whileDown: () => Promise<void> = async () => {},
  graceMs = 5_000,
): Promise<RestartedApiServer> {
  const { pid, argv } = componentProcess(cp, 'kube-apiserver');
  process.kill(pid, 'SIGTERM');
  // A graceful shutdown waits for open watches to drain, which ours never do by themselves;
  // after a short grace the process is killed, as a kubelet would after terminationGracePeriod.
  try {
    await waitFor(() => !alive(pid), { timeoutMs: graceMs, description: 'kube-apiserver to exit' });
  } catch {
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !alive(pid), { timeoutMs: 30_000, description: 'kube-apiserver to be killed' });
  }
  await whileDown();
  const proc = ManagedProcess.start({
    name: 'kube-apiserver-restarted',
    command: argv[0]!,
    args: argv.slice(1),
    logPath: join(cp.directory, 'kube-apiserver-restarted.log'),
    onStart: (p) => appendFileSync(join(cp.directory, 'pids'), `${p}\n`),
  });
  await waitFor(() => readyz(cp.kubeConfig), {
    timeoutMs: 60_000,
    description: 'restarted kube-apiserver /readyz',
  });
  return { stop: () => proc.stop() };
}

/** Whether the API server answers /readyz with 200, using the kubeconfig's credentials. */
export async function readyz(kc: KubeConfig): Promise<boolean> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const url = new URL('/readyz', kc.getCurrentCluster()!.server);
  return new Promise<boolean>((resolve) => {
    const req = https.get(url, { ...opts, agent: undefined, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
