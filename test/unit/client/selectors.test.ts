import { fieldMatcher, formatLabelSelector, labelMatcher } from '../../../lib/client/selectors.js';

describe('label selectors', () => {
  test('format every input form', () => {
    expect(formatLabelSelector(undefined)).toBe('');
    expect(formatLabelSelector('a=b')).toBe('a=b');
    expect(formatLabelSelector({ app: 'web', tier: 'db' })).toBe('app=web,tier=db');
    expect(
      formatLabelSelector({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['a', 'b'] },
          { key: 'x', operator: 'NotIn', values: ['c'] },
          { key: 'y', operator: 'Exists' },
          { key: 'z', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,env in (a,b),x notin (c),y,!z');
  });

  test.each([
    ['', {}, true],
    ['app=web', { app: 'web' }, true],
    ['app==web', { app: 'web' }, true],
    ['app=web', { app: 'db' }, false],
    ['app!=web', {}, true],
    ['app!=web', { app: 'web' }, false],
    ['env in (a, b)', { env: 'b' }, true],
    ['env in (a,b)', {}, false],
    ['env notin (a,b)', {}, true],
    ['env notin (a,b)', { env: 'a' }, false],
    ['app', { app: '' }, true],
    ['!app', { app: 'x' }, false],
    ['app=web,env in (a,b),!legacy', { app: 'web', env: 'a' }, true],
  ])('%j matches %j: %s', (sel, labels, want) => {
    expect(labelMatcher(sel)(labels as Record<string, string>)).toBe(want);
  });

  test('malformed selectors are rejected', () => {
    expect(() => labelMatcher('a in b')).toThrow(TypeError);
  });
});

describe('field selectors', () => {
  const obj = { metadata: { name: 'n', namespace: 'ns' }, status: { phase: 'Running' } };
  test('equality and inequality on dotted paths; missing fields are empty', () => {
    expect(fieldMatcher('metadata.name=n')(obj)).toBe(true);
    expect(fieldMatcher({ 'status.phase': 'Running', 'metadata.namespace': 'ns' })(obj)).toBe(true);
    expect(fieldMatcher('status.phase!=Running')(obj)).toBe(false);
    expect(fieldMatcher('spec.nodeName=')(obj)).toBe(true);
  });

  test('set operators are rejected', () => {
    expect(() => fieldMatcher('a in (b)')).toThrow(TypeError);
  });
});
