import {
  CONTROLLER_OWNER_INDEX,
  NAMESPACE_INDEX,
  controllerOwnerIndexFunc,
  namespaceIndexFunc,
} from '../../../lib/cache/indexers.js';
import { Store, storeKeyOf } from '../../../lib/cache/store.js';
import type { KubernetesObject } from '../../../lib/client/object.js';

const obj = (
  ns: string,
  name: string,
  owner?: string,
  labels: Record<string, string> = {},
): KubernetesObject => ({
  metadata: {
    namespace: ns || undefined,
    name,
    labels,
    ownerReferences: owner
      ? [{ apiVersion: 'v1', kind: 'X', name: 'o', uid: owner, controller: true }]
      : undefined,
  },
});

describe('Store', () => {
  test('keys are namespace/name or name', () => {
    expect(storeKeyOf(obj('ns', 'a'))).toBe('ns/a');
    expect(storeKeyOf(obj('', 'a'))).toBe('a');
  });

  test('indexes follow set and delete', () => {
    const s = new Store({
      [NAMESPACE_INDEX]: namespaceIndexFunc,
      [CONTROLLER_OWNER_INDEX]: controllerOwnerIndexFunc,
    });
    s.set('a/x', obj('a', 'x', 'u1'));
    s.set('a/y', obj('a', 'y', 'u1'));
    s.set('b/z', obj('b', 'z'));
    expect(s.indexKeys(NAMESPACE_INDEX, 'a').sort()).toEqual(['a/x', 'a/y']);
    expect(s.indexKeys(CONTROLLER_OWNER_INDEX, 'u1').sort()).toEqual(['a/x', 'a/y']);
    s.set('a/x', obj('a', 'x', 'u2'));
    expect(s.indexKeys(CONTROLLER_OWNER_INDEX, 'u1')).toEqual(['a/y']);
    expect(s.indexKeys(CONTROLLER_OWNER_INDEX, 'u2')).toEqual(['a/x']);
    expect(s.delete('a/y')?.metadata?.name).toBe('y');
    expect(s.indexKeys(CONTROLLER_OWNER_INDEX, 'u1')).toEqual([]);
    expect(s.delete('a/y')).toBeUndefined();
    expect(s.size).toBe(2);
  });

  test('an indexer added later covers existing objects; names are unique', () => {
    const s = new Store();
    s.set('a/x', obj('a', 'x', undefined, { app: 'web' }));
    s.addIndexer('app', (o) => (o.metadata?.labels?.app ? [o.metadata.labels.app] : []));
    expect(s.byIndex('app', 'web').map((o) => o.metadata?.name)).toEqual(['x']);
    expect(() => s.addIndexer('app', () => [])).toThrow(/already exists/);
    expect(() => s.byIndex('nope', 'x')).toThrow(/no indexer/);
  });
});

describe('Store: index functions that return something other than string[]', () => {
  // A string is iterable: `[...new Set('default')]` would index the object under 'd', 'e',
  // 'f', … without a word. Anything but an array of strings is reported like a throw, and the
  // object is stored without values in that index.
  test.each([
    ['a string', 'default'],
    ['undefined', undefined],
    ['an array with a number', ['a', 1]],
    ['a Set', new Set(['a'])],
  ])('%s', (_what, returned) => {
    const errors: string[] = [];
    const store = new Store<KubernetesObject>(
      { bad: () => returned as unknown as string[] },
      { onIndexError: (err) => errors.push(err.message) },
    );
    store.set('ns/a', obj('ns', 'a'));
    expect(store.get('ns/a')).toBeDefined();
    expect(['d', 'default', 'a', '1'].flatMap((v) => store.indexKeys('bad', v))).toEqual([]);
    expect(errors).toEqual([
      expect.stringMatching(/^index function "bad" threw for ns\/a: .*array of strings/),
    ]);
  });
});

test('the controller-owner index skips an owner reference without a uid, rather than failing', () => {
  const errors: unknown[] = [];
  const store = new Store<KubernetesObject>(
    { [CONTROLLER_OWNER_INDEX]: controllerOwnerIndexFunc },
    { onIndexError: (err) => errors.push(err) },
  );
  const handMade = obj('ns', 'a', 'x');
  delete (handMade.metadata!.ownerReferences![0] as { uid?: string }).uid;
  store.set('ns/a', handMade);
  expect(errors).toEqual([]);
  expect(store.indexKeys(CONTROLLER_OWNER_INDEX, 'x')).toEqual([]);
});
