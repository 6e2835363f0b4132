import {
  type Condition,
  findCondition,
  isConditionFalse,
  isConditionTrue,
  removeCondition,
  setCondition,
} from '../../../lib/util/conditions.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const T1 = T0 + 60_000;
const ready = (
  status: Condition['status'],
  reason = 'Reason',
  message = '',
  observedGeneration?: number,
) => ({
  type: 'Ready',
  status,
  reason,
  message,
  ...(observedGeneration === undefined ? {} : { observedGeneration }),
});

describe('setCondition', () => {
  test('a new type is appended with lastTransitionTime = now (RFC 3339 seconds)', () => {
    const out = setCondition(undefined, ready('False', 'Starting', 'waiting', 1), T0 + 123);
    expect(out).toEqual([
      { ...ready('False', 'Starting', 'waiting', 1), lastTransitionTime: '2026-01-01T12:00:00Z' },
    ]);
  });

  test('lastTransitionTime changes only when the status does', () => {
    const a = setCondition([], ready('False', 'Starting'), T0);
    const b = setCondition(a, ready('False', 'StillStarting', 'slow', 2), T1);
    expect(b[0]).toEqual({
      ...ready('False', 'StillStarting', 'slow', 2),
      lastTransitionTime: '2026-01-01T12:00:00Z',
    });
    const c = setCondition(b, ready('True', 'Up', '', 2), T1);
    expect(c[0]!.lastTransitionTime).toBe('2026-01-01T12:01:00Z');
    expect(c[0]!.status).toBe('True');
  });

  test('an explicit lastTransitionTime is used on a transition, ignored otherwise', () => {
    const a = setCondition([], { ...ready('True'), lastTransitionTime: '2025-05-05T05:05:05Z' }, T0);
    expect(a[0]!.lastTransitionTime).toBe('2025-05-05T05:05:05Z');
    const b = setCondition(a, { ...ready('True', 'Other'), lastTransitionTime: '2030-01-01T00:00:00Z' }, T1);
    expect(b[0]!.lastTransitionTime).toBe('2025-05-05T05:05:05Z');
  });

  test('now may be an RFC 3339 string', () => {
    expect(setCondition([], ready('True'), '2026-02-02T02:02:02Z')[0]!.lastTransitionTime).toBe(
      '2026-02-02T02:02:02Z',
    );
  });

  test('observedGeneration follows the input, and is dropped when the input has none', () => {
    const a = setCondition([], ready('True', 'R', '', 3), T0);
    expect(a[0]!.observedGeneration).toBe(3);
    const b = setCondition(a, ready('True', 'R', ''), T1);
    expect(b[0]).not.toHaveProperty('observedGeneration');
  });

  test('returns the same array when nothing changed, and never mutates its input', () => {
    const a = setCondition([], ready('True', 'R', 'm', 1), T0);
    const frozen = Object.freeze(a.map((c) => Object.freeze({ ...c })));
    expect(setCondition(frozen, ready('True', 'R', 'm', 1), T1)).toBe(frozen);
    const changed = setCondition(frozen, ready('True', 'R', 'new', 1), T1);
    expect(changed).not.toBe(frozen);
    expect(frozen[0]!.message).toBe('m');
  });

  test('other types keep their place and content', () => {
    let cs = setCondition([], { type: 'A', status: 'True', reason: 'R', message: '' }, T0);
    cs = setCondition(cs, { type: 'B', status: 'False', reason: 'R', message: '' }, T0);
    cs = setCondition(cs, { type: 'C', status: 'Unknown', reason: 'R', message: '' }, T0);
    const next = setCondition(cs, { type: 'B', status: 'True', reason: 'Now', message: '' }, T1);
    expect(next.map((c) => c.type)).toEqual(['A', 'B', 'C']);
    expect(next[0]).toBe(cs[0]);
    expect(next[2]).toBe(cs[2]);
  });
});

describe('findCondition, isConditionTrue/False, removeCondition', () => {
  const cs = setCondition(
    setCondition([], ready('True'), T0),
    { type: 'Done', status: 'False', reason: 'R', message: '' },
    T0,
  );
  test('find', () => {
    expect(findCondition(cs, 'Ready')?.status).toBe('True');
    expect(findCondition(cs, 'Missing')).toBeUndefined();
    expect(findCondition(undefined, 'Ready')).toBeUndefined();
  });
  test('true / false / absent', () => {
    expect(isConditionTrue(cs, 'Ready')).toBe(true);
    expect(isConditionFalse(cs, 'Ready')).toBe(false);
    expect(isConditionFalse(cs, 'Done')).toBe(true);
    expect(isConditionTrue(cs, 'Missing')).toBe(false);
    expect(isConditionFalse(cs, 'Missing')).toBe(false);
  });
  test('remove', () => {
    expect(removeCondition(cs, 'Ready').map((c) => c.type)).toEqual(['Done']);
    expect(removeCondition(cs, 'Missing')).toBe(cs);
    expect(removeCondition(undefined, 'Ready')).toEqual([]);
  });
});
