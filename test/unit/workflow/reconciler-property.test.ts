import fc from 'fast-check';
import { isTerminal, type Session, SESSION_GVK } from '../../../controllers/session/index.js';
import {
  isWorkflowTerminal,
  type OnFailure,
  taskSessionName,
  type WorkflowReconciler,
} from '../../../controllers/workflow/index.js';
import { Harness, RUN } from './harness.js';

/**
 * The reconciler on the fake API, over random DAGs, random Session outcomes, random restarts
 * (a fresh reconciler with no memory), lost status writes and Session creates refused (a
 * quota): every reconcile that writes leaves a status; a Session is created only once
 * every dependency's Session Succeeded; never more than `parallelism` unfinished Sessions; one
 * Session per task ever (same uid throughout); the Workflow ends terminal with every task
 * terminal, and stays so.
 */

type Outcome = 'Succeeded' | 'Failed';
interface Scenario {
  n: number;
  edges: boolean[][];
  outcomes: Outcome[];
  parallelism: number | undefined;
  onFailure: OnFailure;
  /**
   * Per round: 0 nothing, 1 restart the reconciler, 2 lose this round's status write, 3 refuse
   * this round's Session creates.
   */
  faults: number[];
}

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 10 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    edges: fc.array(
      fc.array(
        fc.integer({ min: 0, max: 9 }).map((x) => x < 3),
        { minLength: n, maxLength: n },
      ),
      { minLength: n, maxLength: n },
    ),
    outcomes: fc.array(fc.constantFrom<Outcome>('Succeeded', 'Succeeded', 'Failed'), {
      minLength: n,
      maxLength: n,
    }),
    parallelism: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    onFailure: fc.constantFrom<OnFailure>('Stop', 'Continue'),
    faults: fc.array(fc.constantFrom(0, 0, 0, 1, 2, 3), { minLength: 80, maxLength: 80 }),
  }),
);

test('random DAGs through the reconciler with restarts and lost writes', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const h = new Harness();
      const names = Array.from({ length: s.n }, (_, i) => `t${i}`);
      const deps = names.map((_, b) => names.filter((_, a) => a < b && s.edges[b]![a]));
      await h.create('wf', {
        onFailure: s.onFailure,
        ...(s.parallelism === undefined ? {} : { parallelism: s.parallelism }),
        tasks: names.map((name, i) => ({ name, dependsOn: deps[i], session: RUN })),
      });
      const uids = new Map<string, string>();
      let r: WorkflowReconciler = h.reconciler;
      let lose = false;
      let refuse = false;
      let world = new Map<string, Session>();
      h.client.prependReactor((a) => {
        if (lose && a.verb === 'patchStatus' && a.gvk.kind === 'Workflow') return new Error('lost');
        if (refuse && a.verb === 'create' && a.gvk.kind === 'Session') return new Error('quota');
        if (a.verb === 'create' && a.gvk.kind === 'Session') {
          // At creation, every dependency's Session has Succeeded.
          const task = a.object!.metadata!.annotations!['steward.dev/task']!;
          const i = names.indexOf(task);
          for (const d of deps[i]!) {
            const phase = world.get(taskSessionName('wf', d))?.status?.phase;
            if (phase !== 'Succeeded') throw new Error(`${task} created while ${d} is ${phase}`);
          }
        }
      });
      let written = false;
      for (let round = 0; round < 80; round++) {
        const fault = s.faults[round]!;
        if (fault === 1) r = h.newReconciler();
        lose = fault === 2;
        refuse = fault === 3;
        try {
          await h.reconcile('wf', r);
        } catch (err) {
          if ((err as Error).message !== 'lost' && (err as Error).message !== 'quota') throw err;
        }
        written ||= !lose;
        lose = false;
        refuse = false;
        // Never a Workflow without a status once a reconcile could write one.
        if (written) expect((await h.workflow('wf')).status?.phase).toBeDefined();
        const sessions = await h.sessions();
        world = new Map(sessions.map((x) => [x.metadata!.name!, x]));
        for (const x of sessions) {
          const uid = uids.get(x.metadata!.name!);
          if (uid !== undefined) expect(x.metadata!.uid).toBe(uid);
          uids.set(x.metadata!.name!, x.metadata!.uid!);
        }
        const unfinished = sessions.filter((x) => !isTerminal(x.status?.phase));
        if (s.parallelism !== undefined) expect(unfinished.length).toBeLessThanOrEqual(s.parallelism);
        const wf = await h.workflow('wf');
        if (isWorkflowTerminal(wf.status?.phase)) {
          expect(
            Object.values(wf.status!.tasks!).every((t) => t.phase !== 'Pending' && t.phase !== 'Running'),
          ).toBe(true);
          const rv = wf.metadata!.resourceVersion;
          await h.reconcile('wf', h.newReconciler());
          expect((await h.workflow('wf')).metadata!.resourceVersion).toBe(rv);
          return;
        }
        // The world: the Session controller finishes one unfinished Session per round.
        const next = unfinished[round % Math.max(1, unfinished.length)];
        if (next !== undefined) {
          const i = names.indexOf(next.metadata!.annotations!['steward.dev/task']!);
          const status = next.spec?.cancel
            ? { phase: 'Cancelled', reason: 'Cancelled', message: '' }
            : { phase: s.outcomes[i]!, reason: 'Done', message: '', attempt: 1, result: `r${i}` };
          const patched = await h.client.patchStatus<Session>(
            SESSION_GVK,
            { namespace: 'ns', name: next.metadata!.name! },
            { type: 'merge', body: { status } },
          );
          world.set(patched.metadata!.name!, patched);
        }
      }
      throw new Error('the Workflow did not finish in 80 rounds');
    }),
    { numRuns: 300 },
  );
});
