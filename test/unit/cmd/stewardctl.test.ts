// stewardctl's commands in-process against a FakeClient: argument forms, output formats, usage
// errors, bulk operations, event order and the completion script.
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import {
  ANNOTATION_SESSION,
  LABEL_ATTEMPT,
  LABEL_SESSION,
  SESSION_GVK,
  type Session,
  sessionLabelValue,
} from '../../../controllers/session/index.js';
import { FakeClient } from '../../../lib/testing/index.js';
import type { Ctx } from '../../../cmd/stewardctl/context.js';
import { sortEvents, type CoreEvent } from '../../../cmd/stewardctl/events.js';
import { KindRegistry } from '../../../cmd/stewardctl/kinds.js';
import { defaultKinds } from '../../../cmd/stewardctl/kinds/index.js';
import { sessionKind } from '../../../cmd/stewardctl/kinds/session.js';
import { main } from '../../../cmd/stewardctl/main.js';

const NS = 'ns';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

async function fixture() {
  const client = new FakeClient({ kinds: [{ gvk: SESSION_GVK, resource: 'sessions', namespaced: true }] });
  for (const [name, phase] of [
    ['a', 'Running'],
    ['b', 'Succeeded'],
  ] as const) {
    await client.create<Session>({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: { namespace: NS, name },
      spec: {},
    });
    await client.patchStatus(
      SESSION_GVK,
      { namespace: NS, name },
      { type: 'merge', body: { status: { phase, attempt: 1, reason: 'R', jobName: `${name}-1` } } },
    );
  }
  return client;
}

async function run(client: FakeClient, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const ctx = (opts: { namespace?: string }): Ctx => ({
    client,
    namespace: opts.namespace ?? NS,
    out: (s) => (stdout += s),
    note: (s) => (stderr += s),
    openLog: () => Promise.reject(new Error('no logs here')),
    signal: new AbortController().signal,
    now: () => NOW,
  });
  const code = await main(argv, { context: ctx, stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe('resource arguments', () => {
  const kinds = defaultKinds();
  test('NAME is a Session; sess/, session/, sessions/ and Session/ name the kind', () => {
    for (const arg of ['x', 'sess/x', 'session/x', 'sessions/x', 'Session/x'])
      expect(kinds.resolve(arg)).toEqual({ kind: sessionKind, name: 'x' });
  });
  test('KIND NAME… takes the kind from the first argument', () => {
    expect(kinds.resolveAll(['sess', 'a', 'b']).map((r) => r.name)).toEqual(['a', 'b']);
    // A lone argument is a name, even when it looks like a kind.
    expect(kinds.resolveAll(['sess'])).toEqual([{ kind: sessionKind, name: 'sess' }]);
  });
  test('unknown kinds and bad names are usage errors (exit 2)', () => {
    expect(() => kinds.resolve('nope/x')).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => kinds.resolve('sess/')).toThrow(/not a valid object name/);
    expect(() => kinds.resolve('Upper')).toThrow(/not a valid object name/);
  });
  test('a kind module registers its own names; a clash is refused', () => {
    const reg = new KindRegistry([sessionKind]);
    const workflow = {
      ...sessionKind,
      gvk: { ...sessionKind.gvk, kind: 'Workflow' },
      singular: 'workflow',
      plural: 'workflows',
      shortNames: ['wf'],
    };
    reg.register(workflow);
    expect(reg.resolve('wf/x').kind).toBe(workflow);
    expect(reg.resolve('x').kind).toBe(sessionKind);
    expect(() =>
      reg.register({
        ...workflow,
        gvk: { ...workflow.gvk, kind: 'Other' },
        singular: 'other',
        plural: 'others',
        shortNames: ['sess'],
      }),
    ).toThrow(/taken/);
  });
});

describe('output', () => {
  test('table, wide, json, yaml, name', async () => {
    const client = await fixture();
    const table = await run(client, 'get', 'a', 'b');
    expect(table.stdout).toMatch(
      /^NAME {3}PHASE {7}ATTEMPT {3}REASON {3}AGE\na {6}Running {5}1 {9}R {8}\d+[smhd]\nb /,
    );
    const wide = await run(client, 'get', 'a', '-o', 'wide');
    expect(wide.stdout.split('\n')[1]).toMatch(/^a\s+Running\s+1\s+R\s+\S+\s+a-1$/);
    expect(JSON.parse((await run(client, 'get', 'a', '-o', 'json')).stdout).metadata.name).toBe('a');
    const y = await run(client, 'get', 'a', '-o', 'yaml');
    expect(y.stderr).toBe('');
    expect(y.stdout).toMatch(/^kind: Session$/m);
    expect((await run(client, 'list', '-o', 'name')).stdout).toBe('session/a\nsession/b\n');
    const empty = await run(client, 'list', '-o', 'json', '-n', 'other');
    expect(JSON.parse(empty.stdout)).toEqual({
      apiVersion: 'v1',
      kind: 'List',
      metadata: { resourceVersion: '' },
      items: [],
    });
    expect((await run(client, 'list', '-n', 'other')).stdout).toBe('No sessions found in namespace other.\n');
  });
  test('a bad -o is exit 2 with one line, never a silent table', async () => {
    const r = await run(await fixture(), 'get', 'a', '-o', 'yml');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^stewardctl: .*unknown output format "yml" \(use one of: table, wide, json, yaml, name\)\n$/,
    );
  });
});

describe('bulk commands', () => {
  test('delete runs every item, prints in argument order, fails with a count', async () => {
    const client = await fixture();
    const r = await run(client, 'delete', 'b', 'missing', 'a');
    expect(r.stdout).toBe('session/b deleted\nsession/a deleted\n');
    expect(r.stderr).toBe('stewardctl: session ns/missing not found\nstewardctl: 1 of 3 failed\n');
    expect(r.code).toBe(1);
    expect((await client.list(SESSION_GVK, { namespace: NS })).items).toHaveLength(0);
  });
  test('cancel patches spec.cancel on each', async () => {
    const client = await fixture();
    expect((await run(client, 'cancel', 'sess', 'a', 'b')).stdout).toBe(
      'session/a cancel requested\nsession/b cancel requested\n',
    );
    const a = await client.get<Session>(SESSION_GVK, { namespace: NS, name: 'a' });
    expect(a.spec?.cancel).toBe(true);
  });
});

describe('usage errors are one line and exit 2', () => {
  test.each([
    [['get']],
    [['get', 'nope/x']],
    [['frob']],
    [['logs', 'a', '--attempt', 'x']],
    [['submit', '--retries', '-1', '--image', 'x']],
    [['submit']],
    [['completion', 'fish']],
  ])('%j', async (argv) => {
    const r = await run(await fixture(), ...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^stewardctl: [^\n]+\n$/);
  });
});

test('events sort by time, then by write order (resourceVersion), never by name', () => {
  const ev = (
    name: string,
    t: string | undefined,
    rv: string,
    extra: Partial<CoreEvent> = {},
  ): CoreEvent => ({
    metadata: { name, resourceVersion: rv },
    lastTimestamp: t,
    ...extra,
  });
  const sorted = sortEvents([
    ev('z', '2026-01-01T00:00:02Z', '5'),
    ev('y', '2026-01-01T00:00:01Z', '9'),
    ev('x', '2026-01-01T00:00:01Z', '10'),
    ev('w', undefined, '1', { eventTime: '2026-01-01T00:00:00.500000Z' }),
    ev('v', '2026-01-01T00:00:00Z', '2', {
      series: { count: 3, lastObservedTime: '2026-01-01T00:00:03.000000Z' },
    }),
  ]);
  expect(sorted.map((e) => e.metadata?.name)).toEqual(['w', 'y', 'x', 'z', 'v']);
});

test('completion bash: commands, flags, output formats and names from `list -o name`', async () => {
  const script = (await runStdout(['completion', 'bash'])).stdout;
  const complete = (line: string) =>
    execFileSync(
      'bash',
      [
        '-c',
        `${script}
stewardctl() { if [[ "$1 $2 $3" == "list -o name" || "$1 $2 $3 $4" == "list sess -o name" ]]; then printf 'session/alpha\\nsession/beta\\n'; fi; }
COMP_WORDS=(${line}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); [[ "${line}" == *" " ]] && { COMP_WORDS+=(""); COMP_CWORD=\${#COMP_WORDS[@]}-1; }
_stewardctl; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean);
  expect(complete('stewardctl de')).toEqual(['describe', 'delete']);
  expect(complete('stewardctl get -o ')).toEqual(['table', 'wide', 'json', 'yaml', 'name']);
  expect(complete('stewardctl logs --f')).toEqual(['--follow']);
  expect(complete('stewardctl describe al')).toEqual(['alpha']);
  expect(complete('stewardctl describe sess/b')).toEqual(['sess/beta']);
  expect(complete('stewardctl list se')).toEqual(expect.arrayContaining(['sess', 'session', 'sessions']));
  const zsh = (await runStdout(['completion', 'zsh'])).stdout;
  expect(zsh).toMatch(/^#compdef stewardctl\n/);
});

/** Commands that write to process.stdout directly (completion). */
async function runStdout(argv: string[]): Promise<{ code: number; stdout: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let stdout = '';
  process.stdout.write = ((s: string) => {
    stdout += s;
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await main(argv, {
      context: () => {
        throw new Error('no cluster needed');
      },
    });
    return { code, stdout };
  } finally {
    process.stdout.write = write;
  }
}

test('describe shows a Session’s attempt history', async () => {
  const client = await fixture();
  const history = [
    {
      attempt: 1,
      class: 'Evicted',
      exitCode: 137,
      reason: 'Evicted',
      startTime: '2026-01-01T11:00:00Z',
      finishTime: '2026-01-01T11:01:00Z',
      message: 'the pod was disrupted',
    },
    {
      attempt: 2,
      exitCode: 0,
      reason: 'Completed',
      finishTime: '2026-01-01T11:03:00Z',
      message: 'Job b-2 completed',
    },
  ];
  await client.patchStatus(
    SESSION_GVK,
    { namespace: NS, name: 'b' },
    { type: 'merge', body: { status: { history } } },
  );
  const lines = (await run(client, 'describe', 'b')).stdout.split('\n');
  const at = lines.indexOf('History:');
  expect(lines.slice(at + 1, at + 4)).toEqual([
    expect.stringMatching(/^ {2}ATTEMPT +CLASS +EXIT CODE +REASON +STARTED +FINISHED +MESSAGE$/),
    expect.stringMatching(
      /^ {2}1 +Evicted +137 +Evicted +2026-01-01T11:00:00Z +2026-01-01T11:01:00Z +the pod was disrupted$/,
    ),
    expect.stringMatching(/^ {2}2 +0 +Completed +2026-01-01T11:03:00Z +Job b-2 completed$/),
  ]);
  expect((await run(client, 'describe', 'a')).stdout).toMatch(/^History:\n {2}<none>$/m);
});

test('logs: a multi-byte character split across network reads reaches stdout intact', async () => {
  const client = await fixture();
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: NS,
      name: 'a-1-pod',
      labels: { [LABEL_SESSION]: sessionLabelValue('a'), [LABEL_ATTEMPT]: '1' },
      annotations: { [ANNOTATION_SESSION]: 'a' },
    },
  });
  const text = 'é漢😀 done\n';
  const bytes = Buffer.from(text, 'utf8');
  for (let k = 1; k < bytes.length; k++) {
    let stdout = '';
    const ctx = (): Ctx => ({
      client,
      namespace: NS,
      out: (s) => (stdout += s),
      note: () => {},
      openLog: async () => Readable.from([bytes.subarray(0, k), bytes.subarray(k)]),
      signal: new AbortController().signal,
      now: () => NOW,
    });
    const code = await main(['logs', 'a'], { context: ctx, stderr: () => {} });
    expect([k, code, stdout]).toEqual([k, 0, text]);
  }
});
