// The tenant policy file: defaults filled in, every bad field named, the shipped ConfigMap equal
// to the built-in defaults, and --print-tenant-policy's output read back unchanged.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_TENANT_POLICY,
  formatTenantPolicy,
  loadTenantPolicy,
  parseTenantPolicy,
  TenantPolicyError,
} from '../../../controllers/session/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function problem(doc: unknown): string {
  try {
    parseTenantPolicy(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(TenantPolicyError);
    return (err as Error).message;
  }
  throw new Error('expected a TenantPolicyError');
}

describe('parseTenantPolicy', () => {
  test('an empty document is the defaults; a partial one keeps the defaults of what it omits', () => {
    expect(parseTenantPolicy(null)).toEqual(DEFAULT_TENANT_POLICY);
    expect(parseTenantPolicy({})).toEqual(DEFAULT_TENANT_POLICY);
    expect(parseTenantPolicy({ apiVersion: 'steward.dev/v1alpha1', kind: 'TenantPolicy' })).toEqual(
      DEFAULT_TENANT_POLICY,
    );
    const p = parseTenantPolicy({
      serviceAccounts: { allowed: ['builder'] },
      labels: { serviceSelectorKeys: [] },
    });
    expect(p.serviceAccounts).toEqual({ allowed: ['builder'], automountToken: false });
    expect(p.labels.serviceSelectorKeys).toEqual([]);
    expect(p.labels.deniedKeys).toEqual(DEFAULT_TENANT_POLICY.labels.deniedKeys);
    expect(p.secrets).toEqual(DEFAULT_TENANT_POLICY.secrets);
    expect(p.resources).toEqual(DEFAULT_TENANT_POLICY.resources);
  });

  test('a full policy', () => {
    const doc = {
      serviceAccounts: { allowed: ['team-a/deployer'], automountToken: true },
      secrets: { allowed: ['shared-ca'] },
      configMaps: { allowed: ['*'] },
      tolerations: {
        allowed: [
          { key: 'gpu', operator: 'Exists', namespaces: ['ml-*'] },
          { key: 'x', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
        ],
      },
      nodeSelector: { allowed: [{ key: 'pool', values: ['batch'] }] },
      labels: { allowedKeys: ['team'], deniedKeys: [], serviceSelectorKeys: ['team'] },
      annotations: { allowedKeys: [], deniedKeys: ['*'] },
      resources: { max: { cpu: 8, memory: '32Gi' } },
    };
    expect(parseTenantPolicy(doc)).toEqual({ ...doc, resources: { max: { cpu: '8', memory: '32Gi' } } });
  });

  test('a resource named __proto__ stays a plain entry', () => {
    const max = parseTenantPolicy(JSON.parse('{"resources":{"max":{"__proto__":"1","cpu":"2"}}}')).resources
      .max;
    expect(Object.getPrototypeOf(max)).toBe(Object.prototype);
    expect(Object.keys(max).sort()).toEqual(['__proto__', 'cpu']);
  });

  test.each([
    ['nope', 'must be a mapping'],
    [{ serviceaccounts: {} }, 'serviceaccounts: unknown field'],
    [{ apiVersion: 'v1' }, 'apiVersion: must be steward.dev/v1alpha1'],
    [{ kind: 'Policy' }, 'kind: must be TenantPolicy'],
    [{ serviceAccounts: [] }, 'serviceAccounts: must be a mapping'],
    [{ serviceAccounts: { allow: ['x'] } }, 'serviceAccounts.allow: unknown field'],
    [{ serviceAccounts: { allowed: 'builder' } }, 'serviceAccounts.allowed: must be a list'],
    [{ serviceAccounts: { allowed: ['ok', 3] } }, 'serviceAccounts.allowed[1]: must be a non-empty string'],
    [
      { serviceAccounts: { allowed: ['a/b/c'] } },
      'serviceAccounts.allowed[0]: "a/b/c" is not a [namespace/]name pattern',
    ],
    [
      { secrets: { allowed: ['team-a/'] } },
      'secrets.allowed[0]: "team-a/" is not a [namespace/]name pattern',
    ],
    [{ serviceAccounts: { automountToken: 'yes' } }, 'serviceAccounts.automountToken: must be true or false'],
    [{ configMaps: { allowed: [''] } }, 'configMaps.allowed[0]: must be a non-empty string'],
    [
      { tolerations: { allowed: [{ operator: 'In' }] } },
      'tolerations.allowed[0].operator: must be Equal or Exists',
    ],
    [
      { tolerations: { allowed: [{ value: 'x' }] } },
      'tolerations.allowed[0].key: is required unless operator is Exists',
    ],
    [
      { tolerations: { allowed: [{ key: 'k', operator: 'Exists', value: 'v' }] } },
      'tolerations.allowed[0].value: must be empty',
    ],
    [
      { tolerations: { allowed: [{ key: 'k', effect: 'NoRun' }] } },
      'tolerations.allowed[0].effect: must be NoSchedule',
    ],
    [
      { tolerations: { allowed: [{ key: 'k', tolerationSeconds: 5 }] } },
      'tolerations.allowed[0].tolerationSeconds: applies to effect NoExecute only',
    ],
    [
      { tolerations: { allowed: [{ key: 'k', effect: 'NoExecute', tolerationSeconds: -1 }] } },
      'tolerations.allowed[0].tolerationSeconds: must be an integer >= 0',
    ],
    [
      { tolerations: { allowed: [{ key: 'k', tolerance: 1 }] } },
      'tolerations.allowed[0].tolerance: unknown field',
    ],
    [{ tolerations: { allowed: [{ key: 3 }] } }, 'tolerations.allowed[0].key: must be a string'],
    [{ nodeSelector: { allowed: [{ values: ['x'] }] } }, 'nodeSelector.allowed[0].key: is required'],
    [{ nodeSelector: { allowed: [{ key: 'pool' }] } }, 'nodeSelector.allowed[0].values: is required'],
    [
      { nodeSelector: { allowed: [{ key: 'pool', values: [] }] } },
      'nodeSelector.allowed[0].values: is required',
    ],
    [{ nodeSelector: { allowed: { pool: ['x'] } } }, 'nodeSelector.allowed: must be a list'],
    [{ labels: { deniedKeys: 'app' } }, 'labels.deniedKeys: must be a list'],
    [{ labels: { serviceSelectors: [] } }, 'labels.serviceSelectors: unknown field'],
    [{ annotations: { serviceSelectorKeys: [] } }, 'annotations.serviceSelectorKeys: unknown field'],
    [{ resources: { max: { cpu: 'four' } } }, 'resources.max.cpu: must be a quantity >= 0'],
    [{ resources: { max: { memory: '-1Gi' } } }, 'resources.max.memory: must be a quantity >= 0'],
    [{ resources: { maximum: {} } }, 'resources.maximum: unknown field'],
  ])('%j → %s', (doc, message) => {
    expect(problem(doc)).toContain(message);
    expect(problem(doc)).not.toContain('\n');
  });
});

describe('loadTenantPolicy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenant-policy-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test('YAML and JSON files; an empty file is the defaults', () => {
    expect(loadTenantPolicy(file('a.yaml', 'secrets:\n  allowed: [shared-ca]\n')).secrets.allowed).toEqual([
      'shared-ca',
    ]);
    expect(loadTenantPolicy(file('b.json', '{"configMaps":{"allowed":["x"]}}')).configMaps.allowed).toEqual([
      'x',
    ]);
    expect(loadTenantPolicy(file('c.yaml', ''))).toEqual(DEFAULT_TENANT_POLICY);
    expect(loadTenantPolicy(file('c2.yaml', '# nothing yet\n'))).toEqual(DEFAULT_TENANT_POLICY);
    expect(() => loadTenantPolicy(file('c3.yaml', 'a: 1\n---\nb: 2\n'))).toThrow(
      'holds 2 YAML documents, not one',
    );
  });

  test('an unreadable file or bad YAML: one line saying why', () => {
    expect(() => loadTenantPolicy(join(dir, 'missing.yaml'))).toThrow(/^cannot read it: ENOENT$/);
    const bad = file('d.yaml', 'secrets:\n  allowed: [a\n  b: c\n');
    expect(() => loadTenantPolicy(bad)).toThrow(/^not valid YAML: .* at line \d+, column \d+$/);
    expect(() => loadTenantPolicy(file('e.yaml', 'labels: { deniedKeys: 3 }'))).toThrow(
      'labels.deniedKeys: must be a list',
    );
  });

  test('formatTenantPolicy output reads back as the same policy', () => {
    const text = formatTenantPolicy(DEFAULT_TENANT_POLICY);
    expect(text).toMatch(/^serviceAccounts:\n/);
    expect(loadTenantPolicy(file('f.yaml', text))).toEqual(DEFAULT_TENANT_POLICY);
  });

  test('the shipped policy (manifests/manager/tenant-policy.yaml) is exactly the built-in defaults', () => {
    expect(loadTenantPolicy(join(ROOT, 'manifests', 'manager', 'tenant-policy.yaml'))).toEqual(
      DEFAULT_TENANT_POLICY,
    );
  });
});
