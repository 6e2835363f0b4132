import { buildGraph, decide, type Graph, type TaskPhase } from '../../../controllers/workflow/index.js';

function graph(tasks: Array<[string, string[]?]>): Graph {
  const built = buildGraph(tasks.map(([name, dependsOn]) => ({ name, dependsOn })));
  if ('problem' in built) throw new Error(built.problem);
  return built.graph;
}

const problem = (tasks: Array<[string, string[]?]>) => {
  const built = buildGraph(tasks.map(([name, dependsOn]) => ({ name, dependsOn })));
  return 'problem' in built ? built.problem : undefined;
};

const DIAMOND = graph([['a'], ['b', ['a']], ['c', ['a']], ['d', ['b', 'c']]]);
const phasesOf = (g: Graph, m: Record<string, TaskPhase>): TaskPhase[] =>
  g.names.map((n) => m[n] ?? 'Pending');
const named = (g: Graph, idx: number[]) => idx.map((i) => g.names[i]);

describe('buildGraph', () => {
  test('a diamond: edges both ways, a topological order, levels', () => {
    expect(DIAMOND.deps).toEqual([[], [0], [0], [1, 2]]);
    expect(DIAMOND.dependents).toEqual([[1, 2], [3], [3], []]);
    expect(named(DIAMOND, [...DIAMOND.order])).toEqual(['a', 'b', 'c', 'd']);
    expect(DIAMOND.level).toEqual([0, 1, 1, 2]);
  });

  test('the level is the longest path, and the order holds when tasks are listed out of order', () => {
    const g = graph([['d', ['c', 'a']], ['c', ['b']], ['b', ['a']], ['a']]);
    expect(named(g, [...g.order])).toEqual(['a', 'b', 'c', 'd']);
    expect(g.level).toEqual([3, 2, 1, 0]);
  });

  test('a dependency listed twice counts once', () => {
    expect(graph([['a'], ['b', ['a', 'a']]]).deps).toEqual([[], [0]]);
  });

  test('bad graphs, each with a message that names the tasks', () => {
    expect(problem([['a'], ['a']])).toBe('task name a is used twice (tasks[0] and tasks[1])');
    expect(problem([['a', ['x']]])).toBe('task a depends on x, which is not a task of this Workflow');
    expect(problem([['a', ['a']]])).toBe('task a depends on itself');
  });

  test('cycles are spelled out along their edges', () => {
    expect(
      problem([
        ['a', ['b']],
        ['b', ['a']],
      ]),
    ).toBe('dependency cycle: a → b → a');
    expect(
      problem([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
      ]),
    ).toBe('dependency cycle: a → b → c → a');
    // A cycle below a task that is not on it: only the cycle is named.
    expect(
      problem([
        ['x', ['a']],
        ['a', ['b']],
        ['b', ['a']],
      ]),
    ).toBe('dependency cycle: a → b → a');
    expect(problem([['r'], ['p', ['r', 'q']], ['q', ['p']]])).toBe('dependency cycle: p → q → p');
  });

  test('a chain of 1,000 tasks and a 1,000-task cycle: no stack overflow', () => {
    const chain = Array.from({ length: 1000 }, (_, i): [string, string[]] => [
      `t${i}`,
      i ? [`t${i - 1}`] : [],
    ]);
    expect(graph(chain).level[999]).toBe(999);
    const ring = chain.map(([n], i): [string, string[]] => [n, [`t${(i + 999) % 1000}`]]);
    expect(problem(ring)).toMatch(/^dependency cycle: t0 → t999 → t998 → .* → t1 → t0$/);
  });
});

describe('decide', () => {
  const run = (g: Graph, m: Record<string, TaskPhase>, opts: Partial<Parameters<typeof decide>[0]> = {}) =>
    decide({ graph: g, phases: phasesOf(g, m), onFailure: 'Stop', cancel: false, ...opts });

  test('the diamond, step by step: a task starts only once every dependency Succeeded', () => {
    let d = run(DIAMOND, {});
    expect(named(DIAMOND, d.start)).toEqual(['a']);
    expect(d.phase).toBe('Running');
    expect(run(DIAMOND, { a: 'Running' }).start).toEqual([]);
    d = run(DIAMOND, { a: 'Succeeded' });
    expect(named(DIAMOND, d.start)).toEqual(['b', 'c']);
    expect(run(DIAMOND, { a: 'Succeeded', b: 'Succeeded', c: 'Running' }).start).toEqual([]);
    d = run(DIAMOND, { a: 'Succeeded', b: 'Succeeded', c: 'Succeeded' });
    expect(named(DIAMOND, d.start)).toEqual(['d']);
    expect(d.finished).toBe(3);
    d = run(DIAMOND, { a: 'Succeeded', b: 'Succeeded', c: 'Succeeded', d: 'Succeeded' });
    expect([d.phase, d.start, d.finished]).toEqual(['Succeeded', [], 4]);
  });

  test('parallelism: never more than that many Running, the first ready tasks in spec order first', () => {
    const g = graph([['a'], ['b'], ['c'], ['d'], ['e']]);
    expect(named(g, run(g, {}, { parallelism: 2 }).start)).toEqual(['a', 'b']);
    expect(named(g, run(g, { a: 'Running', b: 'Running' }, { parallelism: 2 }).start)).toEqual([]);
    expect(named(g, run(g, { a: 'Succeeded', b: 'Running' }, { parallelism: 2 }).start)).toEqual(['c']);
    // More running than allowed (the spec cannot change, but a stale view could): start none.
    expect(run(g, { a: 'Running', b: 'Running', c: 'Running' }, { parallelism: 2 }).start).toEqual([]);
    expect(named(g, run(g, {}).start)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  test('Stop: after a failure nothing starts, unstarted tasks are Skipped, running ones finish', () => {
    const g = graph([['a'], ['b'], ['c', ['a']], ['d']]);
    const d = run(g, { a: 'Failed', b: 'Running' }, { parallelism: 2 });
    expect(d.start).toEqual([]);
    expect(d.skip.map((s) => [g.names[s.task], s.reason, g.names[s.cause]])).toEqual([
      ['c', 'UpstreamFailed', 'a'],
      ['d', 'Stopped', 'a'],
    ]);
    expect(d.cancelRunning).toEqual([]);
    expect([d.phase, d.phases]).toEqual(['Running', ['Failed', 'Running', 'Skipped', 'Skipped']]);
    const end = run(g, { a: 'Failed', b: 'Succeeded', c: 'Skipped', d: 'Skipped' });
    expect([end.phase, end.skip, end.start]).toEqual(['Failed', [], []]);
  });

  test('Continue: only descendants of the failed task are Skipped, the rest goes on', () => {
    const g = graph([['a'], ['b', ['a']], ['c', ['b']], ['x'], ['y', ['x']], ['z', ['c', 'y']]]);
    const d = run(g, { a: 'Failed', x: 'Succeeded' }, { onFailure: 'Continue' });
    expect(d.skip.map((s) => [g.names[s.task], s.reason, g.names[s.cause]])).toEqual([
      ['b', 'UpstreamFailed', 'a'],
      ['c', 'UpstreamFailed', 'a'],
      ['z', 'UpstreamFailed', 'a'],
    ]);
    expect(named(g, d.start)).toEqual(['y']);
    expect(d.phase).toBe('Running');
    const end = run(
      g,
      { a: 'Failed', b: 'Skipped', c: 'Skipped', x: 'Succeeded', y: 'Succeeded', z: 'Skipped' },
      {
        onFailure: 'Continue',
      },
    );
    expect(end.phase).toBe('Failed');
  });

  test('a task cancelled on its own counts as a failure for the tasks below it', () => {
    const d = run(DIAMOND, { a: 'Cancelled' }, { onFailure: 'Continue' });
    expect(d.skip.map((s) => DIAMOND.names[s.task])).toEqual(['b', 'c', 'd']);
    expect(d.phase).toBe('Failed');
  });

  test('cancel: unstarted tasks Cancelled, running ones to be cancelled, Cancelled once all ended', () => {
    const d = run(DIAMOND, { a: 'Succeeded', b: 'Running' }, { cancel: true });
    expect(d.start).toEqual([]);
    expect(named(DIAMOND, d.cancel)).toEqual(['c', 'd']);
    expect(named(DIAMOND, d.cancelRunning)).toEqual(['b']);
    expect(d.phase).toBe('Running');
    const end = run(
      DIAMOND,
      { a: 'Succeeded', b: 'Cancelled', c: 'Cancelled', d: 'Cancelled' },
      { cancel: true },
    );
    expect([end.phase, end.cancel, end.cancelRunning]).toEqual(['Cancelled', [], []]);
    // A task that finished while its cancel was on the way keeps its phase.
    const raced = run(
      DIAMOND,
      { a: 'Succeeded', b: 'Succeeded', c: 'Cancelled', d: 'Cancelled' },
      { cancel: true },
    );
    expect([raced.phase, raced.phases[1]]).toEqual(['Cancelled', 'Succeeded']);
  });

  test('terminal phases are kept as given', () => {
    const d = run(DIAMOND, { a: 'Succeeded', b: 'Skipped', c: 'Failed', d: 'Cancelled' });
    expect(d.phases).toEqual(['Succeeded', 'Skipped', 'Failed', 'Cancelled']);
    expect([d.phase, d.start, d.skip, d.cancel]).toEqual(['Failed', [], [], []]);
  });

  test('1,000 tasks in 10 layers of 100: the next layer starts as its two parents succeed', () => {
    const tasks: Array<[string, string[]]> = [];
    for (let l = 0; l < 10; l++) {
      for (let i = 0; i < 100; i++) {
        tasks.push([`l${l}-${i}`, l === 0 ? [] : [`l${l - 1}-${i}`, `l${l - 1}-${(i + 1) % 100}`]]);
      }
    }
    const g = graph(tasks);
    expect(Math.max(...g.level)).toBe(9);
    const phases = g.names.map((_, i): TaskPhase =>
      i < 500 ? 'Succeeded' : i === 500 ? 'Failed' : 'Pending',
    );
    const d = decide({ graph: g, phases, onFailure: 'Continue', cancel: false });
    // l5-0 failed: the rest of layer 5 starts; l6-0 and l6-99 depend on l5-0 and are skipped,
    // and below them a cone one task wider per layer (l7-i waits for l6-i and l6-i+1).
    expect(named(g, d.start)).toEqual(Array.from({ length: 99 }, (_, i) => `l5-${i + 1}`));
    expect(
      named(
        g,
        d.skip.slice(0, 2).map((s) => s.task),
      ),
    ).toEqual(['l6-0', 'l6-99']);
    expect(d.skip).toHaveLength(2 + 3 + 4 + 5);
    expect(d.skip.every((s) => s.cause === 500 && s.reason === 'UpstreamFailed')).toBe(true);
  });
});
