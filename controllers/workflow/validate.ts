import { validateSpec as validateSessionSpec } from '../session/index.js';
import { taskMessageBytes } from './bounds.js';
import { buildGraph, type Graph } from './dag.js';
import { MAX_TASKS, type OnFailure, type WorkflowSpec } from './types.js';

/** A DNS label (RFC 1123), as task names are. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const isInt = (v: unknown, min: number) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= Number.MAX_SAFE_INTEGER;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a Workflow spec is invalid, and the index of the task at fault, if one is. */
export interface InvalidWorkflow {
  problem: string;
  task?: number;
}

/** A Workflow spec that passed every check, with its dependency graph. */
export interface ParsedWorkflow {
  spec: WorkflowSpec;
  graph: Graph;
  onFailure: OnFailure;
  /** How many bytes of JSON each task's message may take in status.tasks (bounds.ts). */
  messageBytes: number;
}

/**
 * Checks what the CRD schema and its CEL rules check, for objects that bypassed them (an older
 * CRD, a fake client), and what CEL cannot: that there is no cycle. Returns the graph, or the
 * first problem as a one-line message that names the task.
 */
export function parseWorkflow(
  spec: unknown,
  runnerImage: string | undefined,
): ParsedWorkflow | InvalidWorkflow {
  if (!isObject(spec)) return { problem: 'spec must be an object with tasks' };
  const tasks = spec.tasks;
  if (!Array.isArray(tasks) || tasks.length === 0)
    return { problem: 'spec.tasks must list at least one task' };
  if (tasks.length > MAX_TASKS)
    return { problem: `spec.tasks has ${tasks.length} tasks; at most ${MAX_TASKS}` };
  for (const [i, t] of tasks.entries()) {
    const at = `spec.tasks[${i}]`;
    if (!isObject(t)) return { problem: `${at} must be an object` };
    if (typeof t.name !== 'string' || t.name.length > 63 || !DNS_LABEL.test(t.name)) {
      return {
        problem: `${at}.name ${JSON.stringify(t.name)} must be a DNS label (lower-case letters, digits and '-', at most 63)`,
      };
    }
    if (t.dependsOn !== undefined) {
      if (!Array.isArray(t.dependsOn) || !t.dependsOn.every((d) => typeof d === 'string')) {
        return { problem: `${at}.dependsOn must be a list of task names` };
      }
    }
    if (!isObject(t.session))
      return { problem: `${at}.session must be an object (what the task runs)`, task: i };
    for (const f of ['cancel', 'ttlSecondsAfterFinished']) {
      if (t.session[f] !== undefined) {
        return {
          problem: `${at}.session.${f} is not allowed: set spec.${f} on the Workflow instead`,
          task: i,
        };
      }
    }
    const problem = validateSessionSpec(t.session, runnerImage);
    if (problem !== undefined)
      return { problem: `task ${t.name}: session ${problem.replace(/^spec\./, '')}`, task: i };
  }
  if (spec.parallelism !== undefined && !isInt(spec.parallelism, 1)) {
    return { problem: 'spec.parallelism must be an integer >= 1' };
  }
  if (spec.onFailure !== undefined && spec.onFailure !== 'Stop' && spec.onFailure !== 'Continue') {
    return { problem: 'spec.onFailure must be Stop or Continue' };
  }
  if (spec.cancel !== undefined && typeof spec.cancel !== 'boolean') {
    return { problem: 'spec.cancel must be true or false' };
  }
  if (spec.ttlSecondsAfterFinished !== undefined && !isInt(spec.ttlSecondsAfterFinished, 0)) {
    return { problem: 'spec.ttlSecondsAfterFinished must be an integer >= 0' };
  }
  const built = buildGraph(tasks as Array<{ name: string; dependsOn?: string[] }>);
  if ('problem' in built) return built;
  const typed = spec as unknown as WorkflowSpec;
  return {
    spec: typed,
    graph: built.graph,
    onFailure: typed.onFailure ?? 'Stop',
    messageBytes: taskMessageBytes(tasks.length, Buffer.byteLength(JSON.stringify(tasks))),
  };
}
