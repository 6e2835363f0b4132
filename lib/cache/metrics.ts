import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

/**
 * Informer and reflector metrics (Steward's own; client-go has no stable equivalents). Labelled
 * by kind in `Kind.version.group` form, never by object.
 */
export class InformerMetrics {
  readonly handlerErrors: Counter<'gvk'>;
  readonly transformErrors: Counter<'gvk'>;
  readonly indexErrors: Counter<'gvk' | 'index'>;
  readonly lists: Counter<'gvk'>;
  readonly watchRestarts: Counter<'gvk' | 'reason'>;

  constructor(registry: Registry) {
    this.handlerErrors = reuse(registry, 'steward_informer_handler_errors_total', () => {
      return new Counter({
        name: 'steward_informer_handler_errors_total',
        help: 'Exceptions thrown (or promises rejected) by informer event handlers.',
        labelNames: ['gvk'],
        registers: [registry],
      });
    });
    this.transformErrors = reuse(registry, 'steward_informer_transform_errors_total', () => {
      return new Counter({
        name: 'steward_informer_transform_errors_total',
        help: 'Objects the informer transform threw for; that version was not cached.',
        labelNames: ['gvk'],
        registers: [registry],
      });
    });
    this.indexErrors = reuse(registry, 'steward_informer_index_errors_total', () => {
      return new Counter({
        name: 'steward_informer_index_errors_total',
        help: 'Objects an index function threw for; they were cached without values in that index.',
        labelNames: ['gvk', 'index'],
        registers: [registry],
      });
    });
    this.lists = reuse(registry, 'steward_reflector_lists_total', () => {
      return new Counter({
        name: 'steward_reflector_lists_total',
        help: 'Completed LISTs (initial and re-lists) by reflectors.',
        labelNames: ['gvk'],
        registers: [registry],
      });
    });
    this.watchRestarts = reuse(registry, 'steward_reflector_watch_restarts_total', () => {
      return new Counter({
        name: 'steward_reflector_watch_restarts_total',
        help: 'Watches replaced by reflectors, by reason: closed, gone, idle, error.',
        labelNames: ['gvk', 'reason'],
        registers: [registry],
      });
    });
  }
}

function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
