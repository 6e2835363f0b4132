import type { SharedInformer } from '../cache/informer.js';
import { gvkString } from '../client/gvk.js';
import type { Clock, Timer } from '../util/clock.js';

/** controller-runtime's CacheSyncTimeout default: two minutes. */
export const DEFAULT_CACHE_SYNC_TIMEOUT_MS = 120_000;

/** An informer the Manager waits for, and how long it may take to sync. */
export interface SyncTarget {
  informer: SharedInformer;
  timeoutMs: number;
}

/**
 * A kind's cache did not sync within its `cacheSyncTimeoutMs`: the CRD is not installed, the
 * service account may not list it, the API server does not answer. The message is one line
 * naming each kind still unsynced and the API's last answer for it, e.g.
 * `timed out after 120000 ms waiting for caches to sync: Widget.v1.example.com (all
 * namespaces): the server does not serve kind Widget.v1.example.com`.
 */
export class CacheSyncTimeoutError extends Error {
  readonly code = 'ERR_CACHE_SYNC_TIMEOUT';
  /** The kinds that had not synced, as `Kind.version.group`. */
  readonly kinds: string[];
  readonly timeoutMs: number;
  constructor(timeoutMs: number, unsynced: SharedInformer[]) {
    super(`timed out after ${timeoutMs} ms waiting for caches to sync: ${describeUnsynced(unsynced)}`);
    this.name = 'CacheSyncTimeoutError';
    this.timeoutMs = timeoutMs;
    this.kinds = unsynced.map((i) => gvkString(i.gvk));
  }
}

/** `Kind.v1.group (scope): why` for each informer, `; `-separated, on one line. */
export function describeUnsynced(informers: readonly SharedInformer[]): string {
  return informers
    .map((i) => {
      const scope = i.namespaces.length === 0 ? 'all namespaces' : `namespace ${i.namespaces.join(', ')}`;
      return `${gvkString(i.gvk)} (${scope}): ${why(i.syncError())}`;
    })
    .join('; ');
}

function why(err: unknown): string {
  if (err === undefined) return 'no answer from the API server yet';
  let text = err instanceof Error ? err.message : String(err);
  const { status, reason } = err as { status?: unknown; reason?: unknown };
  if (typeof status === 'number' && status > 0) text += ` (${status}${reason ? ` ${String(reason)}` : ''})`;
  return text.replace(/\s*\n\s*/g, ' ');
}

/**
 * Resolves true once every target has synced, false if `signal` aborts first; rejects with a
 * `CacheSyncTimeoutError` naming every target still unsynced once the first one's timeout
 * passes.
 */
export function waitForSync(targets: SyncTarget[], clock: Clock, signal: AbortSignal): Promise<boolean> {
  if (targets.length === 0) return Promise.resolve(true);
  return new Promise<boolean>((resolve, reject) => {
    const stop = new AbortController();
    const timers: Timer[] = [];
    const finish = (outcome: () => void) => {
      for (const t of timers) clock.clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
      stop.abort();
      outcome();
    };
    const onAbort = () => finish(() => resolve(false));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();
    let left = targets.length;
    for (const t of targets) {
      void t.informer.waitForSync(stop.signal).then((ok) => {
        if (ok && --left === 0) finish(() => resolve(true));
      });
    }
    for (const timeoutMs of new Set(targets.map((t) => t.timeoutMs))) {
      timers.push(
        clock.setTimeout(() => {
          const late = targets.filter((t) => t.timeoutMs <= timeoutMs && !t.informer.hasSynced());
          if (late.length === 0) return;
          finish(() =>
            reject(
              new CacheSyncTimeoutError(
                timeoutMs,
                late.map((t) => t.informer),
              ),
            ),
          );
        }, timeoutMs),
      );
    }
  });
}
