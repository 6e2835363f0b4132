import { Counter, Histogram, type Registry } from 'prom-client';

/** What became of a scheduled time: the `result` label of `steward_schedule_runs_total`. */
export type RunResult = 'started' | 'skipped' | 'missed';

/**
 * The Schedule controller's metrics. Labels carry namespaces and results, never object names.
 *
 * - `steward_schedule_runs_total{namespace,result}`: scheduled times by what became of them:
 *   `started` (a run was created), `skipped` (concurrencyPolicy Forbid, a run was active),
 *   `missed` (the operator was down or the Schedule suspended, or the time was past
 *   startingDeadlineSeconds).
 * - `steward_schedule_start_delay_seconds{namespace}`: the run's creation − its scheduled time.
 */
export class ScheduleMetrics {
  readonly #runs: Counter<'namespace' | 'result'>;
  readonly #delay: Histogram<'namespace'>;
  readonly #namespaces = new Set<string>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.#runs = new Counter({
      name: 'steward_schedule_runs_total',
      help: 'Scheduled times of Schedules by result: started, skipped (Forbid) or missed',
      labelNames: ['namespace', 'result'],
      registers,
    });
    this.#delay = new Histogram({
      name: 'steward_schedule_start_delay_seconds',
      help: 'Time from a scheduled time to the creation of its run',
      labelNames: ['namespace'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
  }

  /**
   * Creates the namespace's series at 0, so that every result is queryable (and an alert's
   * increase() has a base) before the first time of that result happens.
   */
  namespaceSeen(namespace: string): void {
    if (this.#namespaces.has(namespace)) return;
    this.#namespaces.add(namespace);
    for (const result of ['started', 'skipped', 'missed'] as const) this.#runs.inc({ namespace, result }, 0);
  }

  /** Counts `count` scheduled times of a namespace with their result. */
  runs(namespace: string, result: RunResult, count = 1): void {
    if (count > 0) this.#runs.inc({ namespace, result }, count);
  }

  /** Observes a run's creation − its scheduled time. */
  startDelay(namespace: string, seconds: number): void {
    this.#delay.observe({ namespace }, Math.max(0, seconds));
  }
}
