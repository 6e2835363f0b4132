#!/usr/bin/env node
// The Steward operator. Usage: npx steward-manager --help (bin/steward-manager.js starts this on Node 24)
import { KindNotInstalledError, kindServed, setupScheduleController } from '../controllers/schedule/index.js';
import { setupSessionController } from '../controllers/session/index.js';
import { setupWorkflowController, WORKFLOW_GVK } from '../controllers/workflow/index.js';
import {
  BindError,
  CacheSyncTimeoutError,
  createLogger,
  KubeClient,
  KubeConfigError,
  type KubeConfigLike,
  LeaderElectionLostError,
  loadKubeConfig,
  Manager,
  setupSignalHandler,
} from '../lib/index.js';
import { type ControllerName, parseManagerFlags, UsageError } from './manager-flags.js';

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
  let kubeConfig: KubeConfigLike;
  try {
    kubeConfig = await loadKubeConfig({ path: flags.kubeconfig });
    if (!kubeConfig.getCurrentCluster()) throw new KubeConfigError('no cluster in the kubeconfig');
  } catch (err) {
    // A file named by --kubeconfig that cannot serve is a bad flag value (exit 2, like a bad
    // --tenant-policy); a default one that cannot ($KUBECONFIG, ~/.kube/config, in-cluster) is
    // the environment's problem (exit 1).
    if (flags.kubeconfig && err instanceof KubeConfigError) {
      process.stderr.write(
        `manager: option '--kubeconfig <path>': ${flags.kubeconfig}: ${kubeconfigProblem(err)}\n`,
      );
      return 2;
    }
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
  // Discovery without retries: an API server that cannot be reached must not hold up start-up,
  // which binds the ports and then reports what is wrong.
  const discovery = new KubeClient(kubeConfig, { qps: 0, retry: { maxRetries: 0 }, requestTimeoutMs: 5_000 });
  try {
    // A controller whose CRD is not installed: asked for by name, an error; by default, left out.
    const notInstalled = (controller: ControllerName, err: KindNotInstalledError): boolean => {
      if (flags.controllersExplicit) {
        logger.error(`Cannot start the ${controller} controller`, { error: err.message });
        return true;
      }
      logger.warn(`Not starting the ${controller} controller`, { reason: err.message });
      flags.controllers = flags.controllers.filter((c) => c !== controller);
      return false;
    };
    if (flags.controllers.includes('workflow')) {
      if (await kindServed(discovery, WORKFLOW_GVK, logger)) {
        setupWorkflowController(mgr, {
          maxConcurrentReconciles: flags.maxConcurrentReconciles,
          runnerImage: flags.runnerImage,
        });
      } else if (notInstalled('workflow', new KindNotInstalledError(WORKFLOW_GVK))) return 1;
    }
    if (flags.controllers.includes('schedule')) {
      try {
        await setupScheduleController(mgr, {
          maxConcurrentReconciles: flags.maxConcurrentReconciles,
          runnerImage: flags.runnerImage,
          tenantPolicy: flags.tenantPolicy,
          discovery,
        });
      } catch (err) {
        if (!(err instanceof KindNotInstalledError)) throw err;
        if (notInstalled('schedule', err)) return 1;
      }
    }
  } finally {
    discovery.close();
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

/** Why a kubeconfig named on the command line cannot serve, in one line. */
function kubeconfigProblem(err: KubeConfigError): string {
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  if (cause?.code) return `cannot read it: ${cause.code}`;
  if (cause instanceof Error) return `not a kubeconfig: ${cause.message.split('\n')[0]}`;
  return `no current cluster in it (${err.message})`;
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
