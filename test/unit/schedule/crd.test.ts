// The Schedule CRD against the contract it deploys: the types of controllers/schedule/types.ts,
// its defaults, printer columns, CEL rules, the Session template copied from the Session CRD,
// and the samples. Read as data; nothing talks to a cluster.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { DEFAULTS } from '../../../controllers/schedule/index.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
type Schema = {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  format?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-validations'?: Array<{ rule: string; message?: string }>;
};
type Crd = {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: Record<string, unknown>;
    versions: Array<{
      name: string;
      subresources?: unknown;
      additionalPrinterColumns: Array<{ name: string; type: string; jsonPath: string; priority?: number }>;
      schema: { openAPIV3Schema: Schema };
    }>;
  };
};

const crd = load(readFileSync(join(ROOT, 'manifests/crd/steward.dev_schedules.yaml'), 'utf8')) as Crd;
const ROOT_SCHEMA = crd.spec.versions[0]!.schema.openAPIV3Schema;
function at(path: string): Schema {
  let s: Schema | undefined = ROOT_SCHEMA;
  for (const part of path.split('.')) {
    s = part === '[]' ? s?.items : s?.properties?.[part];
    if (s === undefined) throw new Error(`no schema at ${path}`);
  }
  return s;
}
const rules = (p: string) => (at(p)['x-kubernetes-validations'] ?? []).map((v) => v.rule);

test('names, scope, version, status subresource', () => {
  expect(crd.metadata.name).toBe('schedules.steward.dev');
  expect(crd.spec.group).toBe('steward.dev');
  expect(crd.spec.scope).toBe('Namespaced');
  expect(crd.spec.names).toEqual({
    kind: 'Schedule',
    listKind: 'ScheduleList',
    plural: 'schedules',
    singular: 'schedule',
    shortNames: ['sched'],
    categories: ['steward'],
  });
  expect(crd.spec.versions.map((v) => v.name)).toEqual(['v1alpha1']);
  expect(crd.spec.versions[0]!.subresources).toEqual({ status: {} });
});

test('printer columns SCHEDULE SUSPEND ACTIVE LAST NEXT (and AGE)', () => {
  const cols = crd.spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority);
  expect(cols.map((c) => [c.name.toUpperCase(), c.type, c.jsonPath])).toEqual([
    ['SCHEDULE', 'string', '.spec.schedule'],
    ['SUSPEND', 'boolean', '.spec.suspend'],
    ['ACTIVE', 'integer', '.status.activeCount'],
    ['LAST', 'date', '.status.lastScheduleTime'],
    ['NEXT', 'string', '.status.nextScheduleTime'],
    ['AGE', 'date', '.metadata.creationTimestamp'],
  ]);
});

test.each([
  [
    'spec',
    [
      'schedule',
      'timeZone',
      'concurrencyPolicy',
      'startingDeadlineSeconds',
      'suspend',
      'successfulRunsHistoryLimit',
      'failedRunsHistoryLimit',
      'sessionTemplate',
      'workflowTemplate',
    ],
  ],
  ['spec.sessionTemplate', ['metadata', 'spec']],
  ['spec.sessionTemplate.metadata', ['labels', 'annotations']],
  ['spec.workflowTemplate', ['metadata', 'spec']],
  [
    'status',
    [
      'active',
      'activeCount',
      'lastScheduleTime',
      'lastSuccessfulTime',
      'nextScheduleTime',
      'lastMissedTime',
      'missedRuns',
      'skippedRuns',
      'observedGeneration',
      'conditions',
    ],
  ],
  ['status.active.[]', ['apiVersion', 'kind', 'name', 'namespace', 'uid']],
])('%s has exactly the fields of types.ts', (path, fields) => {
  expect(Object.keys(at(path).properties ?? {}).sort()).toEqual([...fields].sort());
});

test('defaults are those of types.ts; types and bounds', () => {
  expect(at('spec.timeZone').default).toBe(DEFAULTS.timeZone);
  expect(at('spec.concurrencyPolicy').default).toBe(DEFAULTS.concurrencyPolicy);
  expect(at('spec.concurrencyPolicy').enum).toEqual(['Allow', 'Forbid', 'Replace']);
  expect(at('spec.successfulRunsHistoryLimit').default).toBe(DEFAULTS.successfulRunsHistoryLimit);
  expect(at('spec.failedRunsHistoryLimit').default).toBe(DEFAULTS.failedRunsHistoryLimit);
  expect(at('spec.suspend')).toMatchObject({ type: 'boolean', default: false });
  expect(at('spec.startingDeadlineSeconds')).toMatchObject({ type: 'integer', minimum: 0 });
  expect(at('spec.startingDeadlineSeconds').default).toBeUndefined();
  expect(ROOT_SCHEMA.required).toEqual(['spec']);
  expect(at('spec').required).toEqual(['schedule']);
  for (const t of ['lastScheduleTime', 'lastSuccessfulTime', 'nextScheduleTime', 'lastMissedTime']) {
    expect([t, at(`status.${t}`).format]).toEqual([t, 'date-time']);
  }
  expect(at('spec.workflowTemplate.spec')['x-kubernetes-preserve-unknown-fields']).toBeUndefined();
});

test('CEL rules: exactly one template, a cron field count, an IANA zone', () => {
  expect(rules('spec')).toEqual(['has(self.sessionTemplate) != has(self.workflowTemplate)']);
  expect(rules('spec.schedule').join()).toContain('@(yearly|annually|monthly|weekly|daily|midnight|hourly)');
  expect(rules('spec.timeZone')).toEqual(
    expect.arrayContaining(["timestamp('2000-01-01T00:00:00Z').getHours(self) >= 0"]),
  );
  const walk = (s: Schema, path: string): string[] => [
    ...(s['x-kubernetes-validations'] ?? []).filter((v) => !v.message).map(() => path),
    ...Object.entries(s.properties ?? {}).flatMap(([k, v]) => walk(v, `${path}.${k}`)),
    ...(s.items ? walk(s.items, `${path}[]`) : []),
  ];
  expect(walk(ROOT_SCHEMA, '')).toEqual([]); // every rule has a message
});

test.each(['sessionTemplate', 'workflowTemplate'])(
  'spec.%s.metadata: label and annotation keys under steward.dev/ are refused',
  (t) => {
    for (const f of ['labels', 'annotations']) {
      expect([f, rules(`spec.${t}.metadata.${f}`)]).toEqual([
        f,
        ["self.all(k, !k.startsWith('steward.dev/'))"],
      ]);
    }
  },
);

test('spec.sessionTemplate.spec and spec.workflowTemplate.spec are current (hack/sync-schedule-crd.mjs --check)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'hack/sync-schedule-crd.mjs'), '--check'], {
    encoding: 'utf8',
  });
  expect([r.status, r.stderr]).toEqual([0, '']);
  const session = at('spec.sessionTemplate.spec');
  expect(session.properties?.cancel).toBeUndefined();
  expect(Object.keys(session.properties ?? {})).toEqual(
    expect.arrayContaining(['template', 'input', 'retry']),
  );
  expect(JSON.stringify(session)).not.toContain('oldSelf');
});

test('spec.workflowTemplate.spec is the Workflow CRD’s spec without cancel and transition rules', () => {
  const workflowCrd = load(
    readFileSync(join(ROOT, 'manifests/crd/steward.dev_workflows.yaml'), 'utf8'),
  ) as Crd;
  const workflowSpec = workflowCrd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
  const template = at('spec.workflowTemplate.spec');
  expect(template.properties?.cancel).toBeUndefined();
  expect(Object.keys(template.properties ?? {}).sort()).toEqual(
    Object.keys(workflowSpec.properties ?? {})
      .filter((k) => k !== 'cancel')
      .sort(),
  );
  expect(template.required).toEqual(workflowSpec.required);
  // The same task schema, rules and all (dependsOn must name a task; a task's session is a
  // Session's), but the rules over the task list: a Workflow checks them on create only (its
  // tasks are immutable), a template, which may be edited, on every write.
  const { 'x-kubernetes-validations': createOnly, ...tasks } = workflowSpec.properties!.tasks!;
  const { 'x-kubernetes-validations': always, ...templateTasks } = template.properties!.tasks!;
  expect(templateTasks).toEqual(tasks);
  expect(createOnly).toHaveLength(2);
  expect(createOnly).toEqual(
    always!.map((r) => ({ ...r, rule: `oldSelf.hasValue() || (${r.rule})`, optionalOldSelf: true })),
  );
  expect(JSON.stringify(template)).not.toContain('oldSelf');
  expect(JSON.stringify(workflowSpec)).toContain('oldSelf'); // what was dropped
});

test('the schema is structural and every property has a description', () => {
  const problems: string[] = [];
  const walk = (s: Schema, path: string) => {
    const untyped = s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string'];
    if (!s.type && !untyped) problems.push(`${path}: no type`);
    if (path !== '' && path !== '.metadata' && !s.description?.trim())
      problems.push(`${path}: no description`);
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
    if (s.items) walk(s.items, `${path}[]`);
    if (s.additionalProperties) walk(s.additionalProperties, `${path}{}`);
  };
  walk(ROOT_SCHEMA, '');
  expect(problems).toEqual([]);
});

test('the samples are Schedules whose fields the schema knows', () => {
  const unknown: string[] = [];
  const check = (value: unknown, s: Schema, path: string) => {
    if (s['x-kubernetes-preserve-unknown-fields'] && !s.properties) return;
    if (Array.isArray(value)) return value.forEach((v, i) => s.items && check(v, s.items, `${path}[${i}]`));
    if (typeof value !== 'object' || value === null) return;
    for (const [k, v] of Object.entries(value)) {
      const sub = s.properties?.[k] ?? s.additionalProperties;
      if (sub) check(v, sub, `${path}.${k}`);
      else unknown.push(`${path}.${k}`);
    }
  };
  const names: string[] = [];
  for (const f of ['schedule-every-minute.yaml', 'schedule-nightly.yaml']) {
    for (const doc of loadAll(readFileSync(join(ROOT, 'manifests/samples', f), 'utf8')) as Array<{
      kind: string;
      metadata: { name: string };
      spec: unknown;
    }>) {
      expect(doc.kind).toBe('Schedule');
      names.push(doc.metadata.name);
      check({ spec: doc.spec }, ROOT_SCHEMA, doc.metadata.name);
    }
  }
  expect(names.sort()).toEqual(['heartbeat', 'nightly-report']);
  expect(unknown).toEqual([]);
});
