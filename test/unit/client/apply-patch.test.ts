import { JsonPatchError, applyJsonPatch, applyMergePatch } from '../../../lib/client/apply-patch.js';

describe('applyMergePatch', () => {
  test('merges objects, null deletes, arrays replace', () => {
    const target = { a: 1, b: { c: 2, d: 3 }, e: [1, 2] };
    expect(applyMergePatch(target, { b: { c: null, x: 1 }, e: [3], f: 'new' })).toEqual({
      a: 1,
      b: { d: 3, x: 1 },
      e: [3],
      f: 'new',
    });
    expect(target).toEqual({ a: 1, b: { c: 2, d: 3 }, e: [1, 2] });
  });
});

describe('applyJsonPatch', () => {
  test('add, remove, replace, move, copy, test', () => {
    const doc = { a: { b: [1, 2] }, c: 'x' };
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/a/b/-', value: 3 },
      { op: 'add', path: '/a/b/0', value: 0 },
      { op: 'remove', path: '/a/b/1' },
      { op: 'replace', path: '/c', value: 'y' },
      { op: 'copy', from: '/c', path: '/d' },
      { op: 'move', from: '/d', path: '/e~1f' },
      { op: 'test', path: '/c', value: 'y' },
    ]);
    expect(out).toEqual({ a: { b: [0, 2, 3] }, c: 'y', 'e/f': 'y' });
    expect(doc).toEqual({ a: { b: [1, 2] }, c: 'x' });
  });

  test('failures throw JsonPatchError', () => {
    expect(() => applyJsonPatch({}, [{ op: 'remove', path: '/missing' }])).toThrow(JsonPatchError);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(JsonPatchError);
    expect(() => applyJsonPatch({ a: [] }, [{ op: 'add', path: '/a/5', value: 2 }])).toThrow(JsonPatchError);
  });
});
