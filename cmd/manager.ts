#!/usr/bin/env node
// The Steward operator. Usage: node dist/cmd/manager.js --help
import { KubeConfig } from '@kubernetes/client-node';
import { setupSessionController } from '../controllers/session/index.js';
import { createLogger, LeaderElectionLostError, Manager, setupSignalHandler } from '../lib/index.js';
import { parseManagerFlags, UsageError } from './manager-flags.js';

async function main(): Promise<number> {
  let flags;
  try {
    flags = parseManagerFlags(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`manager: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (flags === undefined) return 0;
  const logger = createLogger({ level: flags.logLevel, development: flags.devMode });
  const kubeConfig = new KubeConfig();
  try {
    if (flags.kubeconfig) kubeConfig.loadFromFile(flags.kubeconfig);
    else kubeConfig.loadFromDefault();
    if (!kubeConfig.getCurrentCluster()) throw new Error('no cluster in the kubeconfig');
  } catch (err) {
    logger.error('Cannot load a kubeconfig', { error: (err as Error).message });
    return 1;
  }
  const mgr = await Manager.create({
    kubeConfig,
    leaderElection: {
      enabled: flags.leaderElect,
      id: flags.leaderElectionId,
      namespace: flags.leaderElectionNamespace,
    },
    metricsBindAddress: flags.metricsBindAddress,
    healthProbeBindAddress: flags.healthProbeBindAddress,
    gracefulShutdownTimeoutMs: flags.gracefulShutdownTimeoutMs,
    namespaces: flags.namespaces,
    qps: flags.kubeApiQps,
    burst: flags.kubeApiBurst,
    logger,
  });
  if (flags.controllers.includes('session')) {
    setupSessionController(mgr, {
      maxConcurrentReconciles: flags.maxConcurrentReconciles,
      runnerImage: flags.runnerImage,
      tenantPolicy: flags.tenantPolicy,
    });
  }
  logger.info('Starting manager', {
    controllers: flags.controllers,
    leaderElect: flags.leaderElect,
    namespaces: flags.namespaces ?? 'all',
    tenantPolicy: flags.tenantPolicyPath ?? 'built-in defaults',
    identity: mgr.identity,
  });
  try {
    await mgr.start(setupSignalHandler());
  } catch (err) {
    if (err instanceof LeaderElectionLostError) {
      logger.error('Leader election lost; exiting so a fresh process can take over');
      return 1;
    }
    throw err;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`manager: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
