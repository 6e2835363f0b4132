import fc from 'fast-check';
import {
  buildGraph,
  decide,
  type Graph,
  type OnFailure,
  type TaskPhase,
} from '../../../controllers/workflow/index.js';

/**
 * Random DAGs and random task outcomes, played to the end against `decide`: a task never starts
 * before all its dependencies Succeeded; never more than `parallelism` Running; with Stop
 * nothing starts after a failure; with Continue, Skipped ⇔ some ancestor failed; terminal task
 * phases never change and neither does a terminal Workflow; every task ends terminal.
 */

type Outcome = 'Succeeded' | 'Failed' | 'Cancelled';

interface Scenario {
  n: number;
  /** Spec position of the task at each topological rank, so spec order ≠ dependency order. */
  perm: number[];
  /** edges[b][a]: rank b depends on rank a (a < b). */
  edges: boolean[][];
  outcomes: Array<{ outcome: Outcome; steps: number }>;
  parallelism: number | undefined;
  onFailure: OnFailure;
  cancelAt: number | undefined;
}

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 24 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    perm: fc.shuffledSubarray(
      Array.from({ length: n }, (_, i) => i),
      { minLength: n, maxLength: n },
    ),
    edges: fc.array(
      fc.array(
        fc.integer({ min: 0, max: 9 }).map((x) => x < 3),
        { minLength: n, maxLength: n },
      ),
      {
        minLength: n,
        maxLength: n,
      },
    ),
    outcomes: fc.array(
      fc.record({
        outcome: fc.constantFrom<Outcome>('Succeeded', 'Succeeded', 'Succeeded', 'Failed', 'Cancelled'),
        steps: fc.integer({ min: 0, max: 4 }),
      }),
      { minLength: n, maxLength: n },
    ),
    parallelism: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    onFailure: fc.constantFrom<OnFailure>('Stop', 'Continue'),
    cancelAt: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  }),
);

function graphOf(s: Scenario): Graph {
  // Task at spec position perm[rank]; it depends on the tasks of lower ranks its edges pick.
  const tasks = Array.from({ length: s.n }, () => ({ name: '', dependsOn: [] as string[] }));
  for (let b = 0; b < s.n; b++) {
    const t = tasks[s.perm[b]!]!;
    t.name = `t${s.perm[b]}`;
    for (let a = 0; a < b; a++) if (s.edges[b]![a]) t.dependsOn.push(`t${s.perm[a]}`);
  }
  const built = buildGraph(tasks);
  if ('problem' in built) throw new Error(built.problem);
  return built.graph;
}

function ancestors(g: Graph, i: number): Set<number> {
  const out = new Set<number>();
  const stack = [...g.deps[i]!];
  while (stack.length > 0) {
    const d = stack.pop()!;
    if (out.has(d)) continue;
    out.add(d);
    stack.push(...g.deps[d]!);
  }
  return out;
}

const terminal = (p: TaskPhase) => p !== 'Pending' && p !== 'Running';

test('random DAGs, random outcomes: the scheduling invariants hold and every run ends', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const g = graphOf(s);
      const n = s.n;
      let phases: TaskPhase[] = Array.from({ length: n }, () => 'Pending');
      const left = s.outcomes.map((o) => o.steps);
      const started = new Array<boolean>(n).fill(false);
      const cancelRequested = new Array<boolean>(n).fill(false);
      let cancel = false;
      let ended: string | undefined;
      for (let step = 0; step < 10 * n + 40 && ended === undefined; step++) {
        if (s.cancelAt === step) cancel = true;
        const before = phases;
        const d = decide({ graph: g, phases, onFailure: s.onFailure, parallelism: s.parallelism, cancel });
        const anyFailed = before.some((p) => p === 'Failed' || p === 'Cancelled');
        for (const i of d.start) {
          expect(before[i]).toBe('Pending');
          expect(g.deps[i]!.every((dep) => before[dep] === 'Succeeded')).toBe(true);
          expect(cancel).toBe(false);
          if (s.onFailure === 'Stop') expect(anyFailed).toBe(false);
          started[i] = true;
        }
        for (let i = 0; i < n; i++) if (terminal(before[i]!)) expect(d.phases[i]).toBe(before[i]);
        const running = d.phases.filter((p) => p === 'Running').length;
        if (s.parallelism !== undefined) expect(running).toBeLessThanOrEqual(s.parallelism);
        for (const i of d.cancelRunning) cancelRequested[i] = true;
        if (d.phase !== 'Running') {
          expect(d.phases.every(terminal)).toBe(true);
          // A terminal Workflow decides the same again.
          const again = decide({
            graph: g,
            phases: d.phases,
            onFailure: s.onFailure,
            parallelism: s.parallelism,
            cancel,
          });
          expect([again.phase, again.phases, again.start]).toEqual([d.phase, d.phases, []]);
          ended = d.phase;
          phases = d.phases;
          break;
        }
        // The world: a running task ends after its steps, or when its cancel arrives.
        phases = d.phases.map((p, i) => {
          if (p !== 'Running') return p;
          if (cancelRequested[i]) return 'Cancelled';
          if (left[i]! > 0) {
            left[i]!--;
            return p;
          }
          return s.outcomes[i]!.outcome;
        });
      }
      expect(ended).toBeDefined();
      expect(phases.every(terminal)).toBe(true);
      for (let i = 0; i < n; i++) {
        // Started tasks never end Skipped; unstarted ones never end Succeeded or Failed.
        if (started[i]) expect(phases[i]).not.toBe('Skipped');
        else expect(['Skipped', 'Cancelled']).toContain(phases[i]);
      }
      if (s.cancelAt === undefined || ended !== 'Cancelled') {
        const failedTask = (i: number) => phases[i] === 'Failed' || phases[i] === 'Cancelled';
        if (s.onFailure === 'Continue') {
          for (let i = 0; i < n; i++) {
            const someAncestorFailed = [...ancestors(g, i)].some(failedTask);
            expect([g.names[i], phases[i] === 'Skipped']).toEqual([g.names[i], someAncestorFailed]);
          }
        }
        const allOk = phases.every((p) => p === 'Succeeded');
        expect(ended).toBe(allOk ? 'Succeeded' : 'Failed');
        if (s.onFailure === 'Stop' && !phases.some((_, i) => failedTask(i))) expect(allOk).toBe(true);
      } else {
        expect(phases.every((p) => p !== 'Pending' && p !== 'Running')).toBe(true);
      }
    }),
    { numRuns: 1_000 },
  );
});
