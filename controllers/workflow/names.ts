import { createHash } from 'node:crypto';

const hash8 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** Longest Session name we make: a DNS label, so it is also a valid label value. */
const MAX_NAME = 63;

/**
 * The Session of a task: `<workflow>-<task>`, the same on every reconcile and in every process,
 * so a repeated create finds the Session made before (never two Sessions for one task). Names
 * that would pass 63 characters keep a readable prefix and end in a hash of the workflow and
 * task names, as Tekton names TaskRuns.
 */
export function taskSessionName(workflow: string, task: string): string {
  const name = `${workflow}-${task}`;
  if (name.length <= MAX_NAME) return name;
  const suffix = `-${hash8(`${workflow}/${task}`)}`;
  return `${name.slice(0, MAX_NAME - suffix.length).replace(/[-.]+$/, '')}${suffix}`;
}

/** A label value for the Workflow name: the name, or a shortened one with a hash. */
export function workflowLabelValue(workflow: string): string {
  if (workflow.length <= MAX_NAME) return workflow;
  return `${workflow.slice(0, 54).replace(/[-._]+$/, '')}-${hash8(workflow)}`;
}
