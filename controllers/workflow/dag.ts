/**
 * The Workflow's decisions, as pure functions of its tasks' dependencies and phases: the graph
 * and its cycles, which tasks start, which are skipped or cancelled, the Workflow's phase.
 * Everything here is linear in tasks + edges and knows nothing of the API.
 */
import type { OnFailure, TaskPhase, WorkflowPhase } from './types.js';

/** The dependency graph, tasks by their index in spec.tasks. */
export interface Graph {
  readonly names: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  /** Direct dependencies of each task (what it waits for), in its dependsOn order. */
  readonly deps: readonly (readonly number[])[];
  /** Direct dependents of each task (what waits for it). */
  readonly dependents: readonly (readonly number[])[];
  /** A topological order: every task after all its dependencies. */
  readonly order: readonly number[];
  /** Longest path from a task without dependencies (0) to each task: its row in a drawing. */
  readonly level: readonly number[];
}

/** What the graph needs of a task: its name and dependencies. */
export interface GraphTask {
  name: string;
  dependsOn?: readonly string[];
}

/**
 * Builds the graph of `tasks`, or says what is wrong with it: a duplicate name, a dependency on
 * an unknown task or on itself, or a cycle, spelled out along its edges (`a → b → a`: a depends
 * on b, which depends on a).
 */
export function buildGraph(tasks: readonly GraphTask[]): { graph: Graph } | { problem: string } {
  const names = tasks.map((t) => t.name);
  const index = new Map<string, number>();
  for (const [i, name] of names.entries()) {
    if (index.has(name))
      return { problem: `task name ${name} is used twice (tasks[${index.get(name)}] and tasks[${i}])` };
    index.set(name, i);
  }
  const deps: number[][] = [];
  const dependents: number[][] = names.map(() => []);
  for (const [i, t] of tasks.entries()) {
    const mine: number[] = [];
    for (const d of t.dependsOn ?? []) {
      const j = index.get(d);
      if (j === undefined)
        return { problem: `task ${t.name} depends on ${d}, which is not a task of this Workflow` };
      if (j === i) return { problem: `task ${t.name} depends on itself` };
      if (mine.includes(j)) continue;
      mine.push(j);
      dependents[j]!.push(i);
    }
    deps.push(mine);
  }
  const cycle = findCycle(deps);
  if (cycle !== undefined) {
    return { problem: `dependency cycle: ${cycle.map((i) => names[i]).join(' → ')}` };
  }
  // Kahn's algorithm, in spec order among the tasks that are ready at the same time.
  const waiting = deps.map((d) => d.length);
  const level = names.map(() => 0);
  const order: number[] = [];
  for (const [i, n] of waiting.entries()) if (n === 0) order.push(i);
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    for (const j of dependents[i]!) {
      level[j] = Math.max(level[j]!, level[i]! + 1);
      if (--waiting[j]! === 0) order.push(j);
    }
  }
  return { graph: { names, index, deps, dependents, order, level } };
}

/**
 * The first cycle a depth-first search finds, starting from tasks in spec order and following
 * dependencies in their listed order, as a closed path (first = last); undefined if acyclic.
 * Iterative, so a chain of a thousand tasks does not need a thousand stack frames.
 */
export function findCycle(deps: readonly (readonly number[])[]): number[] | undefined {
  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const color = new Uint8Array(deps.length);
  const path: number[] = [];
  const next: number[] = [];
  for (let root = 0; root < deps.length; root++) {
    if (color[root] !== WHITE) continue;
    path.push(root);
    next.push(0);
    color[root] = GREY;
    while (path.length > 0) {
      const top = path.length - 1;
      const u = path[top]!;
      const k = next[top]!;
      if (k === deps[u]!.length) {
        color[u] = BLACK;
        path.pop();
        next.pop();
        continue;
      }
      next[top] = k + 1;
      const v = deps[u]![k]!;
      if (color[v] === GREY) return [...path.slice(path.indexOf(v)), v];
      if (color[v] === WHITE) {
        color[v] = GREY;
        path.push(v);
        next.push(0);
      }
    }
  }
  return undefined;
}

/** Phases in which a task counts as failed for propagation: it ended without succeeding. */
const isFailure = (p: TaskPhase) => p === 'Failed' || p === 'Cancelled';
const isDone = (p: TaskPhase) => p !== 'Pending' && p !== 'Running';

/** What `decide` decides from: the graph, each task's phase, and the spec's knobs. */
export interface DecideInput {
  graph: Graph;
  /** Each task's phase as observed now (recorded terminal phases included). */
  phases: readonly TaskPhase[];
  onFailure: OnFailure;
  /** At most this many tasks Running. Default: no limit. */
  parallelism?: number;
  /** spec.cancel. */
  cancel: boolean;
}

/** Why a task is skipped: a dependency that did not succeed, or (Stop) a failure elsewhere. */
export interface Skip {
  task: number;
  reason: 'UpstreamFailed' | 'Stopped';
  /** The failed task that caused it. */
  cause: number;
}

/** What `decide` decided: what to start, skip and cancel, and the Workflow's phase. */
export interface Decision {
  /** Tasks to start now, in spec order. */
  start: number[];
  /** Pending tasks that will never start. */
  skip: Skip[];
  /** Pending tasks cancelled with the Workflow. */
  cancel: number[];
  /** Running tasks whose Sessions are to be cancelled with the Workflow. */
  cancelRunning: number[];
  /** Each task's phase once the decision is carried out (started tasks Running). */
  phases: TaskPhase[];
  /** The Workflow's phase after this decision: Running until every task is terminal. */
  phase: Exclude<WorkflowPhase, 'Pending'>;
  /** Tasks that failed (or were cancelled on their own), in spec order. */
  failed: number[];
  /** Tasks in a terminal phase. */
  finished: number;
}

/**
 * What to do next. A task starts only when every dependency Succeeded, no more than
 * `parallelism` run at once, and never after a failure under Stop or after a cancel. With
 * Continue only the descendants of a failed task are skipped; with Stop every unstarted task is.
 * Running tasks are never stopped by a failure (they finish); a cancel cancels them.
 */
export function decide(input: DecideInput): Decision {
  const { graph, onFailure, cancel } = input;
  const phases = [...input.phases];
  const n = phases.length;
  const failed: number[] = [];
  for (let i = 0; i < n; i++) if (isFailure(phases[i]!)) failed.push(i);

  const skip: Skip[] = [];
  const cancelled: number[] = [];
  const cancelRunning: number[] = [];
  // The failed task behind each skipped one, for its message.
  const causeOf = new Int32Array(n).fill(-1);
  for (const i of failed) causeOf[i] = i;

  // One pass in topological order settles every task whose dependencies are settled, so
  // skipping propagates down a whole branch at once.
  for (const i of graph.order) {
    const p = phases[i]!;
    if (p === 'Skipped') {
      // Recorded earlier: find its cause again for tasks below it.
      for (const d of graph.deps[i]!) if (causeOf[d]! >= 0) causeOf[i] = causeOf[d]!;
      if (causeOf[i]! < 0 && failed.length > 0) causeOf[i] = failed[0]!;
      continue;
    }
    if (p === 'Running' && cancel) cancelRunning.push(i);
    if (p !== 'Pending') continue;
    if (cancel) {
      phases[i] = 'Cancelled';
      cancelled.push(i);
      continue;
    }
    let cause = -1;
    for (const d of graph.deps[i]!) {
      const dp = phases[d]!;
      if (isFailure(dp) || dp === 'Skipped') {
        cause = causeOf[d]!;
        break;
      }
    }
    if (cause >= 0) {
      phases[i] = 'Skipped';
      causeOf[i] = cause;
      skip.push({ task: i, reason: 'UpstreamFailed', cause });
    } else if (onFailure === 'Stop' && failed.length > 0) {
      phases[i] = 'Skipped';
      causeOf[i] = failed[0]!;
      skip.push({ task: i, reason: 'Stopped', cause: failed[0]! });
    }
  }
  skip.sort((a, b) => a.task - b.task);

  const start: number[] = [];
  if (!cancel && (onFailure === 'Continue' || failed.length === 0)) {
    let running = 0;
    for (const p of phases) if (p === 'Running') running++;
    let slots = input.parallelism === undefined ? n : Math.max(0, input.parallelism - running);
    for (let i = 0; i < n && slots > 0; i++) {
      if (phases[i] !== 'Pending') continue;
      if (graph.deps[i]!.every((d) => phases[d] === 'Succeeded')) {
        start.push(i);
        slots--;
      }
    }
    for (const i of start) phases[i] = 'Running';
  }

  let finished = 0;
  for (const p of phases) if (isDone(p)) finished++;
  let phase: Decision['phase'] = 'Running';
  if (finished === n)
    phase = cancel ? 'Cancelled' : phases.every((p) => p === 'Succeeded') ? 'Succeeded' : 'Failed';
  return { start, skip, cancel: cancelled, cancelRunning, phases, phase, failed, finished };
}
