// Checks manifests/ (and the Dockerfile) against the contract they deploy: the Session API of
// controllers/session/types.ts, the operator's metric names, least-privilege RBAC, the
// restricted pod security settings. Everything is read as data; nothing talks to a cluster.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, loadAll } from 'js-yaml';
import { Registry } from 'prom-client';
import { ScheduleMetrics } from '../../../controllers/schedule/metrics.js';
import { SessionMetrics } from '../../../controllers/session/metrics.js';
import * as BOUNDS from '../../../controllers/session/bounds.js';
import { DEFAULTS, FAILURE_CLASSES, PHASES } from '../../../controllers/session/types.js';
import { WorkflowMetrics } from '../../../controllers/workflow/metrics.js';
import { type Schema, validate } from './schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MANIFESTS = join(ROOT, 'manifests');

type Json = Record<string, unknown>;
interface K8sObject extends Json {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) return yamlFiles(p);
      return /\.ya?ml$/.test(f) ? [relative(ROOT, p)] : [];
    })
    .sort();
}

const FILES = yamlFiles(MANIFESTS);
const DOCS = new Map(FILES.map((f) => [f, loadAll(read(f)).filter((d) => d != null) as Json[]]));
const FILE_OF = new Map<object, string>();
const OBJECTS = [...DOCS.entries()].flatMap(([file, docs]) =>
  docs
    .filter((d) => typeof d.apiVersion === 'string' && typeof d.kind === 'string' && !file.endsWith('kustomization.yaml'))
    .map((d) => {
      FILE_OF.set(d, file);
      return d as K8sObject;
    }),
);

function object(kind: string, name: string): K8sObject {
  const found = OBJECTS.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([`${kind}/${name}`]);
  return found[0]!;
}

const CRD = object('CustomResourceDefinition', 'sessions.steward.dev') as K8sObject & {
  spec: {
    group: string;
    scope: string;
    names: Json;
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: Json;
      additionalPrinterColumns: Array<{ name: string; type: string; jsonPath: string; priority?: number }>;
      schema: { openAPIV3Schema: Schema };
    }>;
  };
};
const ROOT_SCHEMA = CRD.spec.versions[0]!.schema.openAPIV3Schema;

/** The schema at a dotted path; `[]` steps into array items. */
function at(path: string): Schema {
  let s: Schema | undefined = ROOT_SCHEMA;
  for (const part of path.split('.')) {
    s = part === '[]' ? s?.items : s?.properties?.[part];
    if (s === undefined) throw new Error(`no schema at ${path}`);
  }
  return s;
}

const rulesOf = (s: Schema) => (s['x-kubernetes-validations'] ?? []).map((v) => v.rule);

describe('manifests/ files', () => {
  test('every YAML file parses, and the expected ones exist', () => {
    expect(FILES).toEqual(
      expect.arrayContaining([
        'manifests/kustomization.yaml',
        'manifests/crd/steward.dev_sessions.yaml',
        'manifests/crd/steward.dev_schedules.yaml',
        'manifests/rbac/role.yaml',
        'manifests/rbac/leader_election_role.yaml',
        'manifests/manager/deployment.yaml',
        'manifests/prometheus/kustomization.yaml',
        'manifests/prometheus/prometheusrule.yaml',
        'manifests/prometheus/rules.yaml',
        'manifests/prometheus/rules.test.yaml',
        'manifests/prometheus/servicemonitor.yaml',
        'manifests/grafana/kustomization.yaml',
        'manifests/samples/session-hello.yaml',
        'manifests/samples/session-retry.yaml',
        'manifests/samples/session-timeout.yaml',
        'manifests/samples/schedule-every-minute.yaml',
        'manifests/samples/schedule-nightly.yaml',
      ]),
    );
    for (const [file, docs] of DOCS) expect([file, docs.length > 0]).toEqual([file, true]);
  });

  test('every kustomization names files and directories that exist', () => {
    for (const file of FILES.filter((f) => f.endsWith('kustomization.yaml'))) {
      const k = DOCS.get(file)![0] as {
        resources?: string[];
        configMapGenerator?: Array<{ files?: string[] }>;
      };
      const dir = dirname(join(ROOT, file));
      const paths = [...(k.resources ?? []), ...(k.configMapGenerator ?? []).flatMap((g) => g.files ?? [])];
      for (const p of paths) {
        const full = join(dir, p);
        const ok = existsSync(full) && (!statSync(full).isDirectory() || existsSync(join(full, 'kustomization.yaml')));
        expect([file, p, ok]).toEqual([file, p, true]);
      }
    }
  });

  test('the operator kustomization: steward-system, crd + rbac + manager, the image pinned', () => {
    const k = DOCS.get('manifests/kustomization.yaml')![0] as Json;
    expect(k.namespace).toBe('steward-system');
    expect(k.resources).toEqual(['crd', 'rbac', 'manager']);
    const deployment = object('Deployment', 'steward-manager') as K8sObject & {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    const image = deployment.spec.template.spec.containers[0]!.image;
    expect(k.images).toEqual([{ name: image.split(':')[0], newTag: '0.1.0' }]);
    // Prometheus Operator objects stay out of the base: not every cluster has their CRDs.
    const resources = (k.resources as string[]).flatMap((r) => yamlFiles(join(MANIFESTS, r)));
    expect(resources.filter((f) => /servicemonitor|prometheusrule/.test(f))).toEqual([]);
  });
});

describe('Session CRD', () => {
  test('names, scope, version, status subresource', () => {
    expect(CRD.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(CRD.spec.group).toBe('steward.dev');
    expect(CRD.spec.scope).toBe('Namespaced');
    expect(CRD.spec.names).toEqual({
      kind: 'Session',
      listKind: 'SessionList',
      plural: 'sessions',
      singular: 'session',
      shortNames: ['sess'],
      categories: ['steward'],
    });
    expect(CRD.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1alpha1', true, true]]);
    expect(CRD.spec.versions[0]!.subresources).toEqual({ status: {} });
  });

  test('printer columns', () => {
    const cols = CRD.spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority);
    expect(cols.map((c) => [c.name, c.type, c.jsonPath])).toEqual([
      ['Phase', 'string', '.status.phase'],
      ['Attempt', 'integer', '.status.attempt'],
      ['Reason', 'string', '.status.reason'],
      ['Age', 'date', '.metadata.creationTimestamp'],
    ]);
  });

  // Every field of SessionSpec, SessionStatus and their parts in types.ts, and nothing else.
  test.each([
    [
      'spec',
      ['template', 'input', 'startTimeoutSeconds', 'timeoutSeconds', 'retry', 'ttlSecondsAfterFinished', 'cancel', 'imagePullGraceSeconds'],
    ],
    [
      'spec.template',
      [
        'image',
        'command',
        'args',
        'env',
        'envFrom',
        'resources',
        'serviceAccountName',
        'nodeSelector',
        'tolerations',
        'labels',
        'annotations',
      ],
    ],
    ['spec.template.env.[]', ['name', 'value', 'valueFrom']],
    ['spec.template.resources', ['limits', 'requests']],
    ['spec.retry', ['limit', 'backoff', 'on', 'onExitCodes', 'ignoreDisruptions']],
    ['spec.retry.backoff', ['initialSeconds', 'factor', 'maxSeconds']],
    [
      'status',
      [
        'phase',
        'attempt',
        'jobName',
        'startTime',
        'runningTime',
        'completionTime',
        'exitCode',
        'reason',
        'message',
        'nextRetryTime',
        'result',
        'ignoredFailures',
        'history',
        'observedGeneration',
        'conditions',
      ],
    ],
    ['status.history.[]', ['attempt', 'class', 'exitCode', 'reason', 'message', 'startTime', 'finishTime']],
    ['status.conditions.[]', ['type', 'status', 'reason', 'message', 'lastTransitionTime', 'observedGeneration']],
  ])('%s has exactly the fields of types.ts', (path, fields) => {
    expect(Object.keys(at(path).properties ?? {}).sort()).toEqual([...fields].sort());
  });

  test('the schema is structural and every property has a description', () => {
    const problems: string[] = [];
    const walk = (s: Schema, path: string) => {
      const untyped = s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string'];
      if (!s.type && !untyped) problems.push(`${path}: no type`);
      if (path !== '' && path !== '.metadata' && !s.description?.trim()) problems.push(`${path}: no description`);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
      if (s.additionalProperties) walk(s.additionalProperties, `${path}{}`);
    };
    walk(ROOT_SCHEMA, '');
    expect(problems).toEqual([]);
    // The API server allows nothing but a type on metadata.
    expect(ROOT_SCHEMA.properties?.metadata).toEqual({ type: 'object' });
  });

  test('defaults are those of types.ts', () => {
    expect(at('spec.startTimeoutSeconds').default).toBe(DEFAULTS.startTimeoutSeconds);
    expect(at('spec.retry.limit').default).toBe(DEFAULTS.retryLimit);
    expect(at('spec.retry.backoff.initialSeconds').default).toBe(DEFAULTS.backoffInitialSeconds);
    expect(at('spec.retry.backoff.factor').default).toBe(DEFAULTS.backoffFactor);
    expect(at('spec.retry.backoff.maxSeconds').default).toBe(DEFAULTS.backoffMaxSeconds);
    expect(at('spec.cancel').default).toBe(false);
    expect(at('spec.imagePullGraceSeconds').default).toBe(DEFAULTS.imagePullGraceSeconds);
    expect(at('spec.retry.ignoreDisruptions').default).toBe(false);
    expect(at('spec.timeoutSeconds').default).toBeUndefined();
    expect(at('spec.ttlSecondsAfterFinished').default).toBeUndefined();
  });

  test('types and bounds', () => {
    const bounds = (p: string) => {
      const s = at(p);
      return [s.type, s.minimum, s.maximum];
    };
    const { MAX_SECONDS } = BOUNDS;
    expect(bounds('spec.startTimeoutSeconds')).toEqual(['integer', 1, MAX_SECONDS]);
    expect(bounds('spec.timeoutSeconds')).toEqual(['integer', 1, MAX_SECONDS]);
    expect(bounds('spec.ttlSecondsAfterFinished')).toEqual(['integer', 0, MAX_SECONDS]);
    expect(bounds('spec.retry.limit')).toEqual(['integer', 0, BOUNDS.MAX_RETRY_LIMIT]);
    expect(bounds('spec.retry.backoff.factor')).toEqual(['number', 1, BOUNDS.MAX_BACKOFF_FACTOR]);
    expect(bounds('spec.retry.backoff.initialSeconds')).toEqual(['integer', 0, MAX_SECONDS]);
    expect(bounds('spec.retry.backoff.maxSeconds')).toEqual(['integer', 0, MAX_SECONDS]);
    expect(bounds('spec.retry.onExitCodes.[]')).toEqual(['integer', 0, 255]);
    expect(at('spec.cancel').type).toBe('boolean');
    expect(at('spec.template.image').minLength).toBe(1);
    expect(at('spec.template.env.[]').required).toEqual(['name']);
    expect(at('spec.template.env.[].name').minLength).toBe(1);
    for (const p of ['command', 'args']) expect(at(`spec.template.${p}.[]`).type).toBe('string');
    for (const p of ['nodeSelector', 'labels', 'annotations']) {
      expect(at(`spec.template.${p}`).type).toBe('object');
      expect(at(`spec.template.${p}`).additionalProperties?.type).toBe('string');
    }
    for (const p of ['limits', 'requests']) {
      expect(at(`spec.template.resources.${p}`).additionalProperties?.['x-kubernetes-int-or-string']).toBe(true);
    }
    expect(at('spec.input')['x-kubernetes-preserve-unknown-fields']).toBe(true);
    expect(at('spec.input').type).toBeUndefined(); // any JSON value, not only objects
    for (const p of ['spec.template.env.[].valueFrom', 'spec.template.envFrom.[]', 'spec.template.tolerations.[]']) {
      expect([p, at(p)['x-kubernetes-preserve-unknown-fields']]).toEqual([p, true]);
    }
    expect(ROOT_SCHEMA.required).toEqual(['spec']);
  });

  test('the code’s bounds are the schema’s: one constant each (controllers/session/bounds.ts)', () => {
    // Seconds fit the Job API's int32 and stay exact in milliseconds and as dates.
    expect(BOUNDS.MAX_SECONDS).toBe(2 ** 31 - 1);
    expect(Number.isSafeInteger(BOUNDS.MAX_SECONDS * 1000 * 3)).toBe(true);
    expect(new Date(Date.UTC(2100, 0) + BOUNDS.MAX_SECONDS * 1000).getTime()).not.toBeNaN();
    // Strings the operator writes to status fit what the schema takes.
    expect(at('status.message').maxLength).toBe(BOUNDS.MAX_MESSAGE_LENGTH);
    expect(at('status.result').maxLength).toBe(BOUNDS.MAX_RESULT_LENGTH);
    expect(at('status.conditions.[].message').maxLength).toBeGreaterThanOrEqual(BOUNDS.MAX_MESSAGE_LENGTH);
    expect(at('status.reason').maxLength).toBe(BOUNDS.MAX_REASON_LENGTH);
    expect(at('status.conditions.[].reason').maxLength).toBe(BOUNDS.MAX_REASON_LENGTH);
    expect(at('status.reason').pattern).toBe(BOUNDS.REASON_PATTERN.source);
    expect(at('status.conditions.[].reason').pattern).toBe(BOUNDS.REASON_PATTERN.source);
    expect(at('status.jobName').maxLength).toBe(63);
    expect(at('status.history').maxItems).toBe(BOUNDS.MAX_HISTORY);
    expect(at('status.history.[].message').maxLength).toBe(BOUNDS.MAX_HISTORY_MESSAGE_LENGTH);
    expect(at('status.history.[].reason').maxLength).toBe(BOUNDS.MAX_REASON_LENGTH);
    expect(at('spec.imagePullGraceSeconds').maximum).toBe(BOUNDS.MAX_SECONDS);
    // The failure classes of types.ts, in the spec and in status alike.
    expect(at('spec.retry.on.[]').enum).toEqual([...FAILURE_CLASSES]);
    expect(at('status.history.[].class').enum).toEqual([...FAILURE_CLASSES]);
    // The input's bounds cannot be stated in a schema; its description states them.
    expect(at('spec.input').description).toContain(String(BOUNDS.MAX_INPUT_BYTES));
    expect(at('spec.input').description).toContain(`${BOUNDS.MAX_INPUT_DEPTH} levels`);
    expect(at('spec.template').description).toContain(`${BOUNDS.MAX_TEMPLATE_DEPTH} levels`);
    // Every bounded string of status is bounded by something the code knows.
    const unbounded: string[] = [];
    const walk = (s: Schema, path: string) => {
      if (s.type === 'string' && s.maxLength === undefined && !s.format && !s.enum) unbounded.push(path);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
    };
    walk(at('status'), 'status');
    expect(unbounded).toEqual([]);
  });

  test('status: phases of types.ts, times as date-time, conditions as metav1.Condition', () => {
    expect(at('status.phase').enum).toEqual([...PHASES]);
    for (const t of ['startTime', 'runningTime', 'completionTime', 'nextRetryTime']) {
      expect([t, at(`status.${t}`).type, at(`status.${t}`).format]).toEqual([t, 'string', 'date-time']);
    }
    for (const t of ['attempt', 'exitCode', 'observedGeneration']) expect(at(`status.${t}`).type).toBe('integer');
    expect(at('status.observedGeneration').format).toBe('int64');
    const conditions = at('status.conditions');
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
    const c = at('status.conditions.[]');
    expect([...(c.required ?? [])].sort()).toEqual(['lastTransitionTime', 'message', 'reason', 'status', 'type']);
    expect(at('status.conditions.[].status').enum).toEqual(['True', 'False', 'Unknown']);
    expect(at('status.conditions.[].lastTransitionTime').format).toBe('date-time');
  });

  test('CEL rules: immutable template, cancel one-way, backoff cap at least the initial delay', () => {
    expect(at('spec.template')['x-kubernetes-validations']).toEqual([
      { rule: 'self == oldSelf', message: 'template is immutable' },
    ]);
    const spec = rulesOf(at('spec'));
    expect(spec).toContain('has(self.template) == has(oldSelf.template)');
    expect(spec).toContain('!has(oldSelf.cancel) || !oldSelf.cancel || (has(self.cancel) && self.cancel)');
    expect(rulesOf(at('spec.retry.backoff')).join()).toContain('self.maxSeconds >= self.initialSeconds');
    for (const s of [at('spec'), at('spec.template'), at('spec.retry.backoff')]) {
      for (const v of s['x-kubernetes-validations'] ?? []) expect(v.message).toBeTruthy();
    }
  });

  test('maps and lists under CEL rules are bounded, so the rules stay within the cost budget', () => {
    for (const p of ['labels', 'annotations', 'nodeSelector']) expect(at(`spec.template.${p}`).maxProperties).toBeDefined();
    for (const p of ['command', 'args', 'env', 'envFrom', 'tolerations']) expect(at(`spec.template.${p}`).maxItems).toBeDefined();
  });
});


describe('samples', () => {
  const samples = OBJECTS.filter((o) => o.kind === 'Session');

  test('three Sessions in default that the CRD schema accepts', () => {
    expect(samples.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort()).toEqual([
      'default/flaky',
      'default/hello',
      'default/sleepy',
    ]);
    for (const s of samples) {
      expect(s.apiVersion).toBe('steward.dev/v1alpha1');
      const problems: string[] = [];
      validate({ spec: s.spec }, ROOT_SCHEMA, s.metadata.name, problems);
      expect(problems).toEqual([]);
    }
  });

  test('the validator used on them does catch mistakes', () => {
    const problems: string[] = [];
    validate({ spec: { retry: { limit: 101, backof: {} }, template: { image: '' } } }, ROOT_SCHEMA, 'bad', problems);
    expect(problems.sort()).toEqual(['bad.spec.retry.backof: unknown field', 'bad.spec.retry.limit: above 100', 'bad.spec.template.image: too short']);
  });

  test('each shows what it is named for', () => {
    const spec = (name: string) => samples.find((s) => s.metadata.name === name)!.spec as Json & { retry?: Json };
    expect(spec('hello').input).toBeDefined();
    expect(spec('flaky').retry).toMatchObject({ limit: 3, backoff: expect.any(Object), onExitCodes: expect.any(Array) });
    expect(spec('sleepy').timeoutSeconds).toEqual(expect.any(Number));
  });
});

describe('RBAC', () => {
  const SA = { kind: 'ServiceAccount', name: 'steward-manager', namespace: 'steward-system' };
  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
  const norm = (rules: Rule[]) =>
    rules
      .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}: ${[...r.verbs].sort().join(',')}`)))
      .sort();

  test('the ClusterRole grants exactly what the operator uses, with no wildcard', () => {
    const role = object('ClusterRole', 'steward-manager') as K8sObject & { rules: Rule[] };
    expect(JSON.stringify(role.rules)).not.toContain('*');
    expect(norm(role.rules)).toEqual(
      [
        'steward.dev/sessions: create,delete,get,list,patch,watch',
        'steward.dev/sessions/status: patch',
        'steward.dev/sessions/finalizers: update',
        'steward.dev/workflows: create,delete,get,list,patch,watch',
        'steward.dev/workflows/status: patch',
        'steward.dev/workflows/finalizers: update',
        'steward.dev/schedules: get,list,watch',
        'steward.dev/schedules/status: patch',
        'steward.dev/schedules/finalizers: update',
        'batch/jobs: create,delete,get,list,watch',
        '/pods: get,list,watch',
        '/events: create,list,patch',
      ].sort(),
    );
  });

  test('the namespaced install: a Role with the ClusterRole’s rules, bound to the ServiceAccount, with no namespace', () => {
    const roles = OBJECTS.filter((o) => o.kind === 'Role' && o.metadata.name === 'steward-manager');
    expect(roles.map((r) => FILE_OF.get(r))).toEqual(['manifests/rbac/namespaced/role.yaml']);
    const role = roles[0] as K8sObject & { rules: Rule[] };
    expect(role.metadata.namespace).toBeUndefined();
    const cluster = object('ClusterRole', 'steward-manager') as K8sObject & { rules: Rule[] };
    expect(norm(role.rules)).toEqual(norm(cluster.rules));
    const rb = OBJECTS.find((o) => o.kind === 'RoleBinding' && o.metadata.name === 'steward-manager') as K8sObject & {
      roleRef: Json;
      subjects: Json[];
    };
    expect(rb.metadata.namespace).toBeUndefined();
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'steward-manager' });
    expect(rb.subjects).toEqual([SA]);
  });

  test('the namespaced overlay: no ClusterRole or binding, --watch-namespaces, a directory per namespace', () => {
    const k = DOCS.get('manifests/namespaced/kustomization.yaml')![0] as Json & {
      resources: string[];
      patches: Array<{ patch: string; target?: Json }>;
    };
    expect(k.namespace).toBeUndefined(); // each watched namespace's directory sets its own
    expect(k.resources).toEqual(['../crd', '../rbac', '../manager', 'sessions']);
    const deleted = k.patches.filter((p) => p.patch.includes('$patch: delete')).map((p) => load(p.patch) as Json);
    expect(deleted.map((d) => `${d.kind as string}/${(d.metadata as Json).name as string}`).sort()).toEqual([
      'ClusterRole/steward-manager',
      'ClusterRoleBinding/steward-manager',
    ]);
    const args = k.patches.find((p) => p.target?.kind === 'Deployment')!;
    expect(load(args.patch)).toEqual([
      { op: 'add', path: '/spec/template/spec/containers/0/args/-', value: '--watch-namespaces=sessions' },
    ]);
    const ns = DOCS.get('manifests/namespaced/sessions/kustomization.yaml')![0] as Json;
    expect(ns).toMatchObject({ namespace: 'sessions', resources: ['namespace.yaml', '../../rbac/namespaced'] });
  });

  test('leader election: a Role for Leases in steward-system only', () => {
    const role = object('Role', 'steward-leader-election') as K8sObject & { rules: Rule[] };
    expect(role.metadata.namespace).toBe('steward-system');
    expect(norm(role.rules)).toEqual(['coordination.k8s.io/leases: create,get,update']);
    const clusterRules = (object('ClusterRole', 'steward-manager') as K8sObject & { rules: Rule[] }).rules;
    expect(clusterRules.some((r) => r.resources.includes('leases'))).toBe(false);
  });

  test('no role anywhere grants pods/log or a wildcard', () => {
    for (const r of OBJECTS.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')) {
      expect(JSON.stringify(r)).not.toMatch(/pods\/log|"\*"/);
    }
  });

  test('bindings tie the roles to the steward-manager ServiceAccount', () => {
    const sa = object('ServiceAccount', 'steward-manager');
    expect(sa.metadata.namespace).toBe('steward-system');
    const crb = object('ClusterRoleBinding', 'steward-manager') as K8sObject & { roleRef: Json; subjects: Json[] };
    expect(crb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'steward-manager' });
    expect(crb.subjects).toEqual([SA]);
    const rb = object('RoleBinding', 'steward-leader-election') as K8sObject & { roleRef: Json; subjects: Json[] };
    expect(rb.metadata.namespace).toBe('steward-system');
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'steward-leader-election' });
    expect(rb.subjects).toEqual([SA]);
  });
});

describe('manager', () => {
  type Container = {
    name: string;
    image: string;
    args: string[];
    env: Array<{ name: string; value?: string; valueFrom?: Json }>;
    ports: Array<{ name: string; containerPort: number }>;
    livenessProbe: { httpGet: { path: string; port: string | number } };
    readinessProbe: { httpGet: { path: string; port: string | number } };
    resources: Json;
    securityContext: Json;
  };
  type PodSpec = Json & { containers: Container[]; securityContext: Json; serviceAccountName: string };
  const deployment = object('Deployment', 'steward-manager') as K8sObject & {
    spec: {
      replicas: number;
      selector: { matchLabels: Record<string, string> };
      template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    };
  };
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0]!;
  const podLabels = deployment.spec.template.metadata.labels;
  const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);
  const portNumber = (p: string | number) =>
    typeof p === 'number' ? p : container.ports.find((x) => x.name === p)?.containerPort;

  test('two replicas with leader election, the bind addresses, in steward-system', () => {
    expect(object('Namespace', 'steward-system')).toBeDefined();
    expect(deployment.metadata.namespace).toBe('steward-system');
    expect(deployment.spec.replicas).toBe(2);
    expect(selects(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(pod.containers).toHaveLength(1);
    expect(container.args).toEqual(
      expect.arrayContaining(['--leader-elect=true', '--metrics-bind-address=:8080', '--health-probe-bind-address=:8081']),
    );
    expect(pod.serviceAccountName).toBe('steward-manager');
  });

  test('POD_NAMESPACE and POD_NAME from the downward API', () => {
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.valueFrom]));
    expect(env.POD_NAMESPACE).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
    expect(env.POD_NAME).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
  });

  test('probes on the health port, resources', () => {
    expect([container.livenessProbe.httpGet.path, portNumber(container.livenessProbe.httpGet.port)]).toEqual(['/healthz', 8081]);
    expect([container.readinessProbe.httpGet.path, portNumber(container.readinessProbe.httpGet.port)]).toEqual(['/readyz', 8081]);
    expect(container.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    });
  });

  test('the restricted pod security profile', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(object('Namespace', 'steward-system').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  test('the tenant policy: a generated ConfigMap, mounted read-only, passed with --tenant-policy', () => {
    const k = DOCS.get('manifests/manager/kustomization.yaml')![0] as Json & {
      configMapGenerator: Array<{ name: string; files: string[] }>;
    };
    expect(k.configMapGenerator.map((g) => [g.name, g.files])).toEqual([['steward-tenant-policy', ['tenant-policy.yaml']]]);
    const volumes = pod.volumes as Array<{ name: string; configMap?: { name: string } }>;
    const volume = volumes.find((v) => v.configMap?.name === 'steward-tenant-policy')!;
    const mounts = (container as unknown as { volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> })
      .volumeMounts;
    const mount = mounts.find((m) => m.name === volume.name)!;
    expect(mount.readOnly).toBe(true);
    expect(container.args).toContain(`--tenant-policy=${mount.mountPath}/tenant-policy.yaml`);
  });

  test('graceful stop fits the grace period; replicas spread across nodes', () => {
    // The manager's graceful shutdown timeout is 30 s by default.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30);
    const spread = (pod.topologySpreadConstraints ?? []) as Array<{ topologyKey: string }>;
    const anti = (pod.affinity as Json | undefined)?.podAntiAffinity;
    expect(spread.some((c) => c.topologyKey === 'kubernetes.io/hostname') || anti !== undefined).toBe(true);
  });

  test('the metrics Service, the ServiceMonitor and the PodDisruptionBudget find the pods', () => {
    const svc = object('Service', 'steward-metrics') as K8sObject & {
      spec: { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string | number }> };
    };
    expect(selects(svc.spec.selector, podLabels)).toBe(true);
    expect(svc.spec.ports).toHaveLength(1);
    expect(svc.spec.ports[0]).toMatchObject({ name: 'metrics', port: 8080 });
    expect(portNumber(svc.spec.ports[0]!.targetPort)).toBe(8080);

    const sm = object('ServiceMonitor', 'steward-manager') as K8sObject & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; honorLabels?: boolean }> };
    };
    expect(selects(sm.spec.selector.matchLabels, svc.metadata.labels ?? {})).toBe(true);
    expect(sm.spec.endpoints.map((e) => [e.port, e.honorLabels])).toEqual([['metrics', true]]);

    const pdb = object('PodDisruptionBudget', 'steward-manager') as K8sObject & {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    expect(pdb.spec.minAvailable).toBe(1);
    expect(selects(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
  });
});

// Metric families the dashboard and the alerts may use, with their labels (besides the
// target labels Prometheus adds, and `le` on histogram buckets).
const METRICS: Record<string, { histogram?: boolean; labels: string[] }> = {
  steward_session_startup_duration_seconds: { histogram: true, labels: ['namespace'] },
  steward_sessions_total: { labels: ['namespace'] },
  steward_sessions_completed_total: { labels: ['namespace', 'final_phase'] },
  steward_session_phase_transitions_total: { labels: ['namespace', 'from_phase', 'to_phase'] },
  steward_reconcile_duration_seconds: { histogram: true, labels: ['phase', 'success'] },
  steward_job_creation_duration_seconds: { histogram: true, labels: [] },
  steward_session_errors_total: { labels: ['namespace', 'phase', 'error_type'] },
  steward_session_stale_cache_requeues_total: { labels: ['namespace'] },
  steward_schedule_runs_total: { labels: ['namespace', 'result'] },
  steward_schedule_start_delay_seconds: { histogram: true, labels: ['namespace'] },
  steward_workflows_total: { labels: ['namespace'] },
  steward_workflows_completed_total: { labels: ['namespace', 'final_phase'] },
  steward_workflow_duration_seconds: { histogram: true, labels: ['namespace', 'final_phase'] },
  steward_workflow_tasks: { labels: ['namespace', 'phase'] },
  steward_workflow_tasks_completed_total: { labels: ['namespace', 'phase'] },
  steward_workflow_errors_total: { labels: ['namespace', 'error_type'] },
  controller_runtime_reconcile_total: { labels: ['controller', 'result'] },
  controller_runtime_reconcile_errors_total: { labels: ['controller'] },
  controller_runtime_terminal_reconcile_errors_total: { labels: ['controller'] },
  controller_runtime_reconcile_panics_total: { labels: ['controller'] },
  controller_runtime_reconcile_time_seconds: { histogram: true, labels: ['controller'] },
  controller_runtime_max_concurrent_reconciles: { labels: ['controller'] },
  controller_runtime_active_workers: { labels: ['controller'] },
  workqueue_depth: { labels: ['name', 'controller'] },
  workqueue_adds_total: { labels: ['name', 'controller'] },
  workqueue_retries_total: { labels: ['name', 'controller'] },
  workqueue_queue_duration_seconds: { histogram: true, labels: ['name', 'controller'] },
  workqueue_work_duration_seconds: { histogram: true, labels: ['name', 'controller'] },
  workqueue_unfinished_work_seconds: { labels: ['name', 'controller'] },
  workqueue_longest_running_processor_seconds: { labels: ['name', 'controller'] },
  leader_election_master_status: { labels: ['name'] },
  rest_client_requests_total: { labels: ['code', 'method', 'host'] },
};
const TARGET_LABELS = ['instance', 'job', 'namespace', 'pod'];
const METRIC_RE = /\b(?:steward|controller_runtime|workqueue|leader_election|rest_client)_[A-Za-z0-9_]*/g;

/** The family of a series name: itself, or a histogram's for _bucket/_sum/_count. */
function family(series: string): { name: string; labels: string[] } | undefined {
  if (METRICS[series]) return { name: series, labels: METRICS[series].labels };
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  const f = m && METRICS[m[1]!];
  if (!m || !f?.histogram) return undefined;
  return { name: m[1]!, labels: m[2] === 'bucket' ? [...f.labels, 'le'] : f.labels };
}

/** Problems with one PromQL expression: unknown series, labels a series or aggregation cannot have. */
function checkExpr(expr: string): string[] {
  const problems: string[] = [];
  const series = [...new Set(expr.match(METRIC_RE) ?? [])];
  const allowed = new Set([...TARGET_LABELS]);
  for (const s of series) {
    const f = family(s);
    if (!f) {
      problems.push(`unknown metric ${s}`);
      continue;
    }
    f.labels.forEach((l) => allowed.add(l));
    for (const sel of expr.matchAll(new RegExp(`\\b${s}\\{([^}]*)\\}`, 'g'))) {
      for (const l of sel[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
        if (!f.labels.includes(l[1]!) && !TARGET_LABELS.includes(l[1]!)) problems.push(`${s} has no label ${l[1]}`);
      }
    }
  }
  for (const g of expr.matchAll(/\b(?:by|on|without|ignoring)\s*\(([^)]*)\)/g)) {
    for (const l of g[1]!.split(',').map((x) => x.trim()).filter(Boolean)) {
      if (!allowed.has(l)) problems.push(`no metric in the expression has label ${l}`);
    }
  }
  return problems;
}

describe('metrics', () => {
  test('the steward_ names and labels are those SessionMetrics, WorkflowMetrics and ScheduleMetrics register', () => {
    const registry = new Registry();
    new SessionMetrics(registry);
    new WorkflowMetrics(registry);
    new ScheduleMetrics(registry);
    const registered = registry
      .getMetricsAsArray()
      // labelNames is not in prom-client's types, but every metric has it.
      .map((m) => [m.name, [...((m as unknown as { labelNames?: string[] }).labelNames ?? [])].sort()]);
    const ours = Object.entries(METRICS)
      .filter(([n]) => n.startsWith('steward_'))
      .map(([n, f]) => [n, [...f.labels].sort()]);
    expect(registered.sort()).toEqual(ours.sort());
  });

  test('the expression checker rejects unknown metrics and labels', () => {
    expect(checkExpr('sum by (le) (rate(steward_job_creation_duration_seconds_bucket[5m]))')).toEqual([]);
    expect(checkExpr('rate(steward_sessions_created_total[5m])')).toEqual(['unknown metric steward_sessions_created_total']);
    expect(checkExpr('steward_job_creation_duration_seconds_count{namespace="x"}')).toEqual([]);
    expect(checkExpr('steward_reconcile_duration_seconds_count{phaze="x"}')).toEqual([
      'steward_reconcile_duration_seconds_count has no label phaze',
    ]);
    expect(checkExpr('sum by (final_phase) (rate(steward_sessions_total[5m]))')).toEqual([
      'no metric in the expression has label final_phase',
    ]);
    expect(checkExpr('steward_sessions_total_bucket')).toEqual(['unknown metric steward_sessions_total_bucket']);
  });
});

describe('Prometheus rules', () => {
  type Rule = { alert: string; expr: string; for?: string; labels?: Json; annotations?: Json };
  const rulesFile = DOCS.get('manifests/prometheus/rules.yaml')![0] as { groups: Array<{ name: string; rules: Rule[] }> };
  const alerts = rulesFile.groups.flatMap((g) => g.rules);

  test('the PrometheusRule carries exactly the groups of rules.yaml', () => {
    const pr = object('PrometheusRule', 'steward') as K8sObject & { spec: { groups: unknown } };
    expect(pr.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(pr.spec.groups).toEqual(rulesFile.groups);
  });

  test('the alerts, each with for, a severity, a summary and a description', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      'StewardLeaderFlapping',
      'StewardOperatorDown',
      'StewardReconcileErrorRatioHigh',
      'StewardScheduleRunsMissed',
      'StewardSessionsStuck',
      'StewardWorkQueueDepthGrowing',
      'StewardWorkflowsFailing',
    ]);
    for (const a of alerts) {
      expect([a.alert, a.for]).toEqual([a.alert, expect.stringMatching(/^\d+[smh]$/)]);
      expect([a.alert, a.labels?.severity]).toEqual([a.alert, expect.stringMatching(/^(critical|warning)$/)]);
      expect([a.alert, a.annotations?.summary, a.annotations?.description]).toEqual([
        a.alert,
        expect.any(String),
        expect.any(String),
      ]);
      expect([a.alert, checkExpr(a.expr)]).toEqual([a.alert, []]);
    }
    const expr = (name: string) => alerts.find((a) => a.alert === name)!.expr.replace(/\s+/g, ' ');
    expect(expr('StewardReconcileErrorRatioHigh')).toContain('controller_runtime_reconcile_errors_total');
    expect(expr('StewardWorkQueueDepthGrowing')).toContain('deriv(workqueue_depth[10m]) > 0');
    expect(expr('StewardLeaderFlapping')).toBe('sum by (name) (changes(leader_election_master_status[15m])) > 2');
    expect(expr('StewardOperatorDown')).toBe('absent(up{job=~".*steward.*"} == 1)');
  });

  test('rules.test.yaml tests every alert both firing and quiet', () => {
    const t = DOCS.get('manifests/prometheus/rules.test.yaml')![0] as {
      rule_files: string[];
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
    };
    expect(t.rule_files).toEqual(['rules.yaml']);
    const cases = t.tests.flatMap((x) => x.alert_rule_test ?? []);
    for (const a of alerts) {
      const mine = cases.filter((c) => c.alertname === a.alert);
      expect([a.alert, mine.some((c) => (c.exp_alerts ?? []).length > 0)]).toEqual([a.alert, true]);
      expect([a.alert, mine.some((c) => (c.exp_alerts ?? []).length === 0)]).toEqual([a.alert, true]);
    }
  });
});

describe('Grafana dashboard', () => {
  type Target = { expr: string; datasource?: Json };
  type Panel = { id: number; type: string; title: string; targets?: Target[]; datasource?: Json; panels?: Panel[] };
  const dashboard = JSON.parse(read('manifests/grafana/steward-dashboard.json')) as {
    uid: string;
    schemaVersion: number;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query: unknown }> };
  };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const targets = panels.flatMap((p) => p.targets ?? []);

  test('parses, with a datasource variable and a namespace variable', () => {
    expect(dashboard.uid).toBeTruthy();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const vars = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.namespace).toMatchObject({ type: 'query' });
    expect(JSON.stringify(vars.namespace!.query)).toContain('label_values(steward_sessions_total, namespace)');
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  test('every query goes to ${datasource} and uses only known metrics and labels', () => {
    expect(targets.length).toBeGreaterThan(10);
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect([p.title, p.datasource]).toEqual([p.title, { type: 'prometheus', uid: '${datasource}' }]);
      for (const t of p.targets ?? []) {
        expect([p.title, t.datasource?.uid]).toEqual([p.title, '${datasource}']);
        expect([p.title, t.expr, checkExpr(t.expr)]).toEqual([p.title, t.expr, []]);
      }
    }
  });

  test('the panels cover every metric the operator is watched by', () => {
    const used = new Set(targets.flatMap((t) => (t.expr.match(METRIC_RE) ?? []).map((s) => family(s)?.name)));
    const wanted = [
      'steward_session_startup_duration_seconds',
      'steward_sessions_total',
      'steward_sessions_completed_total',
      'steward_session_phase_transitions_total',
      'steward_reconcile_duration_seconds',
      'steward_job_creation_duration_seconds',
      'steward_session_errors_total',
      'steward_schedule_runs_total',
      'steward_schedule_start_delay_seconds',
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_time_seconds',
      'workqueue_depth',
      'workqueue_queue_duration_seconds',
      'controller_runtime_active_workers',
      'controller_runtime_max_concurrent_reconciles',
      'leader_election_master_status',
      'rest_client_requests_total',
      'steward_workflows_total',
      'steward_workflows_completed_total',
      'steward_workflow_duration_seconds',
      'steward_workflow_tasks',
      'steward_workflow_tasks_completed_total',
    ];
    expect(wanted.filter((m) => !used.has(m))).toEqual([]);
    const exprs = targets.map((t) => t.expr.replace(/\{namespace=~"\$namespace"\}/g, ''));
    expect(exprs).toEqual(
      expect.arrayContaining([
        'histogram_quantile(0.95, sum by (le) (rate(steward_session_startup_duration_seconds_bucket[5m])))',
        'sum(increase(steward_sessions_total[1h]))',
        'sum by (final_phase) (increase(steward_sessions_completed_total[1h]))',
        'sum by (from_phase, to_phase) (rate(steward_session_phase_transitions_total[5m])) * 60',
        'sum by (error_type) (rate(steward_session_errors_total[5m]))',
        'sum(rate(steward_reconcile_duration_seconds_count{success="true"}[5m])) / sum(rate(steward_reconcile_duration_seconds_count[5m]))',
      ]),
    );
  });

  test('the kustomization makes it a ConfigMap for the Grafana sidecar', () => {
    const k = DOCS.get('manifests/grafana/kustomization.yaml')![0] as {
      configMapGenerator: Array<{ files: string[]; options: { labels: Json; disableNameSuffixHash?: boolean } }>;
    };
    expect(k.configMapGenerator).toHaveLength(1);
    expect(k.configMapGenerator[0]!.files).toEqual(['steward-dashboard.json']);
    expect(k.configMapGenerator[0]!.options.labels.grafana_dashboard).toBe('1');
    expect(k.configMapGenerator[0]!.options.disableNameSuffixHash).toBe(true);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  test('Node 24, unprivileged, starts the manager', () => {
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24[-\w.]*$/m);
    expect(dockerfile).toMatch(/^USER 65532(:65532)?$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", (?:"--[a-z-]+(?:=\d+)?", )*"dist\/cmd\/manager\.js"\]$/m);
    // The runtime image gets the build output and production dependencies, never the sources.
    expect(dockerfile).toContain('npm prune --omit=dev');
    const runtime = dockerfile.split(/^FROM /m).at(-1)!;
    expect(runtime).not.toMatch(/^COPY (?!--from=build).*/m);
    expect(runtime).not.toMatch(/^COPY .*\b(lib|controllers|cmd)\//m);
  });

  test('.dockerignore keeps node_modules and dist out of the context', () => {
    const ignore = read('.dockerignore');
    expect(ignore).toMatch(/^\*\*\/node_modules$/m);
    expect(ignore).toMatch(/^\*\*\/dist$/m);
  });
});
