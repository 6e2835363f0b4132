import type { Registry } from 'prom-client';
import {
  CounterFamily,
  type CounterSeries,
  HistogramFamily,
  type HistogramSeries,
  registerFamily,
} from '../util/metrics.js';

const BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

/**
 * The client's Prometheus metrics, named as client-go/controller-runtime name them so their
 * dashboards work. Registering on a registry that already has them (two clients sharing one
 * registry) shares the series. Recorded on every request, so the series are bound once and
 * updated as plain numbers (lib/util/metrics.ts) rather than through prom-client's label hashing.
 */
export class ClientMetrics {
  readonly #requests: CounterFamily<'code' | 'method' | 'host'>;
  readonly #latency: HistogramFamily<'verb' | 'host'>;
  readonly #wait: HistogramFamily<'verb' | 'host'>;
  readonly #host: string;
  readonly #byCode = new Map<string, CounterSeries>();
  readonly #latencyByVerb = new Map<string, HistogramSeries>();
  readonly #waitByVerb = new Map<string, HistogramSeries>();

  constructor(registry: Registry, host: string) {
    this.#host = host;
    this.#requests = registerFamily(
      registry,
      new CounterFamily(
        'rest_client_requests_total',
        'Number of HTTP requests, partitioned by status code, method, and host.',
        ['code', 'method', 'host'],
      ),
    );
    this.#latency = registerFamily(
      registry,
      new HistogramFamily(
        'rest_client_request_duration_seconds',
        'Request latency in seconds. Broken down by verb and host.',
        ['verb', 'host'],
        BUCKETS,
      ),
    );
    this.#wait = registerFamily(
      registry,
      new HistogramFamily(
        'rest_client_rate_limiter_duration_seconds',
        'Client side rate limiter latency in seconds. Broken down by verb and host.',
        ['verb', 'host'],
        BUCKETS,
      ),
    );
  }

  /** A response (or `<error>`) to a request of `method` that took `seconds`. */
  request(code: string, method: string, seconds: number): void {
    const key = `${method} ${code}`;
    let counter = this.#byCode.get(key);
    if (counter === undefined) {
      counter = this.#requests.series({ code, method, host: this.#host });
      this.#byCode.set(key, counter);
    }
    counter.inc();
    let latency = this.#latencyByVerb.get(method);
    if (latency === undefined) {
      latency = this.#latency.series({ verb: method, host: this.#host });
      this.#latencyByVerb.set(method, latency);
    }
    latency.observe(seconds);
  }

  /** Time a request of `method` waited for the client-side rate limiter. */
  waited(method: string, seconds: number): void {
    let wait = this.#waitByVerb.get(method);
    if (wait === undefined) {
      wait = this.#wait.series({ verb: method, host: this.#host });
      this.#waitByVerb.set(method, wait);
    }
    wait.observe(seconds);
  }
}
