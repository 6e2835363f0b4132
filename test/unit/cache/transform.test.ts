import { deepFreeze } from '../../../lib/cache/transform.js';

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
