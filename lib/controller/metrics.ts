import type { Registry } from 'prom-client';
import { CounterFamily, GaugeFamily, HistogramFamily, registerFamily } from '../util/metrics.js';

/** controller-runtime's reconcile metrics, same names, labels and buckets. */

// controller-runtime's reconcile_time_seconds buckets.
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25,
  1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** The `result` label of `controller_runtime_reconcile_total`. */
export type ReconcileOutcome = 'success' | 'error' | 'requeue' | 'requeue_after';

export interface ControllerMetrics {
  outcome(result: ReconcileOutcome, seconds: number): void;
  error(): void;
  terminal(): void;
  panic(): void;
  timeout(): void;
  setMaxConcurrent(n: number): void;
  workerStarted(): void;
  workerFinished(): void;
}

/** Binds one controller's series on `registry`. */
export function controllerMetrics(registry: Registry, controller: string): ControllerMetrics {
  const c = ['controller'] as const;
  const total = registerFamily(
    registry,
    new CounterFamily(
      'controller_runtime_reconcile_total',
      'Total number of reconciliations per controller',
      ['controller', 'result'],
    ),
  );
  const errors = registerFamily(
    registry,
    new CounterFamily(
      'controller_runtime_reconcile_errors_total',
      'Total number of reconciliation errors per controller',
      c,
    ),
  ).series({ controller });
  const terminal = registerFamily(
    registry,
    new CounterFamily(
      'controller_runtime_terminal_reconcile_errors_total',
      'Total number of terminal reconciliation errors per controller',
      c,
    ),
  ).series({ controller });
  const panics = registerFamily(
    registry,
    new CounterFamily(
      'controller_runtime_reconcile_panics_total',
      'Total number of reconciliation panics per controller',
      c,
    ),
  ).series({ controller });
  const timeouts = registerFamily(
    registry,
    new CounterFamily(
      'steward_controller_reconcile_timeouts_total',
      'Total number of reconciles aborted for running past the reconcile timeout, per controller',
      c,
    ),
  ).series({ controller });
  const time = registerFamily(
    registry,
    new HistogramFamily(
      'controller_runtime_reconcile_time_seconds',
      'Length of time per reconciliation per controller',
      c,
      RECONCILE_BUCKETS,
    ),
  ).series({ controller });
  const maxConcurrent = registerFamily(
    registry,
    new GaugeFamily(
      'controller_runtime_max_concurrent_reconciles',
      'Maximum number of concurrent reconciles per controller',
      c,
    ),
  ).series({ controller });
  const active = registerFamily(
    registry,
    new GaugeFamily(
      'controller_runtime_active_workers',
      'Number of currently used workers per controller',
      c,
    ),
  ).series({ controller });
  const byOutcome = {
    success: total.series({ controller, result: 'success' }),
    error: total.series({ controller, result: 'error' }),
    requeue: total.series({ controller, result: 'requeue' }),
    requeue_after: total.series({ controller, result: 'requeue_after' }),
  };
  return {
    outcome(result, seconds) {
      byOutcome[result].inc();
      time.observe(seconds);
    },
    error: () => errors.inc(),
    terminal: () => terminal.inc(),
    panic: () => panics.inc(),
    timeout: () => timeouts.inc(),
    setMaxConcurrent: (n) => maxConcurrent.set(n),
    workerStarted: () => active.inc(),
    workerFinished: () => active.dec(),
  };
}
