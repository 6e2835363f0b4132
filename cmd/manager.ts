#!/usr/bin/env node
// The Steward operator. Usage: npx steward-manager --help (bin/steward-manager.js starts this on Node 24)
import { KubeConfig } from '@kubernetes/client-node';
import { setupSessionController } from '../controllers/session/index.js';
import { setupWorkflowController } from '../controllers/workflow/index.js';
import {
  BindError,
  CacheSyncTimeoutError,
  createLogger,
  LeaderElectionLostError,
  Manager,
  setupSignalHandler,
} from '../lib/index.js';
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
  let mgr: Manager;
  try {
    mgr = await Manager.create({
      kubeConfig,
      leaderElection: {
        enabled: flags.leaderElect,
        id: flags.leaderElectionId,
        namespace: flags.leaderElectionNamespace,
      },
      metricsBindAddress: flags.metricsBindAddress,
      healthProbeBindAddress: flags.healthProbeBindAddress,
      gracefulShutdownTimeoutMs: flags.gracefulShutdownTimeoutMs,
      cacheSyncTimeoutMs: flags.cacheSyncTimeoutMs,
      namespaces: flags.namespaces,
      qps: flags.kubeApiQps,
      burst: flags.kubeApiBurst,
      logger,
    });
  } catch (err) {
    // A value the flags accepted but the framework refuses (a RangeError naming the option).
    if (err instanceof RangeError) {
      process.stderr.write(`manager: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (flags.controllers.includes('session')) {
    setupSessionController(mgr, {
      maxConcurrentReconciles: flags.maxConcurrentReconciles,
      runnerImage: flags.runnerImage,
      tenantPolicy: flags.tenantPolicy,
    });
  }
  if (flags.controllers.includes('workflow')) {
    setupWorkflowController(mgr, {
      maxConcurrentReconciles: flags.maxConcurrentReconciles,
      runnerImage: flags.runnerImage,
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
    logger.error(...whyStopped(err));
    return 1;
  }
  return 0;
}

/** The flag a Manager option comes from, for messages a user acts on. */
const FLAG_OF: Record<string, string> = {
  metricsBindAddress: '--metrics-bind-address',
  healthProbeBindAddress: '--health-probe-bind-address',
};

/**
 * The one log line that says why the manager stopped. Failures a user can act on are one
 * sentence without a stack; anything else is a bug, logged with its stack in the `error` field.
 */
function whyStopped(err: unknown): [string, Record<string, unknown>?] {
  if (err instanceof LeaderElectionLostError) {
    return ['Leader election lost; exiting so a fresh process can take over'];
  }
  if (err instanceof BindError) {
    const flag = FLAG_OF[err.option] ?? err.option;
    return [err.message.replace(err.option, flag), { flag, address: err.address, code: err.syscallCode }];
  }
  // Names each kind that did not sync and why.
  if (err instanceof CacheSyncTimeoutError) return [err.message, { kinds: err.kinds }];
  return ['Manager failed', { error: err }];
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`manager: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
