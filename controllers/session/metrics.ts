import { Counter, Histogram, type Registry } from 'prom-client';
import type { Phase } from './types.js';

/**
 * The Session operator's metrics (prefix `steward_`). Labels never carry object names: only
 * namespaces, phases and error types, whose sets are small.
 */
export class SessionMetrics {
  readonly #startup: Histogram<'namespace'>;
  readonly #created: Counter<'namespace'>;
  readonly #completed: Counter<'namespace' | 'final_phase'>;
  readonly #transitions: Counter<'namespace' | 'from_phase' | 'to_phase'>;
  readonly #reconcile: Histogram<'phase' | 'success'>;
  readonly #jobCreation: Histogram;
  readonly #errors: Counter<'namespace' | 'phase' | 'error_type'>;
  readonly #staleCache: Counter<'namespace'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#startup = new Histogram({
      name: 'steward_session_startup_duration_seconds',
      help: 'Time from Session creation to its pod running (Pending to Running)',
      labelNames: ['namespace'],
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers,
    });
    this.#created = new Counter({
      name: 'steward_sessions_total',
      help: 'Sessions seen for the first time (entered Pending)',
      labelNames: ['namespace'],
      registers,
    });
    this.#completed = new Counter({
      name: 'steward_sessions_completed_total',
      help: 'Sessions that reached a terminal phase, by that phase',
      labelNames: ['namespace', 'final_phase'],
      registers,
    });
    this.#transitions = new Counter({
      name: 'steward_session_phase_transitions_total',
      help: 'Session phase transitions',
      labelNames: ['namespace', 'from_phase', 'to_phase'],
      registers,
    });
    this.#reconcile = new Histogram({
      name: 'steward_reconcile_duration_seconds',
      help: 'Session reconcile duration, by the phase the Session was in and whether it succeeded',
      labelNames: ['phase', 'success'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#jobCreation = new Histogram({
      name: 'steward_job_creation_duration_seconds',
      help: 'Duration of the API call that creates an attempt Job',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#errors = new Counter({
      name: 'steward_session_errors_total',
      help: 'Errors while reconciling Sessions, by type',
      labelNames: ['namespace', 'phase', 'error_type'],
      registers,
    });
    this.#staleCache = new Counter({
      name: 'steward_session_stale_cache_requeues_total',
      help: 'Reconciles put off because the cache had not yet seen the operator’s own last status write',
      labelNames: ['namespace'],
      registers,
    });
  }

  /** Counts a new Session (`steward_sessions_created_total`). */
  created(namespace: string): void {
    this.#created.inc({ namespace });
  }

  /** Counts a phase change, and a terminal phase in `steward_sessions_completed_total`. */
  transition(namespace: string, from: Phase | '', to: Phase, terminal: boolean): void {
    this.#transitions.inc({ namespace, from_phase: from, to_phase: to });
    if (terminal) this.#completed.inc({ namespace, final_phase: to });
  }

  /** Observes creation → Running (`steward_session_startup_duration_seconds`). */
  startup(namespace: string, seconds: number): void {
    this.#startup.observe({ namespace }, Math.max(0, seconds));
  }

  /** Observes one reconcile by phase and success. */
  reconciled(phase: Phase | '', success: boolean, seconds: number): void {
    this.#reconcile.observe({ phase, success: String(success) }, seconds);
  }

  /** Observes how long a Job create took. */
  jobCreated(seconds: number): void {
    this.#jobCreation.observe(seconds);
  }

  /** Counts a failure by phase and type (e.g. `job_rejected`). */
  error(namespace: string, phase: Phase | '', errorType: string): void {
    this.#errors.inc({ namespace, phase, error_type: errorType });
  }

  /** Counts a reconcile that found the cache older than its own last write. */
  staleCache(namespace: string): void {
    this.#staleCache.inc({ namespace });
  }
}
