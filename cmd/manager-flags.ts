import { Command, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_TENANT_POLICY,
  formatTenantPolicy,
  loadTenantPolicy,
  type TenantPolicy,
  TenantPolicyError,
} from '../controllers/session/index.js';
import { DEFAULT_BURST, DEFAULT_QPS, parseBindAddress } from '../lib/index.js';
import { parseDuration } from './duration.js';

/** Controllers this binary can run, for --controllers and FEATURE_<NAME>=false. */
export const CONTROLLERS = ['session', 'workflow', 'schedule'] as const;
export type ControllerName = (typeof CONTROLLERS)[number];

export interface ManagerFlags {
  kubeconfig?: string;
  maxConcurrentReconciles: number;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionId: string;
  leaderElectionNamespace?: string;
  namespaces?: string[];
  runnerImage?: string;
  kubeApiQps: number;
  kubeApiBurst: number;
  gracefulShutdownTimeoutMs: number;
  cacheSyncTimeoutMs: number;
  devMode: boolean;
  logLevel: string;
  controllers: ControllerName[];
  /** The file --tenant-policy named, if any. */
  tenantPolicyPath?: string;
  /** The tenant policy: the file's, or the built-in safe defaults. */
  tenantPolicy: TenantPolicy;
  /**
   * Whether --controllers was given: then a controller whose CRD is not installed is an error;
   * by default it is skipped with a warning.
   */
  controllersExplicit: boolean;
}

/** A bad command line: print the one-line message and exit 2. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

const positiveInt = (what: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
};
const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
};
const bindAddress = (v: string) => {
  // The framework reads '' as "no server", but as a flag value it is a mistake (an unset
  // variable in a manifest, say): '0' is the documented way to turn a server off.
  if (v === '') throw new InvalidArgumentError('must not be empty: give host:port, :port, or 0 to disable');
  try {
    parseBindAddress(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return v;
};
const bool = (v: string) => {
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new InvalidArgumentError('must be true or false');
};
const duration = (v: string) => {
  try {
    const ms = parseDuration(v);
    if (ms <= 0) throw new Error('must be > 0');
    return ms;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};
// The Lease's name is an object name (a DNS subdomain); its namespace a DNS label.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const objectName = (what: string, re: RegExp, max: number) => (v: string) => {
  if (v === '') throw new InvalidArgumentError('must not be empty');
  if (v.length > max || !re.test(v)) {
    throw new InvalidArgumentError(
      `must be a valid ${what}: lower-case letters, digits and '-'${re === DNS_LABEL ? '' : " and '.'"}, at most ${max} characters`,
    );
  }
  return v;
};
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
// Empty means every namespace (as WATCH_NAMESPACE="" does for operator-sdk operators); a name
// that cannot be a namespace would be watched, found empty, and reported ready.
const namespaceList = (v: string) => {
  const names = list(v);
  for (const n of names) {
    if (n.length > 63 || !DNS_LABEL.test(n)) {
      throw new InvalidArgumentError(
        `"${n}" is not a namespace name: lower-case letters, digits and '-', at most 63 characters`,
      );
    }
  }
  return names;
};
const controllerList = (v: string) => {
  const names = list(v);
  if (names.length === 0) {
    throw new InvalidArgumentError(`must name at least one controller (${CONTROLLERS.join(', ')})`);
  }
  return names;
};
const nonEmpty = (v: string) => {
  if (v.trim() === '') throw new InvalidArgumentError('must not be empty');
  return v;
};
const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];

function program(): Command {
  return new Command('manager')
    .description(
      'Steward operator: drives Session resources (steward.dev/v1alpha1) to a terminal phase by running Kubernetes Jobs,\n' +
        'Workflows (DAGs of tasks) by running each task as a Session, and starts the runs of Schedule resources at their\n' +
        'cron times.\n' +
        'Kubeconfig is found as kubectl finds it: --kubeconfig, $KUBECONFIG, ~/.kube/config, or in-cluster.',
    )
    .addOption(
      new Option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)'),
    )
    .addOption(
      new Option('--max-concurrent-reconciles <n>', 'Sessions reconciled in parallel')
        .env('MAX_CONCURRENT_RECONCILES')
        .default(10)
        .argParser(positiveInt('--max-concurrent-reconciles')),
    )
    .addOption(
      new Option('--metrics-bind-address <addr>', 'address of the /metrics server; 0 disables it')
        .env('METRICS_BIND_ADDRESS')
        .default(':8080')
        .argParser(bindAddress),
    )
    .addOption(
      new Option('--health-probe-bind-address <addr>', 'address of /healthz and /readyz; 0 disables it')
        .env('HEALTH_PROBE_BIND_ADDRESS')
        .default(':8081')
        .argParser(bindAddress),
    )
    .addOption(
      new Option(
        '--leader-elect [bool]',
        'elect a leader through a Lease; only the leader reconciles (use with replicas > 1)',
      )
        .env('LEADER_ELECT')
        .default(false)
        .argParser(bool),
    )
    .addOption(
      new Option('--leader-election-id <name>', 'name of the leader election Lease')
        .env('LEADER_ELECTION_ID')
        .default('steward-manager')
        .argParser(objectName('Lease name', DNS_SUBDOMAIN, 253)),
    )
    .addOption(
      new Option(
        '--leader-election-namespace <ns>',
        'namespace of the Lease (default: the pod namespace, else default)',
      )
        .env('LEADER_ELECTION_NAMESPACE')
        .argParser(objectName('namespace name', DNS_LABEL, 63)),
    )
    .addOption(
      new Option(
        '--namespace, --watch-namespaces <list>',
        'comma-separated namespaces to watch (default: all)',
      )
        .env('NAMESPACE')
        .argParser(namespaceList),
    )
    .addOption(
      new Option('--runner-image <image>', 'image for Sessions that name none')
        .env('RUNNER_IMAGE')
        .argParser(nonEmpty),
    )
    .addOption(
      new Option(
        '--kube-api-qps <qps>',
        'client-side rate limit: requests per second, one budget for the process',
      )
        .env('KUBE_API_QPS')
        .default(DEFAULT_QPS)
        .argParser(positiveNumber),
    )
    .addOption(
      new Option('--kube-api-burst <n>', 'burst for the API rate limit')
        .env('KUBE_API_BURST')
        .default(DEFAULT_BURST)
        .argParser(positiveInt('--kube-api-burst')),
    )
    .addOption(
      new Option(
        '--graceful-shutdown-timeout <duration>',
        'how long a stop waits for in-flight reconciles (e.g. 30s)',
      )
        .env('GRACEFUL_SHUTDOWN_TIMEOUT')
        .default(30_000, '30s')
        .argParser(duration),
    )
    .addOption(
      new Option(
        '--cache-sync-timeout <duration>',
        'how long start-up waits for the caches to sync before it fails naming the kinds that did not (e.g. 2m)',
      )
        .env('CACHE_SYNC_TIMEOUT')
        .default(120_000, '2m')
        .argParser(duration),
    )
    .addOption(
      new Option('--dev-mode [bool]', 'readable log lines instead of JSON')
        .env('DEV_MODE')
        .default(false)
        .argParser(bool),
    )
    .addOption(
      new Option('--log-level <level>', 'log level').env('LOG_LEVEL').default('info').choices(LOG_LEVELS),
    )
    .addOption(
      new Option(
        '--controllers <list>',
        `comma-separated controllers to run (${CONTROLLERS.join(', ')}; by default those whose CRD is installed); FEATURE_<NAME>=false also disables one`,
      )
        .default([...CONTROLLERS], CONTROLLERS.join(','))
        .argParser(controllerList),
    )
    .addOption(
      new Option(
        '--tenant-policy <path>',
        'YAML file with the tenant policy: the ServiceAccounts, Secrets, ConfigMaps, tolerations, node selectors, labels, annotations and resources a Session may use (default: the safe built-in policy; docs/security.md)',
      ).env('TENANT_POLICY'),
    )
    .addOption(new Option('--print-tenant-policy', 'print the effective tenant policy as YAML and exit'))
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError(false)
    .allowExcessArguments(false);
}

/**
 * Parses the manager's command line with environment fallbacks. Throws `UsageError` with a
 * one-line message naming the flag (and, for --tenant-policy, the field) for bad input; returns
 * undefined when help or the tenant policy was printed.
 */
export function parseManagerFlags(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (s: string) => void = (s) => process.stdout.write(s),
): ManagerFlags | undefined {
  const saved = process.env;
  const cmd = program();
  let usage: string | undefined;
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: out, writeErr: (s) => (usage = s.trim().replace(/^error: /, '')) });
  process.env = env;
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.help') return undefined;
    throw new UsageError(usage ?? (err as Error).message);
  } finally {
    process.env = saved;
  }
  const o = cmd.opts();
  const controllers = (o.controllers as string[]).map((c) => c.toLowerCase());
  for (const c of controllers) {
    if (!(CONTROLLERS as readonly string[]).includes(c)) {
      throw new UsageError(
        `option '--controllers <list>': unknown controller "${c}" (known: ${CONTROLLERS.join(', ')})`,
      );
    }
  }
  let tenantPolicy = DEFAULT_TENANT_POLICY;
  if (o.tenantPolicy !== undefined) {
    try {
      tenantPolicy = loadTenantPolicy(o.tenantPolicy);
    } catch (err) {
      if (!(err instanceof TenantPolicyError)) throw err;
      throw new UsageError(`option '--tenant-policy <path>': ${o.tenantPolicy}: ${err.message}`);
    }
  }
  if (o.printTenantPolicy === true) {
    out(formatTenantPolicy(tenantPolicy));
    return undefined;
  }
  const enabled = controllers.filter(
    (c) => !/^(false|0|no)$/i.test(env[`FEATURE_${c.toUpperCase()}`] ?? ''),
  ) as ControllerName[];
  return {
    kubeconfig: o.kubeconfig,
    maxConcurrentReconciles: Number(o.maxConcurrentReconciles),
    metricsBindAddress: o.metricsBindAddress,
    healthProbeBindAddress: o.healthProbeBindAddress,
    leaderElect: o.leaderElect === true,
    leaderElectionId: o.leaderElectionId,
    leaderElectionNamespace: o.leaderElectionNamespace,
    namespaces:
      o.watchNamespaces && (o.watchNamespaces as string[]).length > 0 ? o.watchNamespaces : undefined,
    runnerImage: o.runnerImage,
    kubeApiQps: Number(o.kubeApiQps),
    kubeApiBurst: Number(o.kubeApiBurst),
    gracefulShutdownTimeoutMs: Number(o.gracefulShutdownTimeout),
    cacheSyncTimeoutMs: Number(o.cacheSyncTimeout),
    devMode: o.devMode === true,
    logLevel: o.logLevel,
    controllers: enabled,
    tenantPolicyPath: o.tenantPolicy,
    tenantPolicy,
    controllersExplicit: cmd.getOptionValueSource('controllers') === 'cli',
  };
}
