import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TASK_PHASES, type TaskPhase, type WorkflowPhase } from './types.js';

/**
 * The Workflow controller's metrics (prefix `steward_`, as the Session's). Labels never carry
 * object names: only namespaces, phases and error types.
 *
 * `steward_workflow_tasks` is a gauge of the tasks of the Workflows this replica is running, by
 * phase: each Workflow's counts are replaced on every reconcile and removed once it is terminal
 * or deleted, so a follower (which reconciles nothing) reports none.
 */
export class WorkflowMetrics {
  readonly #created: Counter<'namespace'>;
  readonly #completed: Counter<'namespace' | 'final_phase'>;
  readonly #duration: Histogram<'namespace' | 'final_phase'>;
  readonly #tasks: Gauge<'namespace' | 'phase'>;
  readonly #tasksCompleted: Counter<'namespace' | 'phase'>;
  readonly #errors: Counter<'namespace' | 'error_type'>;
  // Workflow (namespace/name) → its namespace and the task counts it contributes to #tasks.
  readonly #counts = new Map<string, { namespace: string; counts: Map<TaskPhase, number> }>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.#created = new Counter({
      name: 'steward_workflows_total',
      help: 'Workflows seen for the first time',
      labelNames: ['namespace'],
      registers,
    });
    this.#completed = new Counter({
      name: 'steward_workflows_completed_total',
      help: 'Workflows that reached a terminal phase, by that phase',
      labelNames: ['namespace', 'final_phase'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'steward_workflow_duration_seconds',
      help: 'Time from Workflow creation to its terminal phase',
      labelNames: ['namespace', 'final_phase'],
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400],
      registers,
    });
    this.#tasks = new Gauge({
      name: 'steward_workflow_tasks',
      help: 'Tasks of the running Workflows, by phase',
      labelNames: ['namespace', 'phase'],
      registers,
    });
    this.#tasksCompleted = new Counter({
      name: 'steward_workflow_tasks_completed_total',
      help: 'Workflow tasks that reached a terminal phase (Succeeded, Failed, Skipped, Cancelled)',
      labelNames: ['namespace', 'phase'],
      registers,
    });
    this.#errors = new Counter({
      name: 'steward_workflow_errors_total',
      help: 'Errors while reconciling Workflows, by type',
      labelNames: ['namespace', 'error_type'],
      registers,
    });
  }

  /** A Workflow seen for the first time. */
  created(namespace: string): void {
    this.#created.inc({ namespace });
  }

  /** A Workflow that reached `phase`, `seconds` after its creation. */
  completed(namespace: string, phase: WorkflowPhase, seconds: number): void {
    this.#completed.inc({ namespace, final_phase: phase });
    this.#duration.observe({ namespace, final_phase: phase }, Math.max(0, seconds));
  }

  /** A task that reached the terminal `phase`. */
  taskCompleted(namespace: string, phase: TaskPhase): void {
    this.#tasksCompleted.inc({ namespace, phase });
  }

  /** The current task counts of a running Workflow (replacing its earlier ones). */
  tasks(key: string, namespace: string, phases: readonly TaskPhase[]): void {
    const counts = new Map<TaskPhase, number>(TASK_PHASES.map((p) => [p, 0]));
    for (const p of phases) counts.set(p, counts.get(p)! + 1);
    this.forget(key);
    this.#counts.set(key, { namespace, counts });
    for (const [phase, n] of counts) this.#tasks.inc({ namespace, phase }, n);
  }

  /** Drops a Workflow's task counts: it finished, was deleted, or is no longer ours. */
  forget(key: string): void {
    const prev = this.#counts.get(key);
    if (prev === undefined) return;
    this.#counts.delete(key);
    for (const [phase, n] of prev.counts) this.#tasks.dec({ namespace: prev.namespace, phase }, n);
  }

  /** A reconcile error of a type such as `api_conflict`, `aborted` or `internal`. */
  error(namespace: string, errorType: string): void {
    this.#errors.inc({ namespace, error_type: errorType });
  }
}
