import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deepFreeze, dropManagedFields, withoutKeys } from '../../../lib/cache/transform.js';
import type { KubernetesObject } from '../../../lib/client/object.js';

describe('deepFreeze', () => {
  test('freezes everything reachable, arrays included', () => {
    const obj = deepFreeze({ a: { b: [1, { c: 2 }] }, d: null, e: undefined });
    expect(Object.isFrozen(obj)).toBe(true);
    expect(Object.isFrozen(obj.a)).toBe(true);
    expect(Object.isFrozen(obj.a.b)).toBe(true);
    expect(Object.isFrozen(obj.a.b[1])).toBe(true);
    expect(() => {
      (obj.a.b[1] as { c: number }).c = 3;
    }).toThrow(TypeError);
  });

  test('an object nested 10,000 levels deep (the API server stores such) does not overflow the stack', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 10_000; i++) {
      const next = {};
      deep.x = next;
      deep = next;
    }
    expect(() => deepFreeze(root)).not.toThrow();
    expect(Object.isFrozen(deep)).toBe(true);
  });
});

describe('dropManagedFields and withoutKeys', () => {
  const decoded = () =>
    JSON.parse(
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'j', namespace: 'ns', uid: 'u', labels: { a: 'b' }, managedFields: [{}] },
        spec: { template: {} },
        status: { succeeded: 1 },
      }),
    ) as KubernetesObject & { spec?: unknown; status?: unknown };

  test('drop what they name and keep the rest, in order; leave an object without them as it is', () => {
    const job = dropManagedFields(decoded());
    expect(Object.keys(job.metadata!)).toEqual(['name', 'namespace', 'uid', 'labels']);
    const trimmed = withoutKeys(job, ['spec']);
    expect(Object.keys(trimmed)).toEqual(['apiVersion', 'kind', 'metadata', 'status']);
    expect(trimmed.metadata).toBe(job.metadata);
    expect(withoutKeys(trimmed, ['spec'])).toBe(trimmed);
    const bare = { metadata: { name: 'x' } };
    expect(dropManagedFields(bare).metadata).toBe(bare.metadata);
  });

  // A deleted property puts a V8 object in dictionary mode (a hash table): in a cache of thousands
  // of Jobs that was megabytes of heap. V8 tells only with --allow-natives-syntax, so a child asks.
  test('the objects they return keep V8 fast properties, which `delete` would lose', () => {
    const module = join(import.meta.dirname, '..', '..', '..', 'lib', 'cache', 'transform.ts');
    const script = `
      import { dropManagedFields, withoutKeys } from ${JSON.stringify(pathToFileURL(module).href)};
      const decoded = () => JSON.parse(JSON.stringify({ kind: 'Job', metadata: { name: 'j', uid: 'u', managedFields: [{}] }, spec: {}, status: {} }));
      const d = decoded();
      delete d.metadata.managedFields;
      const job = dropManagedFields(decoded());
      const trimmed = withoutKeys(job, ['spec']);
      console.log(JSON.stringify([%HasFastProperties(d.metadata), %HasFastProperties(job.metadata), %HasFastProperties(trimmed)]));`;
    const out = execFileSync(
      process.execPath,
      ['--allow-natives-syntax', '--no-warnings', '--input-type=module', '-e', script],
      { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    // The first is the control: `delete` does lose them on this V8.
    expect(JSON.parse(out.trim())).toEqual([false, true, true]);
  });
});
