import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/**
 * The client's Prometheus metrics, named as client-go/controller-runtime name them so their
 * dashboards work. Registering on a registry that already has them (two clients sharing one
 * registry) reuses the existing collectors.
 */
export class ClientMetrics {
  readonly requests: Counter<'code' | 'method' | 'host'>;
  readonly latency: Histogram<'verb' | 'host'>;
  readonly rateLimiterWait: Histogram<'verb' | 'host'>;

  constructor(registry: Registry) {
    this.requests = reuse(registry, 'rest_client_requests_total', () => {
      return new Counter({
        name: 'rest_client_requests_total',
        help: 'Number of HTTP requests, partitioned by status code, method, and host.',
        labelNames: ['code', 'method', 'host'],
        registers: [registry],
      });
    });
    this.latency = reuse(registry, 'rest_client_request_duration_seconds', () => {
      return new Histogram({
        name: 'rest_client_request_duration_seconds',
        help: 'Request latency in seconds. Broken down by verb and host.',
        labelNames: ['verb', 'host'],
        buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
        registers: [registry],
      });
    });
    this.rateLimiterWait = reuse(registry, 'rest_client_rate_limiter_duration_seconds', () => {
      return new Histogram({
        name: 'rest_client_rate_limiter_duration_seconds',
        help: 'Client side rate limiter latency in seconds. Broken down by verb and host.',
        labelNames: ['verb', 'host'],
        buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
        registers: [registry],
      });
    });
  }
}

function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
