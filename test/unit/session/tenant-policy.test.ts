// checkTenantPolicy, rule by rule: each with a case it allows and a case it refuses, under the
// defaults and under a loosened policy; plus the pattern matching the rules are built on.
import fc from 'fast-check';
import {
  checkTenantPolicy,
  DEFAULT_TENANT_POLICY,
  parseTenantPolicy,
  type Session,
  type TenantPolicy,
} from '../../../controllers/session/index.js';
import { allowsName, glob } from '../../../controllers/session/tenant-policy.js';
import { compareQuantities, parseQuantity } from '../../../controllers/session/quantity.js';

const session = (template: unknown, namespace = 'team-a'): Session => ({
  apiVersion: 'steward.dev/v1alpha1',
  kind: 'Session',
  metadata: { namespace, name: 's' },
  spec: { template: template as never },
});
const check = (template: unknown, policy: TenantPolicy = DEFAULT_TENANT_POLICY, namespace = 'team-a') =>
  checkTenantPolicy(session(template, namespace), policy);
const rule = (template: unknown, policy?: TenantPolicy, namespace?: string) =>
  check(template, policy, namespace)?.rule;

describe('patterns', () => {
  test.each([
    ['*', '', true],
    ['*', 'anything/at.all', true],
    ['app', 'app', true],
    ['app', 'apps', false],
    ['ci-*', 'ci-builder', true],
    ['ci-*', 'ci-', true],
    ['ci-*', 'xci-builder', false],
    ['*.kubernetes.io/*', 'container.apparmor.security.beta.kubernetes.io/session', true],
    ['*.kubernetes.io/*', 'kubernetes.io/x', false],
    ['kubernetes.io/*', 'kubernetes.io/x', true],
    ['kubernetes.io/*', 'evilkubernetes.io/x', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['a*a', 'a', false],
    ['a.b', 'aXb', false], // dots are literal
    ['io.kubernetes.*', 'io.kubernetes.cri-o.Devices', true],
  ])('glob(%j, %j) = %j', (p, s, want) => expect(glob(p, s)).toBe(want));

  test('glob agrees with a regular expression built from the pattern', () => {
    const chars = fc.constantFrom('a', 'b', '.', '/', '-');
    fc.assert(
      fc.property(
        fc.string({ unit: fc.oneof(chars, fc.constant('*')), maxLength: 6 }),
        fc.string({ unit: chars, maxLength: 8 }),
        (p, s) => {
          const re = new RegExp(
            `^${p
              .split('*')
              .map((x) => x.replace(/[.]/g, '\\.'))
              .join('.*')}$`,
          );
          expect(glob(p, s)).toBe(re.test(s));
        },
      ),
    );
  });

  test('[namespace/]name patterns', () => {
    expect(allowsName(['builder'], 'any', 'builder')).toBe(true);
    expect(allowsName(['team-a/deployer'], 'team-a', 'deployer')).toBe(true);
    expect(allowsName(['team-a/deployer'], 'team-b', 'deployer')).toBe(false);
    expect(allowsName(['team-*/ci-*'], 'team-b', 'ci-x')).toBe(true);
    expect(allowsName(['team-*/ci-*'], 'other', 'ci-x')).toBe(false);
    expect(allowsName([], 'team-a', 'default')).toBe(false);
  });
});

describe('quantities', () => {
  const q = (s: unknown) => parseQuantity(s)!;
  test.each([
    ['4000m', '4', 0],
    ['1Gi', '1G', 1],
    ['1G', '1e9', 0],
    ['1.5', '1500m', 0],
    ['.5', '500m', 0],
    ['100Mi', '0.1Gi', -1],
    ['1Ki', '1024', 0],
    ['2', 2, 0],
    ['8Gi', '8589934592', 0],
    ['8589934593', '8Gi', 1],
    ['1n', '0', 1],
    ['+1k', '1000', 0],
    ['1E', '1e18', 0],
  ])('%j vs %j → %i', (a, b, want) => expect(compareQuantities(q(a), q(b))).toBe(want));

  test.each(['', 'abc', '1.2.3', '1Gb', '1 G', 'Gi', '1e', '1e999', null, {}])('%j is not a quantity', (s) =>
    expect(parseQuantity(s)).toBeUndefined(),
  );
});

describe('checkTenantPolicy under the defaults', () => {
  test('an empty template, and one using only harmless fields, break no rule', () => {
    expect(check(undefined)).toBeUndefined();
    expect(
      check({
        image: 'busybox',
        command: ['sh'],
        env: [
          { name: 'A', value: '1' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
        ],
        labels: { team: 'a', 'example.com/owner': 'me' },
        annotations: { 'prometheus.io/scrape': 'true', 'steward.dev/fake-exit-code': '3' },
        resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: 4, memory: '8Gi' } },
        serviceAccountName: 'default',
      }),
    ).toBeUndefined();
  });

  test('serviceAccounts: only default, named or not', () => {
    expect(check({ serviceAccountName: 'admin' })).toEqual({
      rule: 'serviceAccounts.allowed',
      field: 'spec.template.serviceAccountName',
      value: 'admin',
      message:
        'Tenant policy rule serviceAccounts.allowed: spec.template.serviceAccountName "admin" is not allowed in namespace team-a',
    });
  });

  test('secrets: secretKeyRef and envFrom.secretRef', () => {
    const env = [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }];
    expect(check({ env })).toMatchObject({
      rule: 'secrets.allowed',
      field: 'spec.template.env[0].valueFrom.secretKeyRef.name',
      value: 'db',
    });
    expect(check({ envFrom: [{ prefix: 'X_', secretRef: { name: 'db' } }] })).toMatchObject({
      rule: 'secrets.allowed',
      field: 'spec.template.envFrom[0].secretRef.name',
    });
    // A reference without a usable name is refused too, never read as allowed.
    expect(rule({ env: [{ name: 'P', valueFrom: { secretKeyRef: { key: 'p' } } }] })).toBe('secrets.allowed');
    expect(rule({ env: [{ name: 'P', valueFrom: { secretKeyRef: 'db' } }] })).toBe('secrets.allowed');
  });

  test('configMaps: configMapKeyRef and envFrom.configMapRef', () => {
    expect(
      check({ env: [{ name: 'C', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] }),
    ).toMatchObject({
      rule: 'configMaps.allowed',
      field: 'spec.template.env[0].valueFrom.configMapKeyRef.name',
      value: 'cfg',
    });
    expect(rule({ envFrom: [{ configMapRef: { name: 'cfg' } }] })).toBe('configMaps.allowed');
  });

  test('envSources: a source kind Steward cannot vet is refused', () => {
    expect(check({ env: [{ name: 'F', valueFrom: { fileKeyRef: { path: 'x', key: 'k' } } }] })).toMatchObject(
      {
        rule: 'envSources',
        field: 'spec.template.env[0].valueFrom.fileKeyRef',
      },
    );
    expect(rule({ envFrom: [{ volumeRef: { name: 'v' } }] })).toBe('envSources');
  });

  test('tolerations: none, least of all tolerate-all', () => {
    expect(check({ tolerations: [{ operator: 'Exists' }] })).toMatchObject({
      rule: 'tolerations.allowed',
      field: 'spec.template.tolerations[0]',
      value: '{"operator":"Exists"}',
      message:
        'Tenant policy rule tolerations.allowed: spec.template.tolerations[0] {"operator":"Exists"} is not allowed in namespace team-a',
    });
    expect(rule({ tolerations: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }] })).toBe(
      'tolerations.allowed',
    );
  });

  test('nodeSelector: none', () => {
    expect(check({ nodeSelector: { 'kubernetes.io/hostname': 'control-plane-1' } })).toMatchObject({
      rule: 'nodeSelector.allowed',
      field: 'spec.template.nodeSelector["kubernetes.io/hostname"]',
      value: 'control-plane-1',
    });
  });

  test('labels: reserved prefixes and Service selector keys', () => {
    expect(check({ labels: { app: 'payments' } })).toMatchObject({
      rule: 'labels.serviceSelectorKeys',
      field: 'spec.template.labels["app"]',
      value: 'payments',
    });
    expect(check({ labels: { 'app.kubernetes.io/name': 'payments' } })).toMatchObject({
      rule: 'labels.deniedKeys',
      field: 'spec.template.labels["app.kubernetes.io/name"]',
    });
    for (const key of ['k8s-app', 'component', 'version'])
      expect(rule({ labels: { [key]: 'x' } })).toBe('labels.serviceSelectorKeys');
    for (const key of [
      'kubernetes.io/metadata.name',
      'batch.kubernetes.io/job-name',
      'security.istio.io/tlsMode',
      'steward.dev/session',
    ]) {
      expect([key, rule({ labels: { [key]: 'x' } })]).toEqual([key, 'labels.deniedKeys']);
    }
  });

  test('annotations: AppArmor, seccomp and other keys that Kubernetes, runtimes and meshes act on', () => {
    expect(
      check({ annotations: { 'container.apparmor.security.beta.kubernetes.io/session': 'unconfined' } }),
    ).toMatchObject({
      rule: 'annotations.deniedKeys',
      field: 'spec.template.annotations["container.apparmor.security.beta.kubernetes.io/session"]',
      value: 'unconfined',
    });
    for (const key of [
      'seccomp.security.alpha.kubernetes.io/pod',
      'container.seccomp.security.alpha.kubernetes.io/session',
      'app.kubernetes.io/name',
      'cluster-autoscaler.kubernetes.io/safe-to-evict',
      'k8s.v1.cni.cncf.io/networks',
      'io.kubernetes.cri-o.Devices',
      'traffic.sidecar.istio.io/excludeOutboundIPRanges',
    ]) {
      expect([key, rule({ annotations: { [key]: 'x' } })]).toEqual([key, 'annotations.deniedKeys']);
    }
  });

  test('resources: at most 4 CPUs, 8Gi memory, 10Gi ephemeral storage; nothing else', () => {
    expect(check({ resources: { limits: { cpu: '4001m' } } })).toMatchObject({
      rule: 'resources.max',
      field: 'spec.template.resources.limits["cpu"]',
      value: '4001m',
      message:
        'Tenant policy rule resources.max: spec.template.resources.limits["cpu"] "4001m" exceeds the maximum 4',
    });
    expect(rule({ resources: { requests: { memory: '9Gi' } } })).toBe('resources.max');
    expect(rule({ resources: { requests: { 'ephemeral-storage': '11Gi' } } })).toBe('resources.max');
    expect(check({ resources: { limits: { 'nvidia.com/gpu': 1 } } })?.message).toContain('sets no maximum');
    expect(check({ resources: { limits: { cpu: 'lots' } } })?.message).toContain('is not a quantity');
    // Names of Object.prototype members are resources without a maximum too, not a crash.
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const limits = JSON.parse(`{"${name}": "1"}`) as Record<string, string>;
      expect([name, check({ resources: { limits } })?.message]).toEqual([
        name,
        expect.stringContaining('sets no maximum'),
      ]);
    }
    expect(
      check({ resources: { limits: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '10Gi' } } }),
    ).toBeUndefined();
  });

  test('the first rule broken is reported, in the documented order', () => {
    const all = {
      serviceAccountName: 'admin',
      env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'p' } } }],
      tolerations: [{ operator: 'Exists' }],
      labels: { app: 'x' },
      annotations: { 'container.apparmor.security.beta.kubernetes.io/session': 'unconfined' },
      resources: { limits: { cpu: '64' } },
    };
    const order: string[] = [];
    let t: Record<string, unknown> = { ...all };
    for (const drop of ['serviceAccountName', 'env', 'tolerations', 'labels', 'annotations', 'resources']) {
      order.push(rule(t)!);
      t = { ...t, [drop]: undefined };
    }
    expect(order).toEqual([
      'serviceAccounts.allowed',
      'secrets.allowed',
      'tolerations.allowed',
      'labels.serviceSelectorKeys',
      'annotations.deniedKeys',
      'resources.max',
    ]);
    expect(rule(t)).toBeUndefined();
  });

  test('long values are cut in the message, kept whole in value', () => {
    const v = check({ labels: { app: 'x'.repeat(500) } })!;
    expect(v.value).toHaveLength(500);
    expect(v.message.length).toBeLessThan(400);
  });

  test('total: any JSON in the template gives an answer, never an exception', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            serviceAccountName: fc.jsonValue(),
            env: fc.oneof(
              fc.jsonValue(),
              fc.array(fc.record({ name: fc.string(), valueFrom: fc.jsonValue() })),
            ),
            envFrom: fc.jsonValue(),
            tolerations: fc.oneof(
              fc.jsonValue(),
              fc.array(
                fc.dictionary(
                  fc.constantFrom('key', 'operator', 'value', 'effect', 'tolerationSeconds'),
                  fc.jsonValue(),
                ),
              ),
            ),
            nodeSelector: fc.jsonValue(),
            labels: fc.jsonValue(),
            annotations: fc.jsonValue(),
            resources: fc.oneof(
              fc.jsonValue(),
              fc.record({ limits: fc.dictionary(fc.string(), fc.jsonValue()) }),
            ),
          },
          { requiredKeys: [] },
        ),
        (template) => {
          for (const p of [DEFAULT_TENANT_POLICY, OPEN]) {
            const v = checkTenantPolicy(session(template), p);
            if (v !== undefined) expect(v.message).toMatch(/^Tenant policy rule \S+: spec\.template\./);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

// A loosened policy: what each rule allows when configured, and what it still refuses.
const OPEN = parseTenantPolicy({
  serviceAccounts: { allowed: ['builder', 'team-a/deployer', 'ci-*'] },
  secrets: { allowed: ['team-a/registry-*', 'shared-ca'] },
  configMaps: { allowed: ['*'] },
  tolerations: {
    allowed: [
      { key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' },
      { key: 'gpu', operator: 'Exists', namespaces: ['ml-*'] },
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ],
  },
  nodeSelector: {
    allowed: [
      { key: 'pool', values: ['batch', 'spot-*'] },
      { key: 'topology.kubernetes.io/zone', values: ['*'], namespaces: ['team-a'] },
    ],
  },
  labels: {
    allowedKeys: ['team', 'example.com/*'],
    deniedKeys: ['example.com/billing'],
    serviceSelectorKeys: ['team'],
  },
  annotations: {
    allowedKeys: ['example.com/*', 'container.apparmor.security.beta.kubernetes.io/*'],
    deniedKeys: [],
  },
  resources: { max: { cpu: '16', memory: '64Gi', 'nvidia.com/gpu': '2' } },
});

describe('checkTenantPolicy under a loosened policy', () => {
  test('serviceAccounts: listed names, per namespace where qualified', () => {
    expect(check({ serviceAccountName: 'builder' }, OPEN)).toBeUndefined();
    expect(check({ serviceAccountName: 'ci-lint' }, OPEN, 'team-b')).toBeUndefined();
    expect(check({ serviceAccountName: 'deployer' }, OPEN, 'team-a')).toBeUndefined();
    expect(check({ serviceAccountName: 'deployer' }, OPEN, 'team-b')).toMatchObject({
      rule: 'serviceAccounts.allowed',
      message: expect.stringContaining('namespace team-b'),
    });
    expect(rule({ serviceAccountName: 'admin' }, OPEN)).toBe('serviceAccounts.allowed');
  });

  test('secrets and configMaps: listed names only', () => {
    const ref = (name: string) => ({ env: [{ name: 'P', valueFrom: { secretKeyRef: { name, key: 'k' } } }] });
    expect(check(ref('registry-creds'), OPEN, 'team-a')).toBeUndefined();
    expect(check(ref('shared-ca'), OPEN, 'team-b')).toBeUndefined();
    expect(rule(ref('registry-creds'), OPEN, 'team-b')).toBe('secrets.allowed');
    expect(rule(ref('db'), OPEN, 'team-a')).toBe('secrets.allowed');
    expect(
      check({ envFrom: [{ secretRef: { name: 'shared-ca' } }, { configMapRef: { name: 'any' } }] }, OPEN),
    ).toBeUndefined();
    expect(rule({ envFrom: [{ configMapRef: { name: 'x' } }, { secretRef: { name: 'db' } }] }, OPEN)).toBe(
      'secrets.allowed',
    );
  });

  test('tolerations: allowed when every taint tolerated is covered by one entry', () => {
    const ok = (t: object, ns = 'team-a') => check({ tolerations: [t] }, OPEN, ns) === undefined;
    expect(ok({ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' })).toBe(true);
    expect(ok({ key: 'dedicated', value: 'batch', effect: 'NoSchedule' })).toBe(true); // Equal by default
    // Broader than the entry: any value, any effect, any key.
    expect(ok({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' })).toBe(false);
    expect(ok({ key: 'dedicated', value: 'batch' })).toBe(false);
    expect(ok({ key: 'dedicated', value: 'other', effect: 'NoSchedule' })).toBe(false);
    expect(ok({ operator: 'Exists' })).toBe(false);
    expect(ok({ operator: 'Exists', effect: 'NoSchedule' })).toBe(false);
    // An operator Steward does not know is read as tolerating more.
    expect(ok({ key: 'dedicated', operator: 'Gt', value: 'batch', effect: 'NoSchedule' })).toBe(false);
    // Namespaced entries.
    expect(ok({ key: 'gpu', operator: 'Exists' }, 'ml-train')).toBe(true);
    expect(ok({ key: 'gpu', value: 'a100', effect: 'NoSchedule' }, 'ml-train')).toBe(true);
    expect(ok({ key: 'gpu', operator: 'Exists' }, 'team-a')).toBe(false);
    // tolerationSeconds bounds how long a NoExecute taint may be tolerated.
    const notReady = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' };
    expect(ok({ ...notReady, tolerationSeconds: 60 })).toBe(true);
    expect(ok({ ...notReady, tolerationSeconds: 3600 })).toBe(false);
    expect(ok(notReady)).toBe(false); // forever
    expect(
      check(
        { tolerations: [{ operator: 'Exists' }] },
        parseTenantPolicy({ tolerations: { allowed: [{ operator: 'Exists' }] } }),
      ),
    ).toBeUndefined();
  });

  test('nodeSelector: listed keys with listed values, per namespace where scoped', () => {
    expect(check({ nodeSelector: { pool: 'batch' } }, OPEN)).toBeUndefined();
    expect(check({ nodeSelector: { pool: 'spot-a' } }, OPEN)).toBeUndefined();
    expect(rule({ nodeSelector: { pool: 'system' } }, OPEN)).toBe('nodeSelector.allowed');
    expect(
      check({ nodeSelector: { 'topology.kubernetes.io/zone': 'eu-1a' } }, OPEN, 'team-a'),
    ).toBeUndefined();
    expect(rule({ nodeSelector: { 'topology.kubernetes.io/zone': 'eu-1a' } }, OPEN, 'team-b')).toBe(
      'nodeSelector.allowed',
    );
    expect(rule({ nodeSelector: { pool: 'batch', 'kubernetes.io/hostname': 'n1' } }, OPEN)).toBe(
      'nodeSelector.allowed',
    );
  });

  test('labels and annotations: allowedKeys, then deniedKeys, then serviceSelectorKeys', () => {
    expect(check({ labels: { 'example.com/owner': 'me' } }, OPEN)).toBeUndefined();
    expect(rule({ labels: { owner: 'me' } }, OPEN)).toBe('labels.allowedKeys');
    expect(rule({ labels: { 'example.com/billing': 'x' } }, OPEN)).toBe('labels.deniedKeys');
    expect(rule({ labels: { team: 'a' } }, OPEN)).toBe('labels.serviceSelectorKeys');
    expect(
      check(
        { annotations: { 'container.apparmor.security.beta.kubernetes.io/session': 'localhost/p' } },
        OPEN,
      ),
    ).toBeUndefined();
    expect(rule({ annotations: { 'prometheus.io/scrape': 'true' } }, OPEN)).toBe('annotations.allowedKeys');
    const none = parseTenantPolicy({ annotations: { allowedKeys: [] } });
    expect(rule({ annotations: { a: 'b' } }, none)).toBe('annotations.allowedKeys');
  });

  test('resources: the configured maximums, extended resources when listed', () => {
    expect(
      check({ resources: { limits: { cpu: '16', memory: '64Gi', 'nvidia.com/gpu': 2 } } }, OPEN),
    ).toBeUndefined();
    expect(rule({ resources: { limits: { 'nvidia.com/gpu': 3 } } }, OPEN)).toBe('resources.max');
    expect(rule({ resources: { limits: { 'ephemeral-storage': '1Gi' } } }, OPEN)).toBe('resources.max');
  });
});
