import { existsSync, readFileSync } from 'node:fs';
import type https from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { load as parseYaml } from 'js-yaml';
import { type Clock, monotonicNow, realClock } from '../util/clock.js';

/**
 * What the client needs from a kubeconfig: the current cluster and, per request, its TLS
 * material and credentials. `@kubernetes/client-node`'s `KubeConfig` fits, and so does what
 * `loadKubeConfig` returns.
 */
export type KubeConfigLike = Pick<KubeConfig, 'getCurrentCluster' | 'applyToHTTPSOptions'>;

/** Where `loadKubeConfig` looks; the defaults are kubectl's. */
export interface LoadKubeConfigOptions {
  /** A kubeconfig file (`--kubeconfig`): only this file is read. */
  path?: string;
  /** Default `process.env` (KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT). */
  env?: NodeJS.ProcessEnv;
  /** Default `os.homedir()` (for ~/.kube/config). */
  homeDir?: string;
  /** Default `/var/run/secrets/kubernetes.io/serviceaccount` (in-cluster credentials). */
  serviceAccountDir?: string;
  /** When a token file was last read: it is read again a minute later. Default `realClock`. */
  clock?: Clock;
}

/** The kubeconfig cannot be found or used: the message says which file and why. */
export class KubeConfigError extends Error {
  readonly code = 'ERR_KUBECONFIG';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KubeConfigError';
  }
}

type Named<T> = { name: string } & T;
interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}
interface UserEntry {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  as?: string;
  'as-groups'?: string[];
  'as-user-extra'?: unknown;
  exec?: unknown;
  'auth-provider'?: unknown;
}
interface ConfigFile {
  clusters?: Array<Named<{ cluster?: ClusterEntry }>>;
  users?: Array<Named<{ user?: UserEntry }>>;
  contexts?: Array<Named<{ context?: { cluster?: string; user?: string; namespace?: string } }>>;
  'current-context'?: string;
}

/** A cluster entry resolved: files relative to the kubeconfig that named them. */
interface Resolved<T> {
  value: T;
  dir: string;
}

const TOKEN_FILE_TTL_MS = 60_000;

/**
 * A kubeconfig with static TLS material and bearer-token, token-file (re-read every minute, as
 * client-go does, since service account tokens rotate) or basic-auth credentials: the common
 * cases, in-cluster included, without loading `@kubernetes/client-node`'s generated API code
 * (about 25 MiB of heap and 0.5 s of start-up).
 */
export class StaticKubeConfig implements KubeConfigLike {
  readonly server: string;
  readonly namespace: string | undefined;
  readonly #tls: Pick<https.RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  readonly #token: string | undefined;
  readonly #tokenFile: string | undefined;
  readonly #basic: string | undefined;
  readonly #impersonate: string | undefined;
  readonly #clock: Clock;
  #fileToken: { value: string; readAt: number } | undefined;

  constructor(opts: {
    server: string;
    namespace?: string;
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    insecureSkipTLSVerify?: boolean;
    tlsServerName?: string;
    token?: string;
    tokenFile?: string;
    username?: string;
    password?: string;
    impersonate?: string;
    clock?: Clock;
  }) {
    this.server = opts.server;
    this.namespace = opts.namespace;
    this.#tls = {};
    if (opts.ca) this.#tls.ca = opts.ca;
    if (opts.cert) this.#tls.cert = opts.cert;
    if (opts.key) this.#tls.key = opts.key;
    if (opts.insecureSkipTLSVerify) this.#tls.rejectUnauthorized = false;
    if (opts.tlsServerName) this.#tls.servername = opts.tlsServerName;
    this.#token = opts.token;
    this.#tokenFile = opts.tokenFile;
    this.#basic = opts.username !== undefined ? `${opts.username}:${opts.password ?? ''}` : undefined;
    this.#impersonate = opts.impersonate;
    this.#clock = opts.clock ?? realClock;
  }

  /** The API server this kubeconfig talks to (as client-node's `KubeConfig` reports it). */
  getCurrentCluster(): ReturnType<KubeConfig['getCurrentCluster']> {
    return { name: 'current', server: this.server, skipTLSVerify: this.#tls.rejectUnauthorized === false };
  }

  /** Adds the TLS settings and credentials (token, basic auth, impersonation) to a request's options. */
  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    Object.assign(opts, this.#tls);
    const headers = (opts.headers ??= {}) as Record<string, string>;
    const token = this.#token ?? this.#readTokenFile();
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (this.#basic !== undefined) opts.auth = this.#basic;
    if (this.#impersonate !== undefined) headers['Impersonate-User'] = this.#impersonate;
  }

  #readTokenFile(): string | undefined {
    if (this.#tokenFile === undefined) return undefined;
    const now = monotonicNow(this.#clock);
    if (this.#fileToken === undefined || now - this.#fileToken.readAt >= TOKEN_FILE_TTL_MS) {
      try {
        this.#fileToken = { value: readFileSync(this.#tokenFile, 'utf8').trim(), readAt: now };
      } catch (err) {
        // Keep the last token while the file is being replaced; fail only without one.
        if (this.#fileToken === undefined)
          throw new KubeConfigError(`cannot read token file ${this.#tokenFile}: ${(err as Error).message}`);
      }
    }
    return this.#fileToken.value;
  }
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KubeConfigError(`cannot read kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return (parseYaml(text) ?? {}) as ConfigFile;
  } catch (err) {
    throw new KubeConfigError(`kubeconfig ${path} is not valid YAML: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Merges kubeconfig files as kubectl does: the first file to define a name (or the current context) wins. */
function merge(paths: string[]): {
  current?: string;
  clusters: Map<string, Resolved<ClusterEntry>>;
  users: Map<string, Resolved<UserEntry>>;
  contexts: Map<string, { cluster?: string; user?: string; namespace?: string }>;
} {
  const out = {
    current: undefined as string | undefined,
    clusters: new Map<string, Resolved<ClusterEntry>>(),
    users: new Map<string, Resolved<UserEntry>>(),
    contexts: new Map<string, { cluster?: string; user?: string; namespace?: string }>(),
  };
  for (const path of paths) {
    const doc = readConfigFile(path);
    const dir = dirname(path);
    out.current ??= doc['current-context'] || undefined;
    for (const c of doc.clusters ?? [])
      if (!out.clusters.has(c.name)) out.clusters.set(c.name, { value: c.cluster ?? {}, dir });
    for (const u of doc.users ?? [])
      if (!out.users.has(u.name)) out.users.set(u.name, { value: u.user ?? {}, dir });
    for (const c of doc.contexts ?? [])
      if (!out.contexts.has(c.name)) out.contexts.set(c.name, c.context ?? {});
  }
  return out;
}

function bytes(dir: string, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (!file) return undefined;
  const path = isAbsolute(file) ? file : join(dir, file);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new KubeConfigError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Loads `@kubernetes/client-node` only for what StaticKubeConfig does not do. */
async function clientNodeConfig(load: (kc: KubeConfig) => void): Promise<KubeConfigLike> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  load(kc);
  return kc;
}

function inCluster(env: NodeJS.ProcessEnv, saDir: string, clock?: Clock): StaticKubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const ca = join(saDir, 'ca.crt');
  const ns = join(saDir, 'namespace');
  return new StaticKubeConfig({
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: existsSync(ca) ? readFileSync(ca) : undefined,
    tokenFile: join(saDir, 'token'),
    namespace: existsSync(ns) ? readFileSync(ns, 'utf8').trim() : undefined,
    clock,
  });
}

/**
 * Loads the kubeconfig as kubectl finds it: `path` alone if given, else the files in
 * $KUBECONFIG (merged, the first to define a name wins), else ~/.kube/config, else the pod's
 * service account (in-cluster). Client certificates, tokens, token files, basic auth, CAs,
 * `insecure-skip-tls-verify`, `tls-server-name` and `as` are handled here; a current user with
 * an `exec` plugin or an `auth-provider`, impersonated groups or extras, or a cluster behind a
 * `proxy-url`, is handed to `@kubernetes/client-node`'s `KubeConfig`, which implements those.
 * Throws `KubeConfigError` when nothing usable is found.
 */
export async function loadKubeConfig(opts: LoadKubeConfigOptions = {}): Promise<KubeConfigLike> {
  const env = opts.env ?? process.env;
  const saDir = opts.serviceAccountDir ?? '/var/run/secrets/kubernetes.io/serviceaccount';
  let paths: string[];
  if (opts.path) paths = [opts.path];
  else if (env.KUBECONFIG) paths = env.KUBECONFIG.split(':').filter((p) => p !== '' && existsSync(p));
  else {
    const home = join(opts.homeDir ?? homedir(), '.kube', 'config');
    paths = existsSync(home) ? [home] : [];
  }
  if (paths.length === 0) {
    const cluster = inCluster(env, saDir, opts.clock);
    if (cluster) return cluster;
    throw new KubeConfigError(
      'no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a pod',
    );
  }
  const merged = merge(paths);
  const where = paths.join(':');
  if (!merged.current) throw new KubeConfigError(`kubeconfig ${where} has no current-context`);
  const context = merged.contexts.get(merged.current);
  if (!context) throw new KubeConfigError(`kubeconfig ${where}: context ${merged.current} not found`);
  const cluster = context.cluster !== undefined ? merged.clusters.get(context.cluster) : undefined;
  if (!cluster?.value.server)
    throw new KubeConfigError(`kubeconfig ${where}: context ${merged.current} has no cluster with a server`);
  const user = context.user !== undefined ? merged.users.get(context.user) : undefined;
  const u = user?.value ?? {};
  if (
    u.exec !== undefined ||
    u['auth-provider'] !== undefined ||
    u['as-groups'] !== undefined ||
    u['as-user-extra'] !== undefined ||
    cluster.value['proxy-url']
  ) {
    return clientNodeConfig((kc) => (opts.path ? kc.loadFromFile(opts.path) : kc.loadFromDefault()));
  }
  const c = cluster.value;
  const dir = user?.dir ?? cluster.dir;
  return new StaticKubeConfig({
    server: c.server!.replace(/\/+$/, ''),
    namespace: context.namespace,
    ca: bytes(cluster.dir, c['certificate-authority'], c['certificate-authority-data']),
    insecureSkipTLSVerify: c['insecure-skip-tls-verify'] === true,
    tlsServerName: c['tls-server-name'],
    cert: bytes(dir, u['client-certificate'], u['client-certificate-data']),
    key: bytes(dir, u['client-key'], u['client-key-data']),
    token: u.token || undefined,
    tokenFile: u.tokenFile ? (isAbsolute(u.tokenFile) ? u.tokenFile : join(dir, u.tokenFile)) : undefined,
    username: u.username,
    password: u.password,
    impersonate: u.as,
    clock: opts.clock,
  });
}
