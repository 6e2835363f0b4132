import { parseDuration } from '../../../cmd/duration.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { parseManagerFlags, UsageError } from '../../../cmd/manager-flags.js';
import { DEFAULT_TENANT_POLICY, parseTenantPolicy } from '../../../controllers/session/index.js';

const parse = (argv: string[], env: Record<string, string> = {}) => parseManagerFlags(argv, env, () => {});

function usage(argv: string[], env: Record<string, string> = {}): string {
  try {
    parse(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('manager flags', () => {
  test('defaults', () => {
    expect(parse([])).toEqual({
      kubeconfig: undefined,
      maxConcurrentReconciles: 10,
      metricsBindAddress: ':8080',
      healthProbeBindAddress: ':8081',
      leaderElect: false,
      leaderElectionId: 'steward-manager',
      leaderElectionNamespace: undefined,
      namespaces: undefined,
      runnerImage: undefined,
      kubeApiQps: 100,
      kubeApiBurst: 150,
      gracefulShutdownTimeoutMs: 30_000,
      cacheSyncTimeoutMs: 120_000,
      devMode: false,
      logLevel: 'info',
      controllers: ['session', 'workflow', 'schedule'],
      controllersExplicit: false,
      tenantPolicyPath: undefined,
      tenantPolicy: DEFAULT_TENANT_POLICY,
    });
  });

  test('flags and their environment fallbacks; flags win', () => {
    const f = parse(
      [
        '--max-concurrent-reconciles=4',
        '--leader-elect',
        '--namespace',
        'a, b',
        '--graceful-shutdown-timeout',
        '1m30s',
        '--cache-sync-timeout=10s',
      ],
      {
        MAX_CONCURRENT_RECONCILES: '7',
        RUNNER_IMAGE: 'runner:2',
        DEV_MODE: 'true',
      },
    );
    expect(f).toMatchObject({
      maxConcurrentReconciles: 4,
      leaderElect: true,
      namespaces: ['a', 'b'],
      gracefulShutdownTimeoutMs: 90_000,
      cacheSyncTimeoutMs: 10_000,
      runnerImage: 'runner:2',
      devMode: true,
    });
    expect(parse([], { MAX_CONCURRENT_RECONCILES: '7', NAMESPACE: 'x' })).toMatchObject({
      maxConcurrentReconciles: 7,
      namespaces: ['x'],
    });
    expect(parse(['--watch-namespaces=y'])?.namespaces).toEqual(['y']);
    expect(parse(['--leader-elect=false'])?.leaderElect).toBe(false);
  });

  test('bad values: one line naming the flag', () => {
    for (const [argv, flag] of [
      [['--max-concurrent-reconciles', 'ten'], '--max-concurrent-reconciles'],
      [['--max-concurrent-reconciles', '0'], '--max-concurrent-reconciles'],
      [['--metrics-bind-address', '8080'], '--metrics-bind-address'],
      [['--graceful-shutdown-timeout', 'soon'], '--graceful-shutdown-timeout'],
      [['--log-level', 'loud'], '--log-level'],
      [['--leader-elect=maybe'], '--leader-elect'],
      [['--kube-api-qps', '-1'], '--kube-api-qps'],
      [['--controllers', 'session,nope'], '--controllers'],
      [['--no-such-flag'], '--no-such-flag'],
      [['--leader-election-id', ''], '--leader-election-id'],
      [['--leader-election-id', 'Not_A_Name'], '--leader-election-id'],
      [['--leader-election-namespace', ''], '--leader-election-namespace'],
      [['--leader-election-namespace', 'a.b'], '--leader-election-namespace'],
      [['--cache-sync-timeout', '0s'], '--cache-sync-timeout'],
      // A namespace that cannot exist would be watched, found empty, and reported ready.
      [['--namespace', 'team-a,Team-B'], '--namespace'],
      [['--namespace', 'bad ns'], '--namespace'],
      [['--watch-namespaces', 'x'.repeat(64)], '--namespace'],
      // An empty value is not "off" (that is 0), nor a controller list, nor an image.
      [['--metrics-bind-address', ''], '--metrics-bind-address'],
      [['--health-probe-bind-address', ''], '--health-probe-bind-address'],
      [['--controllers', ''], '--controllers'],
      [['--controllers', ' , '], '--controllers'],
      [['--runner-image', ''], '--runner-image'],
    ] as const) {
      const msg = usage([...argv]);
      expect(msg).toContain(flag);
      expect(msg).not.toContain('\n');
    }
    expect(usage([], { MAX_CONCURRENT_RECONCILES: 'lots' })).toContain('--max-concurrent-reconciles');
    expect(usage([], { LEADER_ELECTION_ID: '' })).toContain('--leader-election-id');
    expect(usage([], { NAMESPACE: 'prod,Staging' })).toContain('--namespace');
    expect(usage([], { METRICS_BIND_ADDRESS: '' })).toContain('--metrics-bind-address');
    // Empty means all namespaces, as WATCH_NAMESPACE="" does for operator-sdk operators.
    expect(parse(['--namespace', ''])?.namespaces).toBeUndefined();
    expect(parse(['--leader-election-id', 'my-operator.example.com'])?.leaderElectionId).toBe(
      'my-operator.example.com',
    );
  });

  test('controllers can be switched off by flag or FEATURE_<NAME>=false', () => {
    expect(parse(['--controllers=session'])).toMatchObject({
      controllers: ['session'],
      controllersExplicit: true,
    });
    expect(parse(['--controllers=schedule,session'])?.controllers).toEqual(['schedule', 'session']);
    expect(parse(['--controllers=workflow,session'])?.controllers).toEqual(['workflow', 'session']);
    expect(parse([], { FEATURE_SESSION: 'false' })?.controllers).toEqual(['workflow', 'schedule']);
    expect(parse([], { FEATURE_WORKFLOW: 'false' })?.controllers).toEqual(['session', 'schedule']);
    expect(
      parse([], { FEATURE_SESSION: 'false', FEATURE_SCHEDULE: 'no', FEATURE_WORKFLOW: 'false' })?.controllers,
    ).toEqual([]);
  });

  test('--help prints every flag and returns undefined', () => {
    let text = '';
    expect(parseManagerFlags(['--help'], {}, (s) => (text += s))).toBeUndefined();
    for (const flag of [
      '--max-concurrent-reconciles',
      '--metrics-bind-address',
      '--health-probe-bind-address',
      '--leader-elect',
      '--leader-election-id',
      '--leader-election-namespace',
      '--namespace',
      '--runner-image',
      '--kube-api-qps',
      '--kube-api-burst',
      '--graceful-shutdown-timeout',
      '--cache-sync-timeout',
      '--dev-mode',
      '--log-level',
      '--controllers',
      '--tenant-policy',
      '--print-tenant-policy',
      'MAX_CONCURRENT_RECONCILES',
      'TENANT_POLICY',
    ]) {
      expect(text).toContain(flag);
    }
  });
});

describe('--tenant-policy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'manager-flags-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test('loads the file (flag or TENANT_POLICY); without one the built-in defaults apply', () => {
    const path = file('ok.yaml', 'serviceAccounts:\n  allowed: [builder]\n');
    const want = parseTenantPolicy({ serviceAccounts: { allowed: ['builder'] } });
    expect(parse(['--tenant-policy', path])).toMatchObject({ tenantPolicyPath: path, tenantPolicy: want });
    expect(parse([], { TENANT_POLICY: path })?.tenantPolicy).toEqual(want);
    expect(parse([])?.tenantPolicy).toBe(DEFAULT_TENANT_POLICY);
  });

  test('a bad policy is a usage error (exit 2): one line naming the flag, the file and the field', () => {
    const path = file(
      'bad.yaml',
      'tolerations:\n  allowed:\n    - operator: Exists\n      effect: Sometimes\n',
    );
    expect(usage(['--tenant-policy', path])).toBe(
      `option '--tenant-policy <path>': ${path}: tolerations.allowed[0].effect: must be NoSchedule, PreferNoSchedule, NoExecute or empty`,
    );
    expect(usage(['--tenant-policy', join(dir, 'none.yaml')])).toMatch(
      /--tenant-policy.*none\.yaml: cannot read it: ENOENT$/,
    );
    expect(usage(['--tenant-policy', file('typo.yaml', 'secret: {}\n')])).toContain('secret: unknown field');
  });

  test('--print-tenant-policy prints the effective policy and returns undefined', () => {
    let text = '';
    expect(parseManagerFlags(['--print-tenant-policy'], {}, (s) => (text += s))).toBeUndefined();
    expect(text).toContain('container.apparmor.security.beta.kubernetes.io/*');
    expect(parseTenantPolicy(load(text))).toEqual(DEFAULT_TENANT_POLICY);
  });
});

describe('parseDuration', () => {
  test('Go-style durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('15')).toBe(15_000);
    expect(() => parseDuration('1x')).toThrow();
    expect(() => parseDuration('')).toThrow();
    expect(() => parseDuration('s')).toThrow();
  });
});
