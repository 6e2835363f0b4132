/**
 * The long-running half of `make cluster-up`: starts a full local cluster (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, kwok with fake nodes), publishes its kubeconfig in the
 * cluster directory, and runs until SIGTERM or SIGINT, when it stops everything and cleans up.
 * hack/cluster.sh starts it detached and stops it; run it directly only to debug it.
 *
 * Environment: STEWARD_CLUSTER_DIR (default ~/.cache/steward/cluster), STEWARD_CLUSTER_NODES
 * (default 2).
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// The control-plane module directly, not lib/testing/index: this script compiles on its own.
import { startControlPlane } from '../lib/testing/control-plane.js';

const clusterDir = process.env.STEWARD_CLUSTER_DIR || join(homedir(), '.cache', 'steward', 'cluster');
const nodes = Number(process.env.STEWARD_CLUSTER_NODES || '2');
const kubeconfig = join(clusterDir, 'kubeconfig');
const readyFile = join(clusterDir, 'ready');

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} cluster: ${message}\n`);
}

async function main(): Promise<void> {
  mkdirSync(clusterDir, { recursive: true });
  rmSync(readyFile, { force: true });
  // Logs are appended to; start each cluster with fresh ones.
  rmSync(join(clusterDir, 'logs'), { recursive: true, force: true });
  const started = Date.now();
  const cp = await startControlPlane({
    cluster: true,
    nodes: { count: nodes },
    logDir: join(clusterDir, 'logs'),
    startTimeoutMs: 120_000,
  });
  copyFileSync(cp.kubeconfigPath, kubeconfig);
  log(`up in ${Date.now() - started} ms at ${cp.server} with nodes ${cp.nodeNames.join(', ')}`);
  // Written last: hack/cluster.sh waits for this file to report success.
  writeFileSync(readyFile, `${cp.server}\n`);

  let stopping = false;
  const shutDown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    rmSync(readyFile, { force: true });
    rmSync(kubeconfig, { force: true });
    cp.stop().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log(`stop failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutDown);
  process.on('SIGINT', shutDown);
  process.on('SIGHUP', shutDown);
  // Keeps the event loop alive while nothing else is pending.
  setInterval(() => {}, 1 << 30);
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
