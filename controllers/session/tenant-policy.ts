import { compareQuantities, parseQuantity } from './quantity.js';
import type { Session } from './types.js';

/**
 * The operator-level tenant policy: what a Session may ask of the pod Steward creates for it.
 *
 * Steward creates pods with its own rights, so whoever may create a Session would otherwise get
 * pods they could not create themselves: running as any ServiceAccount of the namespace, reading
 * any Secret through `secretKeyRef`, tolerating every taint, carrying another app's Service
 * selector labels or an AppArmor `Unconfined` annotation. The policy decides each of those; the
 * defaults (`DEFAULT_TENANT_POLICY`) allow none of them. What a Session cannot set at all (the
 * pod's securityContext, host namespaces, volumes) stays forced safe in `buildJob`.
 *
 * Patterns: names and keys are globs where `*` matches any run of characters. Names of
 * ServiceAccounts, Secrets and ConfigMaps are `[namespace/]name`: without a namespace the pattern
 * applies in every namespace (`builder`, `ci-*`, `team-a/deployer`, `*-prod/registry-creds`).
 * See docs/security.md for the threat model and how to loosen the defaults safely.
 */
export interface TenantPolicy {
  serviceAccounts: {
    /** `[namespace/]name` patterns a Session may name in `serviceAccountName`; `default` always may. */
    allowed: string[];
    /** Mount the ServiceAccount's API token into the pod. Default false. */
    automountToken: boolean;
  };
  /** `[namespace/]name` patterns of Secrets `secretKeyRef` and `envFrom.secretRef` may name. */
  secrets: { allowed: string[] };
  /** `[namespace/]name` patterns of ConfigMaps `configMapKeyRef` and `envFrom.configMapRef` may name. */
  configMaps: { allowed: string[] };
  /** A Session's toleration is allowed when every taint it tolerates is tolerated by one entry. */
  tolerations: { allowed: TolerationRule[] };
  /** A nodeSelector pair is allowed when an entry's key and one of its values match it. */
  nodeSelector: { allowed: NodeSelectorRule[] };
  labels: KeyRules & {
    /** Keys that Services select pods by: a Session setting one could join another app's Service. */
    serviceSelectorKeys: string[];
  };
  annotations: KeyRules;
  resources: {
    /**
     * The most a Session may request or limit, per resource name, as a quantity. A resource not
     * listed here (a GPU, hugepages) may not be requested at all.
     */
    max: Record<string, string>;
  };
}

/** Which label or annotation keys a Session may set on its pod. */
export interface KeyRules {
  /** Key patterns that may be set; `['*']` allows every key that deniedKeys does not deny. */
  allowedKeys: string[];
  /** Key patterns that may never be set. */
  deniedKeys: string[];
}

/** One toleration a Session may ask for (a `tolerations.allowed` entry). */
export interface TolerationRule {
  /** Taint key; empty with operator Exists tolerates every taint. */
  key?: string;
  /** `Equal` (default) or `Exists`. */
  operator?: 'Equal' | 'Exists';
  value?: string;
  /** Empty: every effect. */
  effect?: string;
  /** With NoExecute: how long the Session's toleration may last at most. Default: any. */
  tolerationSeconds?: number;
  /** Namespace patterns this entry applies in. Default: every namespace. */
  namespaces?: string[];
}

/** One nodeSelector pair a Session may ask for (a `nodeSelector.allowed` entry). */
export interface NodeSelectorRule {
  /** Node label key pattern. */
  key: string;
  /** Value patterns; `['*']` allows any value. */
  values: string[];
  /** Namespace patterns this entry applies in. Default: every namespace. */
  namespaces?: string[];
}

/** The first rule a Session breaks. */
export interface PolicyViolation {
  /** The policy field that refused it, e.g. `serviceAccounts.allowed`. */
  rule: string;
  /** Where in the Session, e.g. `spec.template.serviceAccountName`. */
  field: string;
  /** The offending value, as written (JSON for objects). */
  value: string;
  /** One line for status.message and the event: the rule, the field and the value. */
  message: string;
}

/**
 * Safe defaults: no ServiceAccount but `default` (and no token mounted), no Secret or ConfigMap
 * references, no tolerations, no nodeSelector, no label or annotation keys that Kubernetes,
 * runtimes, meshes or Services give a meaning to, and at most 4 CPUs, 8 GiB of memory and 10 GiB
 * of ephemeral storage (nothing else: no GPUs, no hugepages).
 */
export const DEFAULT_TENANT_POLICY: TenantPolicy = deepFreeze({
  serviceAccounts: { allowed: [], automountToken: false },
  secrets: { allowed: [] },
  configMaps: { allowed: [] },
  tolerations: { allowed: [] },
  nodeSelector: { allowed: [] },
  labels: {
    allowedKeys: ['*'],
    deniedKeys: [
      'app.kubernetes.io/*',
      'kubernetes.io/*',
      '*.kubernetes.io/*',
      'k8s.io/*',
      '*.k8s.io/*',
      'steward.dev/*',
      'istio.io/*',
      '*.istio.io/*',
    ],
    serviceSelectorKeys: ['app', 'k8s-app', 'name', 'component', 'tier', 'role', 'release', 'run', 'version'],
  },
  annotations: {
    allowedKeys: ['*'],
    deniedKeys: [
      'container.apparmor.security.beta.kubernetes.io/*',
      'seccomp.security.alpha.kubernetes.io/*',
      'container.seccomp.security.alpha.kubernetes.io/*',
      'app.kubernetes.io/*',
      'kubernetes.io/*',
      '*.kubernetes.io/*',
      'k8s.io/*',
      '*.k8s.io/*',
      'io.kubernetes.*',
      '*.cni.cncf.io/*',
      'istio.io/*',
      '*.istio.io/*',
    ],
  },
  resources: { max: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '10Gi' } },
});

/** The env[].valueFrom sources Steward knows how to judge; any other is refused. */
const VALUE_FROM = new Set(['fieldRef', 'resourceFieldRef', 'secretKeyRef', 'configMapKeyRef']);
const ENV_FROM = new Set(['secretRef', 'configMapRef', 'prefix']);

/**
 * The first rule of `policy` that the Session's template breaks, or undefined when it breaks
 * none. Pure and total: any JSON the template holds gives an answer, never an exception.
 * Checked in a fixed order: serviceAccounts, secrets and configMaps (env, then envFrom),
 * envSources, tolerations, nodeSelector, labels, annotations, resources.
 */
export function checkTenantPolicy(session: Session, policy: TenantPolicy): PolicyViolation | undefined {
  const ns = session.metadata?.namespace ?? '';
  const t = asObject(session.spec?.template);
  const T = 'spec.template';

  const sa = t.serviceAccountName;
  if (sa !== undefined && sa !== 'default') {
    if (typeof sa !== 'string' || !allowsName(policy.serviceAccounts.allowed, ns, sa)) {
      return violation('serviceAccounts.allowed', `${T}.serviceAccountName`, sa, inNamespace(ns));
    }
  }

  const env = asArray(t.env);
  for (const [i, e] of env.entries()) {
    const from = asObject(asObject(e).valueFrom);
    const ref = checkRefs(policy, ns, from, `${T}.env[${i}].valueFrom`, {
      secretKeyRef: 'secrets',
      configMapKeyRef: 'configMaps',
    });
    if (ref) return ref;
  }
  const envFrom = asArray(t.envFrom);
  for (const [i, e] of envFrom.entries()) {
    const ref = checkRefs(policy, ns, asObject(e), `${T}.envFrom[${i}]`, {
      secretRef: 'secrets',
      configMapRef: 'configMaps',
    });
    if (ref) return ref;
  }
  for (const [i, e] of env.entries()) {
    for (const kind of Object.keys(asObject(asObject(e).valueFrom))) {
      if (!VALUE_FROM.has(kind)) {
        return violation('envSources', `${T}.env[${i}].valueFrom.${kind}`, asObject(e).valueFrom, {
          why: `is not a source Steward can vet (${[...VALUE_FROM].join(', ')})`,
        });
      }
    }
  }
  for (const [i, e] of envFrom.entries()) {
    for (const kind of Object.keys(asObject(e))) {
      if (!ENV_FROM.has(kind)) {
        return violation('envSources', `${T}.envFrom[${i}].${kind}`, e, {
          why: `is not a source Steward can vet (${[...ENV_FROM].join(', ')})`,
        });
      }
    }
  }

  for (const [i, tol] of asArray(t.tolerations).entries()) {
    const rules = policy.tolerations.allowed.filter((r) => inScope(r.namespaces, ns));
    if (!rules.some((r) => covers(r, asObject(tol)))) {
      return violation('tolerations.allowed', `${T}.tolerations[${i}]`, tol, inNamespace(ns));
    }
  }

  for (const [key, value] of Object.entries(asObject(t.nodeSelector))) {
    const rules = policy.nodeSelector.allowed.filter((r) => inScope(r.namespaces, ns));
    const ok =
      typeof value === 'string' &&
      rules.some((r) => glob(r.key, key) && r.values.some((v) => glob(v, value)));
    if (!ok) {
      return violation('nodeSelector.allowed', `${T}.nodeSelector[${json(key)}]`, value, inNamespace(ns));
    }
  }

  const labels = checkKeys('labels', policy.labels, asObject(t.labels), `${T}.labels`);
  if (labels) return labels;
  for (const key of Object.keys(asObject(t.labels))) {
    if (policy.labels.serviceSelectorKeys.some((p) => glob(p, key))) {
      return violation('labels.serviceSelectorKeys', `${T}.labels[${json(key)}]`, asObject(t.labels)[key], {
        why: 'is a key Services select pods by',
      });
    }
  }
  const annotations = checkKeys(
    'annotations',
    policy.annotations,
    asObject(t.annotations),
    `${T}.annotations`,
  );
  if (annotations) return annotations;

  const resources = asObject(t.resources);
  for (const kind of ['requests', 'limits'] as const) {
    for (const [name, value] of Object.entries(asObject(resources[kind]))) {
      const field = `${T}.resources.${kind}[${json(name)}]`;
      // Own keys only: a resource named like an Object.prototype member has no maximum either.
      const max = Object.hasOwn(policy.resources.max, name) ? policy.resources.max[name] : undefined;
      const limit = parseQuantity(max);
      if (limit === undefined) {
        return violation('resources.max', field, value, {
          why: 'is a resource the policy sets no maximum for',
        });
      }
      const q = parseQuantity(value);
      if (q === undefined) return violation('resources.max', field, value, { why: 'is not a quantity' });
      if (compareQuantities(q, limit) > 0) {
        return violation('resources.max', field, value, { why: `exceeds the maximum ${max}` });
      }
    }
  }
  return undefined;
}

/** Whether `[namespace/]name` patterns allow `name` in namespace `ns`. */
export function allowsName(patterns: readonly string[], ns: string, name: string): boolean {
  return patterns.some((p) => {
    const slash = p.indexOf('/');
    return slash < 0 ? glob(p, name) : glob(p.slice(0, slash), ns) && glob(p.slice(slash + 1), name);
  });
}

/** Glob match where `*` matches any run of characters (including none); everything else is literal. */
export function glob(pattern: string, s: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === s;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
  let at = first.length;
  const end = s.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = s.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

function checkRefs(
  policy: TenantPolicy,
  ns: string,
  source: Record<string, unknown>,
  path: string,
  kinds: Record<string, 'secrets' | 'configMaps'>,
): PolicyViolation | undefined {
  for (const [kind, section] of Object.entries(kinds)) {
    if (source[kind] === undefined) continue;
    const name = asObject(source[kind]).name;
    if (typeof name !== 'string' || !allowsName(policy[section].allowed, ns, name)) {
      return violation(`${section}.allowed`, `${path}.${kind}.name`, name ?? null, inNamespace(ns));
    }
  }
  return undefined;
}

function checkKeys(
  section: 'labels' | 'annotations',
  rules: KeyRules,
  map: Record<string, unknown>,
  path: string,
): PolicyViolation | undefined {
  for (const [key, value] of Object.entries(map)) {
    const field = `${path}[${json(key)}]`;
    if (!rules.allowedKeys.some((p) => glob(p, key))) {
      return violation(`${section}.allowedKeys`, field, value, {
        why: 'has a key the policy does not allow',
      });
    }
    if (rules.deniedKeys.some((p) => glob(p, key))) {
      return violation(`${section}.deniedKeys`, field, value, { why: 'has a key the policy denies' });
    }
  }
  return undefined;
}

/**
 * Whether allowed entry `rule` tolerates every taint the Session's toleration `t` tolerates.
 * Where `t` is ambiguous (no key, an operator Steward does not know) it is read as tolerating
 * more, never less.
 */
function covers(rule: TolerationRule, t: Record<string, unknown>): boolean {
  const key = typeof t.key === 'string' ? t.key : '';
  const operator = t.operator === undefined ? 'Equal' : t.operator;
  const value = typeof t.value === 'string' ? t.value : '';
  const effect = typeof t.effect === 'string' ? t.effect : '';
  const ruleOp = rule.operator ?? 'Equal';
  const ruleKey = rule.key ?? '';
  if (!(ruleKey === '' && ruleOp === 'Exists')) {
    if (key === '' || key !== ruleKey) return false;
    if (ruleOp === 'Equal' && (operator !== 'Equal' || value !== (rule.value ?? ''))) return false;
  }
  if ((rule.effect ?? '') !== '' && effect !== rule.effect) return false;
  if (rule.tolerationSeconds !== undefined) {
    const seconds = t.tolerationSeconds;
    if (typeof seconds !== 'number' || seconds > rule.tolerationSeconds) return false;
  }
  return true;
}

function inScope(namespaces: readonly string[] | undefined, ns: string): boolean {
  return namespaces === undefined || namespaces.some((p) => glob(p, ns));
}

function inNamespace(ns: string): { why: string } {
  return { why: `is not allowed in namespace ${ns}` };
}

/** `value`: a string is shown quoted, anything else as JSON; long values are cut in the message. */
function violation(rule: string, field: string, value: unknown, { why }: { why: string }): PolicyViolation {
  const text = typeof value === 'string' ? value : json(value);
  const cut = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  const shown = typeof value === 'string' ? json(cut) : cut;
  return { rule, field, value: text, message: `Tenant policy rule ${rule}: ${field} ${shown} ${why}` };
}

const json = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return typeof v === 'bigint' ? v.toString() : '(unprintable)';
  }
};
const asObject = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
