import type { Registry } from 'prom-client';

/**
 * Metric families for hot paths. prom-client's own metrics validate and hash the label set on
 * every `inc`/`observe` (microseconds per call); these bind a series once and update plain
 * numbers, formatting only when scraped. They register on a prom-client `Registry` like any
 * other metric, so one `/metrics` endpoint serves both kinds.
 *
 * Use prom-client's metrics where a call happens per request or less; use these where a call
 * happens per queue operation.
 */

type LabelValues<L extends string> = Record<L, string>;

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

abstract class Family<L extends string, S> {
  readonly aggregator = 'sum';
  readonly #series = new Map<string, { labels: LabelValues<L>; series: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    readonly labelNames: readonly L[],
  ) {}

  /** The series for these label values, created on first use. Keep it: it is the fast path. */
  series(labels: LabelValues<L>): S {
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let entry = this.#series.get(key);
    if (entry === undefined) {
      entry = { labels: { ...labels }, series: this.newSeries() };
      this.#series.set(key, entry);
    }
    return entry.series;
  }

  /** Stops exporting a series (e.g. of a queue that was shut down). */
  remove(labels: LabelValues<L>): void {
    this.#series.delete(this.labelNames.map((n) => labels[n]).join('\u0000'));
  }

  /** Called by prom-client's `Registry` when scraped. */
  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    for (const { labels, series } of this.#series.values()) this.samples(labels, series, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Called by `Registry.resetMetrics()`. */
  reset(): void {
    this.#series.clear();
  }

  protected abstract newSeries(): S;
  protected abstract samples(labels: LabelValues<L>, series: S, out: Sample[]): void;
}

export class CounterSeries {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

export class CounterFamily<L extends string> extends Family<L, CounterSeries> {
  constructor(name: string, help: string, labelNames: readonly L[]) {
    super(name, help, 'counter', labelNames);
  }
  protected newSeries(): CounterSeries {
    return new CounterSeries();
  }
  protected samples(labels: LabelValues<L>, s: CounterSeries, out: Sample[]): void {
    out.push({ labels, value: s.value });
  }
}

export class GaugeSeries {
  value = 0;
  /** When set, read at scrape time instead of `value`. */
  source: (() => number) | undefined;
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

export class GaugeFamily<L extends string> extends Family<L, GaugeSeries> {
  constructor(name: string, help: string, labelNames: readonly L[]) {
    super(name, help, 'gauge', labelNames);
  }
  protected newSeries(): GaugeSeries {
    return new GaugeSeries();
  }
  protected samples(labels: LabelValues<L>, s: GaugeSeries, out: Sample[]): void {
    out.push({ labels, value: s.source !== undefined ? s.source() : s.value });
  }
}

export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

export class HistogramFamily<L extends string> extends Family<L, HistogramSeries> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram', labelNames);
  }
  protected newSeries(): HistogramSeries {
    return new HistogramSeries(this.buckets);
  }
  protected samples(labels: LabelValues<L>, s: HistogramSeries, out: Sample[]): void {
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += s.counts[i]!;
      out.push({
        labels: { ...labels, le: this.buckets[i]! },
        value: cumulative,
        metricName: `${this.name}_bucket`,
      });
    }
    out.push({ labels: { ...labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
    out.push({ labels, value: s.sum, metricName: `${this.name}_sum` });
    out.push({ labels, value: s.count, metricName: `${this.name}_count` });
  }
}

/**
 * Registers `family` on `registry`, or returns the family of that name already there (so every
 * queue of a process shares one). A name taken by a metric of another kind is an error.
 */
export function registerFamily<F extends Family<string, unknown>>(registry: Registry, family: F): F {
  const existing = registry.getSingleMetric(family.name) as unknown;
  if (existing !== undefined) {
    if (existing instanceof Family && existing.type === family.type) return existing as F;
    throw new Error(`metric ${family.name} is already registered with another definition`);
  }
  registry.registerMetric(family as never);
  return family;
}
