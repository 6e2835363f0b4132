// The operator's metrics in a real Prometheus: every PromQL expression shipped (the Grafana
// dashboard, the alert rules, the README) parses and finds data scraped from a running
// operator, and promtool checks and unit-tests the alert rules.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { KubeClient, type KubernetesObject } from '../../lib/index.js';
import {
  type ControlPlane,
  FAKE_EXIT_CODE_ANNOTATION,
  FAKE_RUN_SECONDS_ANNOTATION,
  freePorts,
  installCRDs,
  startControlPlane,
  waitFor,
} from '../../lib/testing/index.js';
import { type OperatorProcess, ROOT, startOperator } from './operator.js';
import { prometheusBinary, type PrometheusProcess, startPrometheus } from './prometheus.js';

const RULES = join(ROOT, 'manifests', 'prometheus', 'rules.yaml');
const RULES_TEST = join(ROOT, 'manifests', 'prometheus', 'rules.test.yaml');
const SESSION = { group: 'steward.dev', version: 'v1alpha1', kind: 'Session' };
const WORKFLOW = { group: 'steward.dev', version: 'v1alpha1', kind: 'Workflow' };
const NS = 'default';

function promtool(...args: string[]): string {
  const bin = join(prometheusBinary(), '..', 'promtool');
  return execFileSync(bin, args, { encoding: 'utf8', cwd: join(ROOT, 'manifests', 'prometheus') });
}

/** Every expression shipped, by where it comes from. Dashboard variables become match-alls. */
function dashboardExprs(): string[] {
  const d = JSON.parse(
    readFileSync(join(ROOT, 'manifests', 'grafana', 'steward-dashboard.json'), 'utf8'),
  ) as {
    panels?: Array<{
      targets?: Array<{ expr?: string }>;
      panels?: Array<{ targets?: Array<{ expr?: string }> }>;
    }>;
  };
  const panels = (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
  return panels
    .flatMap((p) => (p.targets ?? []).map((t) => t.expr!))
    .map((e) => e.replaceAll('$namespace', '.*'));
}

function ruleExprs(): Array<{ alert: string; expr: string }> {
  const doc = loadAll(readFileSync(RULES, 'utf8'))[0] as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  };
  return doc.groups.flatMap((g) => g.rules);
}

function readmeExprs(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```promql\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')),
  );
}

/** The metric names an expression reads. */
function metricNames(expr: string): string[] {
  return [
    ...new Set(
      expr.match(
        /\b(?:(?:steward|controller_runtime|workqueue|leader_election|rest_client)_[a-z_]+|up)\b/g,
      ) ?? [],
    ),
  ];
}

test('promtool: the rules are valid and their unit tests pass', () => {
  expect(promtool('check', 'rules', RULES)).toMatch(/SUCCESS: \d+ rules found/);
  expect(promtool('test', 'rules', RULES_TEST)).toMatch(/SUCCESS/);
});

describe('expressions against a Prometheus scraping a running operator', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let op: OperatorProcess;
  let prom: PrometheusProcess;

  beforeAll(async () => {
    cp = await startControlPlane({ cluster: true });
    client = new KubeClient(cp.kubeConfig, { qps: 200, burst: 200 });
    await installCRDs(client, [
      join(ROOT, 'manifests', 'crd', 'steward.dev_sessions.yaml'),
      join(ROOT, 'manifests', 'crd', 'steward.dev_schedules.yaml'),
      join(ROOT, 'manifests', 'crd', 'steward.dev_workflows.yaml'),
    ]);
    const [port] = await freePorts(1);
    op = startOperator(cp.kubeconfigPath, [
      '--leader-elect',
      '--leader-election-namespace',
      NS,
      '--metrics-bind-address',
      `127.0.0.1:${port}`,
    ]);
    prom = await startPrometheus([`127.0.0.1:${port}`], [RULES]);
    // Traffic for every panel: successes with a running phase, a failure, a retry, and a
    // Session whose Job the API server rejects (an error).
    const session = (name: string, spec: object) =>
      client.create({
        apiVersion: 'steward.dev/v1alpha1',
        kind: 'Session',
        metadata: { namespace: NS, name },
        spec,
      });
    const tpl = (code: number, seconds: number, labels: Record<string, string> = {}) => ({
      image: 'busybox:1.36',
      labels,
      annotations: {
        [FAKE_EXIT_CODE_ANNOTATION]: String(code),
        [FAKE_RUN_SECONDS_ANNOTATION]: String(seconds),
      },
    });
    for (let i = 0; i < 5; i++) await session(`ok-${i}`, { template: tpl(0, 1) });
    await session('fails', { template: tpl(3, 0) });
    await session('retries', { template: tpl(4, 0), retry: { limit: 1, backoff: { initialSeconds: 1 } } });
    await session('rejected', { template: tpl(0, 0, { team: 'x'.repeat(70) }) });
    // Workflows for the Workflows row: one that succeeds, one whose task fails.
    const workflow = (name: string, tasks: object[]) =>
      client.create({
        apiVersion: 'steward.dev/v1alpha1',
        kind: 'Workflow',
        metadata: { namespace: NS, name },
        spec: { tasks },
      });
    await workflow('wf-ok', [
      { name: 'a', session: { template: tpl(0, 1) } },
      { name: 'b', dependsOn: ['a'], session: { template: tpl(0, 0) } },
    ]);
    await workflow('wf-fails', [{ name: 'a', session: { template: tpl(3, 0) } }]);
    // A Schedule for the Schedules row: two runs, then suspended (it misses nothing).
    await client.create({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Schedule',
      metadata: { namespace: NS, name: 'tick' },
      spec: { schedule: '*/2 * * * * *', sessionTemplate: { spec: { template: tpl(0, 0) } } },
    });
    const runsOfTick = async () =>
      (await client.list(SESSION, { namespace: NS, labelSelector: { 'steward.dev/schedule': 'tick' } }))
        .items;
    await waitFor(async () => (await runsOfTick()).length >= 2, {
      description: 'two runs of the Schedule',
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    await client.patch(
      { group: 'steward.dev', version: 'v1alpha1', kind: 'Schedule' },
      { namespace: NS, name: 'tick' },
      { type: 'merge', body: { spec: { suspend: true } } },
    );
    const runs = (await runsOfTick()).length;
    await waitFor(
      async () => {
        const items = (
          await client.list<KubernetesObject & { status?: { phase?: string } }>(SESSION, { namespace: NS })
        ).items;
        const workflows = (
          await client.list<KubernetesObject & { status?: { phase?: string } }>(WORKFLOW, { namespace: NS })
        ).items;
        return (
          items.length >= 11 + runs &&
          items.every((s) => ['Succeeded', 'Failed'].includes(s.status?.phase ?? '')) &&
          workflows.length === 2 &&
          workflows.every((w) => ['Succeeded', 'Failed'].includes(w.status?.phase ?? ''))
        );
      },
      { description: 'all Sessions and Workflows finished', timeoutMs: 120_000, intervalMs: 200 },
    );
  });
  afterAll(async () => {
    await prom?.stop();
    await op?.stop();
    client?.close();
    await cp?.stop();
  });

  /** Waits until Prometheus answers the expression with at least one series. */
  async function hasData(expr: string): Promise<void> {
    let last: unknown;
    await waitFor(
      async () => {
        const r = await prom.query(expr);
        last = r;
        if (r.status !== 'success') throw new Error(`${expr}: ${r.error}`);
        return (r.data?.result.length ?? 0) > 0;
      },
      {
        description: `data for ${expr} (last answer ${JSON.stringify(last)})`,
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
  }

  test('every dashboard panel query returns data', async () => {
    const exprs = dashboardExprs();
    expect(exprs.length).toBeGreaterThan(10);
    for (const e of exprs) await hasData(e);
  });

  test('every README query returns data', async () => {
    const exprs = readmeExprs();
    expect(exprs.length).toBeGreaterThanOrEqual(3);
    for (const e of exprs) await hasData(e);
  });

  test('every alert expression parses, and every metric it reads has data', async () => {
    const rules = ruleExprs();
    expect(rules.length).toBeGreaterThanOrEqual(5);
    for (const { alert, expr } of rules) {
      const r = await prom.query(expr);
      expect({ alert, status: r.status, error: r.error }).toEqual({
        alert,
        status: 'success',
        error: undefined,
      });
      for (const name of metricNames(expr)) await hasData(name === 'up' ? 'up{job=~".*steward.*"}' : name);
    }
    // Nothing is wrong with this operator, so no alert may be firing.
    const alerts = (await (await fetch(`${prom.url}/api/v1/alerts`)).json()) as {
      data: { alerts: Array<{ labels: { alertname: string }; state: string }> };
    };
    expect(alerts.data.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname)).toEqual([]);
  });
});
