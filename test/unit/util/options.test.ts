import { checkNumber } from '../../../lib/util/options.js';

describe('checkNumber', () => {
  test('passes good values and undefined through', () => {
    expect(checkNumber('X', 'a', 0)).toBe(0);
    expect(checkNumber('X', 'a', undefined)).toBeUndefined();
    expect(checkNumber('X', 'a', Infinity, { infinite: true })).toBe(Infinity);
    expect(checkNumber('X', 'a', 3, { integer: true, min: 1 })).toBe(3);
  });

  test.each([
    [-1, {}, 'X: a must be a finite number >= 0, got -1'],
    [NaN, {}, 'X: a must be a finite number >= 0, got NaN'],
    [Infinity, {}, 'X: a must be a finite number >= 0, got Infinity'],
    [0, { exclusive: true }, 'X: a must be a finite number > 0, got 0'],
    [1.5, { integer: true, min: 1 }, 'X: a must be an integer >= 1, got 1.5'],
    [2, { max: 1 }, 'X: a must be a finite number >= 0 and <= 1, got 2'],
    ['5' as unknown as number, {}, 'X: a must be a finite number >= 0, got "5"'],
    // JSON.stringify throws on a BigInt: the message must not.
    [5n as unknown as number, {}, 'X: a must be a finite number >= 0, got 5n'],
    [{ ms: 5 } as unknown as number, {}, 'X: a must be a finite number >= 0, got { ms: 5 }'],
  ])('%p with %p is a RangeError naming the option', (value, rule, message) => {
    expect(() => checkNumber('X', 'a', value, rule)).toThrow(new RangeError(message));
  });
});
