/**
 * `startControlPlane`: a real etcd and kube-apiserver on loopback (and, on request, the
 * controller manager, the scheduler and kwok with fake nodes), for tests and local runs.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { appendFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  locateBinaries,
  requireDirectory,
  requireExecutable,
  type BinaryLocationOptions,
} from './binaries.js';
import { ControlPlaneStoppedError, ProcessExitedError } from './errors.js';
import { startWatchdog, trackDirectory, untrackDirectory } from './cleanup.js';
import {
  apiServerArgs,
  controllerManagerArgs,
  DEFAULT_CONTROLLERS,
  etcdArgs,
  kwokArgs,
  probeEtcdVersion,
  schedulerArgs,
  type Layout,
} from './components.js';
import { createFakeNodes, kwokConfig, type FakeNodeOptions } from './kwok.js';
import { kubeConfigFrom, writeKubeconfig, type KubeconfigSpec } from './kubeconfig.js';
import { CertificateAuthority, generateKeys } from './pki.js';
import { ManagedProcess } from './process.js';
import { freePorts, httpsStatus, waitFor } from './wait.js';

/** Options of `startControlPlane`. */
export interface ControlPlaneOptions {
  /**
   * Also run kube-controller-manager, kube-scheduler and kwok with fake Nodes, so Pods are
   * scheduled and Jobs run to completion. Default false: etcd and kube-apiserver only, which is
   * all that CRDs, custom objects, Leases and RBAC need, and starts in a few seconds.
   */
  cluster?: boolean;
  /** The fake Nodes of a `cluster`. Default: one node, `kwok-node-0`. */
  nodes?: FakeNodeOptions;
  /** kube-controller-manager's `--controllers`. Default `DEFAULT_CONTROLLERS`. */
  controllers?: string[];
  /** Where the binaries are. Default: `$KUBEBUILDER_ASSETS`, else the hack/binaries.sh cache. */
  binaries?: BinaryLocationOptions;
  /** Parent of the working directory (certificates, etcd data, kubeconfigs). Default `os.tmpdir()`. */
  tmpDir?: string;
  /**
   * Write the components' logs here and keep them after `stop()`. Default: in the working
   * directory, removed by `stop()`; a failed start-up puts each log's tail in its error anyway.
   */
  logDir?: string;
  /** Extra kube-apiserver flags, appended last (so they win), e.g. `['--feature-gates=...']`. */
  apiServerFlags?: string[];
  /** How long start-up may take before it fails with `WaitTimeoutError`. Default 60 s. */
  startTimeoutMs?: number;
}

/** The user of `kubeConfig`: a member of `system:masters`, so RBAC never gets in its way. */
export const ADMIN_USER = 'steward-admin';

/** A running control plane, from `startControlPlane()`; `stop()` removes every process and file. */
export class ControlPlane {
  /** Admin access (`system:masters`) as a @kubernetes/client-node `KubeConfig`. */
  readonly kubeConfig: KubeConfig;
  /** The same admin access as a kubeconfig file, for kubectl and other processes. */
  readonly kubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** The working directory; `stop()` removes it. */
  readonly directory: string;
  /** Names of the fake Nodes (empty unless started with `cluster`). */
  readonly nodeNames: readonly string[];
  readonly #ca: CertificateAuthority;
  readonly #processes: ManagedProcess[];
  #stopping: Promise<void> | undefined;

  /** @internal Use `startControlPlane`. */
  constructor(init: {
    kubeConfig: KubeConfig;
    kubeconfigPath: string;
    server: string;
    directory: string;
    nodeNames: string[];
    ca: CertificateAuthority;
    processes: ManagedProcess[];
  }) {
    this.kubeConfig = init.kubeConfig;
    this.kubeconfigPath = init.kubeconfigPath;
    this.server = init.server;
    this.directory = init.directory;
    this.nodeNames = init.nodeNames;
    this.#ca = init.ca;
    this.#processes = init.processes;
  }

  /**
   * A `KubeConfig` that authenticates as `user` in `groups` (a client certificate from the
   * cluster's CA), for RBAC tests and impersonation set-ups. It has no rights until RBAC grants
   * some; every user is also in `system:authenticated`.
   */
  async userKubeConfig(user: string, groups: string[] = []): Promise<KubeConfig> {
    return kubeConfigFrom(await this.#userSpec(user, groups));
  }

  /** Like `userKubeConfig`, written as a kubeconfig file in the working directory; returns its path. */
  async writeUserKubeconfig(user: string, groups: string[] = []): Promise<string> {
    const path = join(this.directory, `kubeconfig-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
    await writeKubeconfig(path, await this.#userSpec(user, groups));
    return path;
  }

  async #userSpec(user: string, groups: string[]): Promise<KubeconfigSpec> {
    if (this.#stopping) throw new ControlPlaneStoppedError(`control plane ${this.server} is stopped`);
    const cert = await this.#ca.issue({ commonName: user, organizations: groups, usage: 'client' });
    return { server: this.server, caPem: this.#ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, user };
  }

  /**
   * Stops every process (kwok, scheduler and controller manager first, etcd last) and removes the
   * working directory. Idempotent; concurrent calls share one stop.
   */
  stop(): Promise<void> {
    this.#stopping ??= stopAll(this.#processes, this.directory);
    return this.#stopping;
  }
}

async function stopAll(processes: ManagedProcess[], dir: string): Promise<void> {
  // Reverse start order: clients of the apiserver first, then the apiserver, then etcd.
  const [etcd, apiserver, ...rest] = processes;
  await Promise.all(rest.map((p) => p.stop()));
  await apiserver?.stop();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
  untrackDirectory(dir);
}

/**
 * Starts a control plane and resolves once the apiserver's `/readyz` passes (and, with
 * `cluster`, once the fake nodes are Ready and the controller manager and scheduler are healthy).
 * Always `stop()` it (in `afterAll`); if the process dies first, exit handlers and an external
 * watchdog still remove every process and file. Share one per test file: start-up takes seconds.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  // Free ports are found by binding and releasing them, so another process may take one before
  // its component binds it; that start-up fails at once and is worth another try.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      const clash = err instanceof ProcessExitedError && /address already in use/.test(err.message);
      if (!clash || attempt === 3) throw err;
    }
  }
}

async function startOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const started = Date.now();
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const bin = locateBinaries(opts.binaries);
  requireExecutable('etcd', bin.etcd);
  requireExecutable('kube-apiserver', bin.kubeApiserver);
  if (opts.cluster) {
    requireExecutable('kube-controller-manager', bin.kubeControllerManager);
    requireExecutable('kube-scheduler', bin.kubeScheduler);
    requireExecutable('kwok', bin.kwok);
    requireDirectory('kwok stages', bin.kwokStagesDir);
  }

  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'steward-cp-'));
  trackDirectory(dir);
  startWatchdog(dir);
  const logDir = opts.logDir ?? dir;
  mkdirSync(logDir, { recursive: true });
  const processes: ManagedProcess[] = [];
  // Aborts the polling loops once start-up is over either way, so none keeps running after a failure.
  const abort = new AbortController();
  const start = (name: string, command: string, args: string[]) => {
    const p = ManagedProcess.start({
      name,
      command,
      args,
      logPath: join(logDir, `${name}.log`),
      onStart: (pid) => appendFileSync(join(dir, 'pids'), `${pid}\n`),
    });
    processes.push(p);
    return p;
  };

  try {
    const [etcdClientPort, etcdPeerPort, apiServerPort, kcmPort, schedulerPort, kwokPort] = (await freePorts(
      6,
    )) as [number, number, number, number, number, number];
    const [ca, etcdVersion] = await Promise.all([
      CertificateAuthority.create(dir, 'ca'),
      probeEtcdVersion(bin.etcd),
    ]);
    const [serving, admin, saKeys] = await Promise.all([
      ca.issue(
        {
          commonName: 'kube-apiserver',
          usage: 'server',
          ipAddresses: ['127.0.0.1', '10.0.0.1'],
          dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
        },
        'apiserver',
      ),
      ca.issue({ commonName: ADMIN_USER, organizations: ['system:masters'], usage: 'client' }, 'admin'),
      generateKeys(),
    ]);
    const layout: Layout = {
      dir,
      etcdClientPort,
      etcdPeerPort,
      apiServerPort,
      caCert: ca.certPath,
      servingCert: serving.certPath,
      servingKey: serving.keyPath,
      serviceAccountKey: join(dir, 'sa.key'),
      serviceAccountPublicKey: join(dir, 'sa.pub'),
      adminKubeconfig: join(dir, 'kubeconfig'),
    };
    await writeFile(layout.serviceAccountKey, saKeys.privateKeyPem, { mode: 0o600 });
    await writeFile(layout.serviceAccountPublicKey, saKeys.publicKeyPem);
    const server = `https://127.0.0.1:${apiServerPort}`;
    const adminSpec = {
      server,
      caPem: ca.certPem,
      certPem: admin.certPem,
      keyPem: admin.keyPem,
      user: ADMIN_USER,
    };
    await writeKubeconfig(layout.adminKubeconfig, adminSpec);

    // The apiserver retries its etcd connection, so both start at once.
    start('etcd', bin.etcd, etcdArgs(layout, etcdVersion));
    start('kube-apiserver', bin.kubeApiserver, [...apiServerArgs(layout), ...(opts.apiServerFlags ?? [])]);
    const remaining = () => Math.max(1, timeoutMs - (Date.now() - started));
    const guard = <T>(p: Promise<T>) => Promise.race([p, ...processes.map((proc) => proc.failOnExit())]);
    const tls = { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem };
    await guard(
      waitFor(async () => (await httpsStatus(`${server}/readyz`, tls)) === 200, {
        timeoutMs: remaining(),
        description: 'kube-apiserver /readyz',
        signal: abort.signal,
      }),
    );
    const kubeConfig = kubeConfigFrom(adminSpec);

    let nodeNames: string[] = [];
    if (opts.cluster) {
      const kwokConfigPath = join(dir, 'kwok.yaml');
      await writeFile(kwokConfigPath, await kwokConfig(bin.kwokStagesDir));
      const controllers = opts.controllers ?? DEFAULT_CONTROLLERS;
      start(
        'kube-controller-manager',
        bin.kubeControllerManager,
        controllerManagerArgs(layout, kcmPort, controllers),
      );
      start('kube-scheduler', bin.kubeScheduler, schedulerArgs(layout, schedulerPort));
      start('kwok', bin.kwok, kwokArgs(layout, kwokPort, kwokConfigPath));
      nodeNames = await guard(createFakeNodes(kubeConfig, opts.nodes));
      await guard(waitForCluster(kubeConfig, nodeNames, kcmPort, schedulerPort, remaining(), abort.signal));
    }
    return new ControlPlane({
      kubeConfig,
      kubeconfigPath: layout.adminKubeconfig,
      server,
      directory: dir,
      nodeNames,
      ca,
      processes,
    });
  } catch (err) {
    abort.abort();
    await stopAll(processes, dir);
    throw err;
  } finally {
    abort.abort();
  }
}

async function waitForCluster(
  kubeConfig: KubeConfig,
  nodeNames: string[],
  kcmPort: number,
  schedulerPort: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await Promise.all([
    waitFor(
      async () => {
        const { items } = await core.listNode();
        const ready = items.filter((n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length >= nodeNames.length;
      },
      { timeoutMs: left(), intervalMs: 200, description: `${nodeNames.length} kwok node(s) Ready`, signal },
    ),
    waitFor(async () => (await httpsStatus(`https://127.0.0.1:${kcmPort}/healthz`)) === 200, {
      timeoutMs: left(),
      description: 'kube-controller-manager /healthz',
      signal,
    }),
    waitFor(async () => (await httpsStatus(`https://127.0.0.1:${schedulerPort}/readyz`)) === 200, {
      timeoutMs: left(),
      description: 'kube-scheduler /readyz',
      signal,
    }),
  ]);
}
