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

describe('applyMergePatch (RFC 7386)', () => {
  test('objects merge key by key, null removes, arrays and scalars replace; inputs are not changed', () => {
    const target = { a: 1, b: { c: 2, d: 3 }, e: [1, 2], f: 'x' };
    const patch = { a: null, b: { c: null, g: 4 }, e: [3], f: 'y', h: { i: null, j: 5 } };
    expect(applyMergePatch(target, patch)).toEqual({ b: { d: 3, g: 4 }, e: [3], f: 'y', h: { j: 5 } });
    expect(target).toEqual({ a: 1, b: { c: 2, d: 3 }, e: [1, 2], f: 'x' });
    expect(patch.h).toEqual({ i: null, j: 5 });
  });

  test('array values are copied whole, nulls and all, sharing nothing with the patch; a Date stays a Date', () => {
    const when = new Date(0);
    const patch = { conditions: [{ type: 'Ready', reason: null, at: when }, [1, null]] };
    const out = applyMergePatch({ conditions: [] }, patch) as typeof patch;
    expect(out).toEqual({ conditions: [{ type: 'Ready', reason: null, at: when }, [1, null]] });
    expect(out.conditions).not.toBe(patch.conditions);
    expect(out.conditions[0]).not.toBe(patch.conditions[0]);
    expect(out.conditions[1]).not.toBe(patch.conditions[1]);
    // (structuredClone makes the copy in Node's realm, not jest's: no toBeInstanceOf here.)
    const at = (out.conditions[0] as { at: Date }).at;
    expect([Object.prototype.toString.call(at), at.getTime(), at === when]).toEqual([
      '[object Date]',
      0,
      false,
    ]);
  });

  test('a patch that is not an object replaces the target; a target that is not one becomes {}', () => {
    expect(applyMergePatch({ a: 1 }, [1])).toEqual([1]);
    expect(applyMergePatch({ a: 1 }, 'x')).toBe('x');
    expect(applyMergePatch([1], { a: 1 })).toEqual({ a: 1 });
    expect(applyMergePatch(undefined, { a: null, b: 1 })).toEqual({ b: 1 });
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
