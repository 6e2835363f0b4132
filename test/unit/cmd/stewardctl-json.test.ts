// stewardctl prints objects however deep the API server stores them (up to 10,000 levels),
// deeper than V8's JSON.stringify and js-yaml can go.
import { SESSION_GVK, type Session } from '../../../controllers/session/index.js';
import { iterativeJson, prettyJson } from '../../../cmd/stewardctl/json.js';
import type { Ctx } from '../../../cmd/stewardctl/context.js';
import { main } from '../../../cmd/stewardctl/main.js';
import { FakeClient } from '../../../lib/testing/index.js';

/** `{"a": {"a": … "leaf" …}}`, `depth` levels, built without recursion. */
function nested(depth: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let at = root;
  for (let i = 1; i < depth; i++) {
    const next: Record<string, unknown> = {};
    at.a = next;
    at = next;
  }
  at.a = 'leaf';
  return root;
}

function depthOf(v: unknown): number {
  let d = 0;
  for (let at = v; at !== null && typeof at === 'object'; at = (at as { a?: unknown }).a) d++;
  return d;
}

test('the same text as JSON.stringify(v, null, 2) for what JSON.stringify accepts', () => {
  const values: unknown[] = [
    null,
    0,
    -1.5,
    'x"\n\u2028é',
    true,
    [],
    {},
    [1, 'two', null, undefined, () => 1, { a: [] }],
    { a: undefined, b: () => 1, c: NaN, d: Infinity, e: new Date(0), f: { g: [{}, []] }, 'h"i': 1 },
    { toJSON: () => ({ replaced: true }) },
    nested(50),
  ];
  for (const v of values) expect(iterativeJson(v)).toBe(JSON.stringify(v, null, 2));
});

test('an object 5,000 levels deep: printed, and parsed back the same', () => {
  const deep = nested(5_000);
  expect(() => JSON.stringify(deep, null, 2)).toThrow(RangeError);
  const text = prettyJson(deep);
  expect(depthOf(JSON.parse(text))).toBe(5_000);
});

describe('stewardctl get of a Session nested 5,000 levels deep', () => {
  let client: FakeClient;
  beforeAll(async () => {
    client = new FakeClient({ kinds: [{ gvk: SESSION_GVK, resource: 'sessions', namespaced: true }] });
    await client.create<Session>({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: { namespace: 'ns', name: 'deep' },
      spec: { template: { image: 'busybox:1.36' }, input: nested(5_000) },
    });
  });
  async function run(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const ctx = (): Ctx => ({
      client,
      namespace: 'ns',
      out: (s) => (stdout += s),
      note: (s) => (stderr += s),
      openLog: () => Promise.reject(new Error('no logs here')),
      signal: new AbortController().signal,
      now: () => 0,
    });
    const code = await main(argv, { context: ctx, stderr: (s) => (stderr += s) });
    return { code, stdout, stderr };
  }

  test.each(['json', 'yaml'])('-o %s prints all of it (YAML as its JSON, which is YAML too)', async (fmt) => {
    const r = await run('get', 'deep', '-o', fmt);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const obj = JSON.parse(r.stdout) as Session;
    expect(obj.metadata?.name).toBe('deep');
    expect(depthOf(obj.spec?.input)).toBe(5_000);
  });
});
