import { readFileSync } from 'node:fs';
import { dump, loadAll } from 'js-yaml';
import { parseQuantity } from './quantity.js';
import {
  DEFAULT_TENANT_POLICY,
  type KeyRules,
  type NodeSelectorRule,
  type TenantPolicy,
  type TolerationRule,
} from './tenant-policy.js';

/**
 * The tenant policy as operators write it: a YAML (or JSON) file, usually a ConfigMap mounted
 * into the manager (`--tenant-policy /etc/steward/tenant-policy.yaml`).
 *
 *     serviceAccounts: { allowed: [builder, team-a/deployer], automountToken: false }
 *     secrets: { allowed: [team-a/registry-*] }
 *     ...
 *
 * Every section and field is optional and falls back to DEFAULT_TENANT_POLICY's; a list given
 * replaces the default list (`--print-tenant-policy` prints the defaults to start from). Unknown
 * fields are errors: a typo must not silently leave a rule at its default. A document may name
 * itself with `apiVersion: steward.dev/v1alpha1` and `kind: TenantPolicy`; other values are errors.
 */
export const TENANT_POLICY_API_VERSION = 'steward.dev/v1alpha1';
export const TENANT_POLICY_KIND = 'TenantPolicy';

/** A policy document that does not fit the schema; `field` is its dotted path. */
export class TenantPolicyError extends Error {
  readonly code = 'ERR_TENANT_POLICY';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(field ? `${field}: ${problem}` : problem);
    this.name = 'TenantPolicyError';
  }
}

type Obj = Record<string, unknown>;

/** Validates a parsed policy document and fills in the defaults. Throws `TenantPolicyError`. */
export function parseTenantPolicy(doc: unknown): TenantPolicy {
  if (doc === null || doc === undefined) return DEFAULT_TENANT_POLICY;
  const root = object(doc, '');
  only(root, '', [
    'apiVersion',
    'kind',
    'serviceAccounts',
    'secrets',
    'configMaps',
    'tolerations',
    'nodeSelector',
    'labels',
    'annotations',
    'resources',
  ]);
  if (root.apiVersion !== undefined && root.apiVersion !== TENANT_POLICY_API_VERSION) {
    throw new TenantPolicyError('apiVersion', `must be ${TENANT_POLICY_API_VERSION}`);
  }
  if (root.kind !== undefined && root.kind !== TENANT_POLICY_KIND) {
    throw new TenantPolicyError('kind', `must be ${TENANT_POLICY_KIND}`);
  }
  const D = DEFAULT_TENANT_POLICY;
  const sa = section(root, 'serviceAccounts', ['allowed', 'automountToken']);
  const secrets = section(root, 'secrets', ['allowed']);
  const configMaps = section(root, 'configMaps', ['allowed']);
  const tolerations = section(root, 'tolerations', ['allowed']);
  const nodeSelector = section(root, 'nodeSelector', ['allowed']);
  const labels = section(root, 'labels', ['allowedKeys', 'deniedKeys', 'serviceSelectorKeys']);
  const annotations = section(root, 'annotations', ['allowedKeys', 'deniedKeys']);
  const resources = section(root, 'resources', ['max']);
  return {
    serviceAccounts: {
      allowed: namePatterns(sa.allowed, 'serviceAccounts.allowed') ?? D.serviceAccounts.allowed,
      automountToken:
        boolean(sa.automountToken, 'serviceAccounts.automountToken') ?? D.serviceAccounts.automountToken,
    },
    secrets: { allowed: namePatterns(secrets.allowed, 'secrets.allowed') ?? D.secrets.allowed },
    configMaps: { allowed: namePatterns(configMaps.allowed, 'configMaps.allowed') ?? D.configMaps.allowed },
    tolerations: {
      allowed: list(tolerations.allowed, 'tolerations.allowed', tolerationRule) ?? D.tolerations.allowed,
    },
    nodeSelector: {
      allowed: list(nodeSelector.allowed, 'nodeSelector.allowed', nodeSelectorRule) ?? D.nodeSelector.allowed,
    },
    labels: {
      ...keyRules(labels, 'labels', D.labels),
      serviceSelectorKeys:
        patterns(labels.serviceSelectorKeys, 'labels.serviceSelectorKeys') ?? D.labels.serviceSelectorKeys,
    },
    annotations: keyRules(annotations, 'annotations', D.annotations),
    resources: { max: quantities(resources.max, 'resources.max') ?? D.resources.max },
  };
}

/** Reads and validates a policy file; every problem is a `TenantPolicyError` with a one-line message. */
export function loadTenantPolicy(path: string): TenantPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TenantPolicyError(
      '',
      `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let docs: unknown[];
  try {
    // loadAll: an empty (or comments-only) file is no document, which means the defaults.
    docs = loadAll(text, null, { filename: path });
  } catch (err) {
    const e = err as { reason?: string; mark?: { line: number; column: number } };
    const where = e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '';
    throw new TenantPolicyError(
      '',
      `not valid YAML: ${e.reason ?? (err as Error).message.split('\n')[0]}${where}`,
    );
  }
  if (docs.length > 1) throw new TenantPolicyError('', `holds ${docs.length} YAML documents, not one`);
  return parseTenantPolicy(docs[0]);
}

/**
 * The policy as a YAML document that parseTenantPolicy reads back unchanged, in the layout of
 * manifests/manager/tenant-policy.yaml (a file to start from: `--print-tenant-policy`).
 */
export function formatTenantPolicy(policy: TenantPolicy): string {
  return dump(policy, { lineWidth: 100, noRefs: true });
}

function tolerationRule(v: unknown, at: string): TolerationRule {
  const o = object(v, at);
  only(o, at, ['key', 'operator', 'value', 'effect', 'tolerationSeconds', 'namespaces']);
  const rule: TolerationRule = {};
  const key = string(o.key, `${at}.key`);
  const operator = string(o.operator, `${at}.operator`);
  const value = string(o.value, `${at}.value`);
  const effect = string(o.effect, `${at}.effect`);
  if (operator !== undefined && operator !== 'Equal' && operator !== 'Exists') {
    throw new TenantPolicyError(`${at}.operator`, 'must be Equal or Exists');
  }
  if (operator === 'Exists' && value)
    throw new TenantPolicyError(`${at}.value`, 'must be empty with operator Exists');
  if (!key && operator !== 'Exists') {
    throw new TenantPolicyError(`${at}.key`, 'is required unless operator is Exists');
  }
  if (effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)) {
    throw new TenantPolicyError(`${at}.effect`, 'must be NoSchedule, PreferNoSchedule, NoExecute or empty');
  }
  if (key !== undefined) rule.key = key;
  if (operator !== undefined) rule.operator = operator;
  if (value !== undefined) rule.value = value;
  if (effect !== undefined) rule.effect = effect;
  if (o.tolerationSeconds !== undefined) {
    if (!Number.isSafeInteger(o.tolerationSeconds) || (o.tolerationSeconds as number) < 0) {
      throw new TenantPolicyError(`${at}.tolerationSeconds`, 'must be an integer >= 0');
    }
    if (effect !== 'NoExecute') {
      throw new TenantPolicyError(`${at}.tolerationSeconds`, 'applies to effect NoExecute only');
    }
    rule.tolerationSeconds = o.tolerationSeconds as number;
  }
  const namespaces = patterns(o.namespaces, `${at}.namespaces`);
  if (namespaces !== undefined) rule.namespaces = namespaces;
  return rule;
}

function nodeSelectorRule(v: unknown, at: string): NodeSelectorRule {
  const o = object(v, at);
  only(o, at, ['key', 'values', 'namespaces']);
  const key = string(o.key, `${at}.key`);
  if (!key) throw new TenantPolicyError(`${at}.key`, 'is required');
  const values = patterns(o.values, `${at}.values`);
  if (values === undefined || values.length === 0) {
    throw new TenantPolicyError(`${at}.values`, "is required: a list of value patterns ('*' for any)");
  }
  const rule: NodeSelectorRule = { key, values };
  const namespaces = patterns(o.namespaces, `${at}.namespaces`);
  if (namespaces !== undefined) rule.namespaces = namespaces;
  return rule;
}

function keyRules(o: Obj, at: string, defaults: KeyRules): KeyRules {
  return {
    allowedKeys: patterns(o.allowedKeys, `${at}.allowedKeys`) ?? defaults.allowedKeys,
    deniedKeys: patterns(o.deniedKeys, `${at}.deniedKeys`) ?? defaults.deniedKeys,
  };
}

function quantities(v: unknown, at: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  const entries = Object.entries(object(v, at)).map(([name, q]) => {
    const parsed = parseQuantity(q);
    if (parsed === undefined || parsed.num < 0n) {
      throw new TenantPolicyError(`${at}.${name}`, 'must be a quantity >= 0, e.g. 500m, 2 or 4Gi');
    }
    return [name, String(q)] as const;
  });
  // fromEntries defines own properties, so even a resource named __proto__ stays data.
  return Object.fromEntries(entries);
}

function namePatterns(v: unknown, at: string): string[] | undefined {
  const ps = patterns(v, at);
  for (const [i, p] of (ps ?? []).entries()) {
    const parts = p.split('/');
    if (parts.length > 2 || parts.some((x) => x === '')) {
      throw new TenantPolicyError(`${at}[${i}]`, `"${p}" is not a [namespace/]name pattern`);
    }
  }
  return ps;
}

function patterns(v: unknown, at: string): string[] | undefined {
  return list(v, at, (x, i) => {
    if (typeof x !== 'string' || x === '') throw new TenantPolicyError(i, 'must be a non-empty string');
    return x;
  });
}

function list<T>(v: unknown, at: string, item: (x: unknown, at: string) => T): T[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new TenantPolicyError(at, 'must be a list');
  return v.map((x, i) => item(x, `${at}[${i}]`));
}

function section(root: Obj, name: string, keys: string[]): Obj {
  if (root[name] === undefined || root[name] === null) return {};
  const o = object(root[name], name);
  only(o, name, keys);
  return o;
}

function object(v: unknown, at: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new TenantPolicyError(at, 'must be a mapping');
  }
  return v as Obj;
}

function only(o: Obj, at: string, keys: string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) {
      throw new TenantPolicyError(at ? `${at}.${k}` : k, `unknown field (known: ${keys.join(', ')})`);
    }
  }
}

function string(v: unknown, at: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new TenantPolicyError(at, 'must be a string');
  return v;
}

function boolean(v: unknown, at: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new TenantPolicyError(at, 'must be true or false');
  return v;
}
