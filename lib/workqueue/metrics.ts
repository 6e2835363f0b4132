import type { Registry } from 'prom-client';
import { CounterFamily, GaugeFamily, HistogramFamily, registerFamily } from '../util/metrics.js';

/**
 * Work queue metrics under controller-runtime's names and labels (`name`, `controller`), so its
 * dashboards work unchanged. Each queue binds its series once; an operation then costs a few
 * additions (see lib/util/metrics.ts).
 */

// client-go / controller-runtime buckets: 10ns .. 1000s, ×10.
const DURATION_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000];
type L = 'name' | 'controller';
const LABELS: readonly L[] = ['name', 'controller'];

/** What a queue reports about the items it is processing, read at scrape time. */
export interface InFlightSource {
  readonly name: string;
  readonly controller: string;
  /** Sum over items in processing of seconds spent so far. */
  unfinishedSeconds(): number;
  /** Seconds the longest-running item in processing has run. */
  longestSeconds(): number;
}

function families(registry: Registry) {
  return {
    depth: registerFamily(registry, new GaugeFamily('workqueue_depth', 'Current depth of workqueue', LABELS)),
    adds: registerFamily(
      registry,
      new CounterFamily('workqueue_adds_total', 'Total number of adds handled by workqueue', LABELS),
    ),
    queueDuration: registerFamily(
      registry,
      new HistogramFamily(
        'workqueue_queue_duration_seconds',
        'How long in seconds an item stays in workqueue before being requested',
        LABELS,
        DURATION_BUCKETS,
      ),
    ),
    workDuration: registerFamily(
      registry,
      new HistogramFamily(
        'workqueue_work_duration_seconds',
        'How long in seconds processing an item from workqueue takes.',
        LABELS,
        DURATION_BUCKETS,
      ),
    ),
    retries: registerFamily(
      registry,
      new CounterFamily('workqueue_retries_total', 'Total number of retries handled by workqueue', LABELS),
    ),
    unfinished: registerFamily(
      registry,
      new GaugeFamily(
        'workqueue_unfinished_work_seconds',
        "How many seconds of work has been done that is in progress and hasn't been observed by " +
          'work_duration. Large values indicate stuck threads. One can deduce the number of stuck ' +
          'threads by observing the rate at which this increases.',
        LABELS,
      ),
    ),
    longest: registerFamily(
      registry,
      new GaugeFamily(
        'workqueue_longest_running_processor_seconds',
        'How many seconds has the longest running processor for workqueue been running.',
        LABELS,
      ),
    ),
  };
}

/** The hooks a queue calls; every method is a few additions. */
export interface QueueMetrics {
  add(): void;
  /** An item left the queue for a worker after waiting `waitedMs`. */
  get(waitedMs: number): void;
  /** A worker finished an item after `workedMs`. */
  done(workedMs: number): void;
  /** An item waiting to be requeued on `done()` was discarded (shutdown). */
  drop(): void;
  retry(): void;
  /** Stops reporting in-flight work for this queue (the counters stay). */
  close(): void;
}

/** Binds a queue's metrics on `registry`. */
export function queueMetrics(registry: Registry, source: InFlightSource): QueueMetrics {
  const f = families(registry);
  const labels = { name: source.name, controller: source.controller };
  const depth = f.depth.series(labels);
  const adds = f.adds.series(labels);
  const queueDuration = f.queueDuration.series(labels);
  const workDuration = f.workDuration.series(labels);
  const retries = f.retries.series(labels);
  // Computed when scraped rather than by a ticking timer: no cost between scrapes.
  const unfinished = f.unfinished.series(labels);
  const longest = f.longest.series(labels);
  unfinished.source = () => source.unfinishedSeconds();
  longest.source = () => source.longestSeconds();
  return {
    add() {
      adds.value++;
      depth.value++;
    },
    get(waitedMs) {
      depth.value--;
      queueDuration.observe(waitedMs / 1000);
    },
    done(workedMs) {
      workDuration.observe(workedMs / 1000);
    },
    drop() {
      depth.value--;
    },
    retry() {
      retries.value++;
    },
    close() {
      unfinished.source = undefined;
      longest.source = undefined;
      unfinished.value = 0;
      longest.value = 0;
    },
  };
}
