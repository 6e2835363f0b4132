// The Workflow CRD and samples against the contract they deploy: the Workflow API of
// controllers/workflow/types.ts, a task's session being exactly the Session's schema, and
// samples the schema accepts and the controller can run. Read as data; no cluster.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import {
  MAX_TASKS,
  parseWorkflow,
  TASK_PHASES,
  WORKFLOW_PHASES,
  type WorkflowSpec,
} from '../../../controllers/workflow/index.js';
import {
  FAKE_EXIT_CODE_ANNOTATION,
  FAKE_RESULT_ANNOTATION,
  FAKE_RUN_SECONDS_ANNOTATION,
} from '../../../lib/testing/index.js';
import { type Schema, validate } from './schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const load = (file: string) => loadAll(readFileSync(join(ROOT, file), 'utf8')).filter(Boolean) as Array<
  Record<string, unknown>
>;

interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: Record<string, unknown>;
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: unknown;
      additionalPrinterColumns: Array<{ name: string; type: string; jsonPath: string; priority?: number }>;
      schema: { openAPIV3Schema: Schema };
    }>;
  };
}
const CRD = load('manifests/crd/steward.dev_workflows.yaml')[0] as unknown as Crd;
const ROOT_SCHEMA = CRD.spec.versions[0]!.schema.openAPIV3Schema;
const SESSION_SCHEMA = (load('manifests/crd/steward.dev_sessions.yaml')[0] as unknown as Crd).spec.versions[0]!
  .schema.openAPIV3Schema;

function at(path: string, root: Schema = ROOT_SCHEMA): Schema {
  let s: Schema | undefined = root;
  for (const part of path.split('.')) {
    s = part === '[]' ? s?.items : part === '{}' ? s?.additionalProperties : s?.properties?.[part];
    if (s === undefined) throw new Error(`no schema at ${path}`);
  }
  return s;
}
const rules = (s: Schema) => s['x-kubernetes-validations'] ?? [];

describe('Workflow CRD', () => {
  test('names, scope, version, status subresource; in the kustomization', () => {
    expect(CRD.metadata.name).toBe('workflows.steward.dev');
    expect(CRD.spec.group).toBe('steward.dev');
    expect(CRD.spec.scope).toBe('Namespaced');
    expect(CRD.spec.names).toEqual({
      kind: 'Workflow',
      listKind: 'WorkflowList',
      plural: 'workflows',
      singular: 'workflow',
      shortNames: ['wf'],
      categories: ['steward'],
    });
    expect(CRD.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1alpha1', true, true]]);
    expect(CRD.spec.versions[0]!.subresources).toEqual({ status: {} });
    expect(load('manifests/crd/kustomization.yaml')[0]!.resources).toContain('steward.dev_workflows.yaml');
  });

  test('printer columns PHASE, PROGRESS, AGE', () => {
    const cols = CRD.spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority);
    expect(cols.map((c) => [c.name, c.type, c.jsonPath])).toEqual([
      ['Phase', 'string', '.status.phase'],
      ['Progress', 'string', '.status.progress'],
      ['Age', 'date', '.metadata.creationTimestamp'],
    ]);
  });

  test.each([
    ['spec', ['tasks', 'parallelism', 'onFailure', 'cancel', 'ttlSecondsAfterFinished']],
    ['spec.tasks.[]', ['name', 'dependsOn', 'session']],
    ['spec.tasks.[].session', ['template', 'input', 'startTimeoutSeconds', 'timeoutSeconds', 'retry']],
    [
      'status',
      [
        'phase',
        'reason',
        'message',
        'startTime',
        'completionTime',
        'progress',
        'tasks',
        'tasksDigest',
        'observedGeneration',
        'conditions',
      ],
    ],
    [
      'status.tasks.{}',
      ['phase', 'session', 'attempt', 'exitCode', 'reason', 'message', 'startTime', 'completionTime'],
    ],
  ])('%s has exactly the fields of types.ts', (path, fields) => {
    expect(Object.keys(at(path).properties ?? {}).sort()).toEqual([...fields].sort());
  });

  // After a change to the Session CRD's spec: node hack/sync-workflow-crd.mjs
  test('a task’s session has the Session’s schema, field for field (less the template’s immutability)', () => {
    for (const f of ['input', 'startTimeoutSeconds', 'timeoutSeconds', 'retry']) {
      expect([f, at(`spec.tasks.[].session.${f}`)]).toEqual([f, at(`spec.${f}`, SESSION_SCHEMA)]);
    }
    // The descriptions differ only where they speak of immutability (here, tasks are immutable).
    const { 'x-kubernetes-validations': immutable, description: _d, ...template } = at('spec.template', SESSION_SCHEMA);
    expect(immutable).toEqual([{ rule: 'self == oldSelf', message: 'template is immutable' }]);
    const { description: _e, ...ours } = at('spec.tasks.[].session.template');
    expect(ours).toEqual(template);
  });

  test('tasks: 1 to MAX_TASKS, unique DNS-label names, dependencies that exist, no self-dependency, immutable', () => {
    const tasks = at('spec.tasks');
    expect([tasks.minItems, tasks.maxItems]).toEqual([1, MAX_TASKS]);
    // Atomic (one managed field for all tasks, not one per task and field); unique by CEL.
    expect([tasks['x-kubernetes-list-type'], tasks['x-kubernetes-list-map-keys']]).toEqual(['atomic', undefined]);
    expect(at('spec.tasks.[]').required).toEqual(['name', 'session']);
    for (const p of ['spec.tasks.[].name', 'spec.tasks.[].dependsOn.[]']) {
      expect([p, at(p).pattern, at(p).maxLength]).toEqual([p, '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 63]);
    }
    expect(at('spec.tasks.[].dependsOn')['x-kubernetes-list-type']).toBe('set');
    expect(rules(at('spec.tasks.[]'))).toEqual([
      { rule: '!has(self.dependsOn) || !(self.name in self.dependsOn)', message: 'a task cannot depend on itself' },
    ]);
    // Dependencies name tasks: through a map of the names, so the rule stays linear. On create
    // only (no oldSelf yet): on an update the tasks are the ones that passed them.
    expect(rules(at('spec.tasks'))).toEqual([
      {
        rule: expect.stringMatching(/^oldSelf\.hasValue\(\) \|\| \(\[self\.transformMapEntry\(i, t, \{t\.name: true\}\)\]/),
        optionalOldSelf: true,
        message: 'every dependsOn entry must name a task of this Workflow',
      },
      {
        rule: 'oldSelf.hasValue() || (size(self.transformMapEntry(i, t, {t.name: true})) == size(self))',
        optionalOldSelf: true,
        message: 'task names must be unique (a name is used twice)',
      },
    ]);
    expect(rules(at('spec.tasks'))[0]!.rule).toContain('t.dependsOn.all(d, d in names)');
    // The immutability of tasks is the policy's (below): a CRD rule would run on status writes.
    expect(rules(at('spec')).map((r) => r.message)).toEqual([
      'onFailure is immutable',
      'cancel cannot be set back to false once it is true',
    ]);
    expect(JSON.stringify(rules(at('spec')))).not.toContain('tasks');
  });

  test('spec.tasks is immutable by a ValidatingAdmissionPolicy that sees the Workflow, not its status', () => {
    expect(load('manifests/crd/kustomization.yaml')[0]!.resources).toContain('workflow-tasks-immutable.yaml');
    const docs = load('manifests/crd/workflow-tasks-immutable.yaml');
    const [policy, binding, ...more] = docs as Array<{
      kind: string;
      metadata: { name: string };
      spec: Record<string, unknown>;
    }>;
    expect(more).toEqual([]);
    expect([policy!.kind, binding!.kind]).toEqual(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    expect(binding!.spec).toEqual({ policyName: policy!.metadata.name, validationActions: ['Deny'] });
    expect(policy!.spec.matchConstraints).toEqual({
      // workflows only: workflows/status would be "workflows/status" or "workflows/*".
      resourceRules: [{ apiGroups: ['steward.dev'], apiVersions: ['*'], operations: ['UPDATE'], resources: ['workflows'] }],
    });
    const [validation] = policy!.spec.validations as Array<{ expression: string; message: string }>;
    expect(validation!.expression).toContain('object.spec.tasks == oldObject.spec.tasks');
    expect(validation!.message).toBe('spec.tasks are immutable');
  });

  test('the other spec fields, and the phases of types.ts', () => {
    expect([at('spec.parallelism').type, at('spec.parallelism').minimum]).toEqual(['integer', 1]);
    expect([at('spec.onFailure').enum, at('spec.onFailure').default]).toEqual([['Stop', 'Continue'], 'Stop']);
    expect([at('spec.cancel').type, at('spec.cancel').default]).toEqual(['boolean', false]);
    expect([at('spec.ttlSecondsAfterFinished').type, at('spec.ttlSecondsAfterFinished').minimum]).toEqual([
      'integer',
      0,
    ]);
    expect(at('status.phase').enum).toEqual([...WORKFLOW_PHASES]);
    expect(at('status.tasks.{}.phase').enum).toEqual([...TASK_PHASES]);
    expect(at('status.tasks').maxProperties).toBe(MAX_TASKS);
    for (const t of ['startTime', 'completionTime']) {
      expect([at(`status.${t}`).format, at(`status.tasks.{}.${t}`).format]).toEqual(['date-time', 'date-time']);
    }
    expect(at('status.conditions.[]')).toEqual(at('status.conditions.[]', SESSION_SCHEMA));
  });

  test('every property has a description', () => {
    const problems: string[] = [];
    const walk = (s: Schema, path: string) => {
      if (path !== '' && path !== '.metadata' && !s.description?.trim()) problems.push(`${path}: no description`);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
      if (s.additionalProperties) walk(s.additionalProperties, `${path}{}`);
    };
    walk(ROOT_SCHEMA, '');
    expect(problems).toEqual([]);
  });
});

describe('Workflow samples', () => {
  const samples = new Map(
    ['diamond', 'fan-out', 'failing-stop', 'failing-continue'].map((n) => {
      const docs = load(`manifests/samples/workflow-${n}.yaml`);
      expect(docs).toHaveLength(1);
      return [n, docs[0] as { kind: string; metadata: { name: string; namespace: string }; spec: WorkflowSpec }];
    }),
  );

  test('each is a Workflow in default that the schema accepts and the controller can run', () => {
    for (const [name, wf] of samples) {
      expect([wf.kind, wf.metadata.name, wf.metadata.namespace]).toEqual(['Workflow', name, 'default']);
      const problems: string[] = [];
      validate({ spec: wf.spec }, ROOT_SCHEMA, name, problems);
      expect(problems).toEqual([]);
      const parsed = parseWorkflow(wf.spec, undefined);
      expect([name, 'problem' in parsed ? parsed.problem : 'ok']).toEqual([name, 'ok']);
      // Runnable on the kwok cluster: every task says how long it runs there.
      for (const t of wf.spec.tasks) {
        const a = t.session.template?.annotations ?? {};
        expect(Object.keys(a).filter((k) => k.startsWith('steward.dev/fake-')).every((k) =>
          [FAKE_EXIT_CODE_ANNOTATION, FAKE_RESULT_ANNOTATION, FAKE_RUN_SECONDS_ANNOTATION].includes(k),
        )).toBe(true);
      }
    }
  });

  test('the shapes they are named for', () => {
    const graph = (n: string) => {
      const p = parseWorkflow(samples.get(n)!.spec, undefined);
      if ('problem' in p) throw new Error(p.problem);
      return p.graph;
    };
    expect(graph('diamond').level).toEqual([0, 1, 1, 2]);
    const fan = graph('fan-out');
    expect(fan.names).toHaveLength(22);
    expect(fan.dependents[fan.index.get('split')!]).toHaveLength(20);
    expect(fan.deps[fan.index.get('merge')!]).toHaveLength(20);
    expect(samples.get('fan-out')!.spec.parallelism).toBeDefined();
    for (const [n, mode] of [
      ['failing-stop', 'Stop'],
      ['failing-continue', 'Continue'],
    ] as const) {
      const wf = samples.get(n)!;
      expect(wf.spec.onFailure).toBe(mode);
      const failing = wf.spec.tasks.filter((t) => t.session.template?.annotations?.[FAKE_EXIT_CODE_ANNOTATION] === '3');
      expect(failing.map((t) => t.name)).toEqual(['validate']);
    }
    const results = samples.get('diamond')!.spec.tasks.map((t) => t.session.template?.annotations?.[FAKE_RESULT_ANNOTATION]);
    expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(3);
  });
});
