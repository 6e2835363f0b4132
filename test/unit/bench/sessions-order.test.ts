import { compareRow, ordered, runOrder, type RunSpec } from '../../../bench/sessions.js';

const specs: RunSpec[] = [
  { column: 'Steward', kind: 'steward', args: [], profileDir: '/p' },
  { column: 'peer', kind: 'peer', args: [] },
  { column: 'peer, one limiter', kind: 'peer', args: ['--shared-rate-limiter'] },
];

describe('bench sessions: the order columns run in', () => {
  test('by default the configurations alternate which operator goes first; BENCH_ORDER forces one', () => {
    expect([0, 1, 2].map((i) => runOrder(undefined, i))).toEqual([
      'steward-first',
      'peer-first',
      'steward-first',
    ]);
    expect(runOrder('peer-first', 0)).toBe('peer-first');
    expect(runOrder('aba', 1)).toBe('aba');
    expect(() => runOrder('random', 0)).toThrow(RangeError);
  });

  test('peer-first runs the peers, then Steward; aba runs Steward again last, without a second profile', () => {
    expect(ordered(specs, 'steward-first').map((s) => s.column)).toEqual([
      'Steward',
      'peer',
      'peer, one limiter',
    ]);
    expect(ordered(specs, 'peer-first').map((s) => s.column)).toEqual([
      'peer',
      'peer, one limiter',
      'Steward',
    ]);
    const aba = ordered(specs, 'aba');
    expect(aba.map((s) => [s.column, s.kind])).toEqual([
      ['Steward', 'steward'],
      ['peer', 'peer'],
      ['peer, one limiter', 'peer'],
      ['Steward, again', 'steward'],
    ]);
    expect(aba[3]!.profileDir).toBeUndefined();
  });

  test("a row compares Steward's column (the mean of two in an A-B-A run) with the best peer", () => {
    expect(compareRow('t', '', [90, 100, 80], 'higher').ratio).toBeCloseTo(0.9);
    expect(compareRow('c', '', [3, 2, 4], 'lower').ratio).toBeCloseTo(1.5);
    // Peer last (peer-first order): Steward's column is named by index.
    expect(compareRow('c', '', [2, 4, 3], 'lower', undefined, [2]).ratio).toBeCloseTo(1.5);
    const row = compareRow(
      't',
      '',
      [80, 100, 90, 120],
      'higher',
      { text: '≥ 1', test: (r) => r >= 1 },
      [0, 3],
    );
    expect(row.ratio).toBeCloseTo(1.0);
    expect(row.goal?.met).toBe(true);
    // A baseline build's column is shown, neither Steward's nor a peer's.
    expect(compareRow('t', '', [90, 200, 100], 'higher', undefined, [0], [1]).ratio).toBeCloseTo(0.9);
  });
});
