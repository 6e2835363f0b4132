import type { WatchEvent } from '../client/client.js';
import { statusErrorFrom } from '../client/errors.js';
import type { GVK } from '../client/gvk.js';
import { apiVersionOf } from '../client/gvk.js';
import type { KubernetesObject } from '../client/object.js';

/** One write, as the fake client records it for watches. */
export interface RecordedEvent {
  rv: number;
  /** `group/kind`: watches of any version of a kind see its events. */
  kindKey: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: KubernetesObject;
  /** The state before the write, for selector transitions. */
  old: KubernetesObject | undefined;
}

interface OpenWatch {
  kindKey: string;
  gvk: GVK;
  matches: (obj: KubernetesObject) => boolean;
  stream: FakeWatchStream;
}

/**
 * The fake client's watch machinery: a bounded history of writes (older resourceVersions are
 * "compacted" and get 410 Gone), the open watches, and the knobs tests use to misbehave like a
 * real connection (close, go silent, bookmark).
 */
export class WatchHub {
  #historyLimit: number;
  #log: RecordedEvent[] = [];
  #compactedRv = 0;
  #watches = new Set<OpenWatch>();
  #silent = false;

  constructor(historyLimit: number) {
    this.#historyLimit = historyLimit;
  }

  get count(): number {
    return this.#watches.size;
  }

  /** Opens a watch from `from` (replaying history), or from now with synthetic ADDED events. */
  open(
    kindKey: string,
    gvk: GVK,
    matches: (obj: KubernetesObject) => boolean,
    from: number | undefined,
    current: () => KubernetesObject[],
    signal: AbortSignal | undefined,
  ): AsyncIterable<WatchEvent> {
    const w = { kindKey, gvk, matches } as OpenWatch;
    const stream = (w.stream = new FakeWatchStream(signal, () => this.#watches.delete(w)));
    if (from !== undefined && from < this.#compactedRv) {
      const message = `too old resource version: ${from} (${this.#compactedRv})`;
      stream.fail(
        statusErrorFrom({ status: 410, body: { kind: 'Status', code: 410, reason: 'Expired', message } }),
      );
      return stream;
    }
    if (this.#silent) stream.mute();
    if (from === undefined) {
      for (const o of current()) if (matches(o)) stream.push({ type: 'ADDED', object: o });
    } else {
      for (const ev of this.#log) if (ev.rv > from && ev.kindKey === kindKey) this.#deliver(w, ev);
    }
    if (!stream.ended) this.#watches.add(w);
    return stream;
  }

  record(ev: RecordedEvent): void {
    this.#log.push(ev);
    if (this.#log.length > this.#historyLimit) {
      const dropped = this.#log.splice(0, this.#log.length - this.#historyLimit);
      this.#compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const w of this.#watches) if (w.kindKey === ev.kindKey) this.#deliver(w, ev);
  }

  compact(rv: number): void {
    this.#compactedRv = rv;
    this.#log = [];
  }

  closeAll(): void {
    for (const w of this.#watches) w.stream.end();
    this.#watches.clear();
  }

  setSilent(silent: boolean): void {
    this.#silent = silent;
    if (silent) for (const w of this.#watches) w.stream.mute();
  }

  bookmark(rv: number): void {
    for (const w of this.#watches) {
      const object = {
        apiVersion: apiVersionOf(w.gvk),
        kind: w.gvk.kind,
        metadata: { resourceVersion: String(rv) },
      };
      w.stream.push({ type: 'BOOKMARK', object });
    }
  }

  // Selector semantics of a watch: an object entering the selection is ADDED, one leaving it is DELETED.
  #deliver(w: OpenWatch, ev: RecordedEvent): void {
    const now = w.matches(ev.obj);
    const before = ev.old !== undefined && w.matches(ev.old);
    let type: WatchEvent['type'] | undefined;
    if (ev.type === 'DELETED') type = before || now ? 'DELETED' : undefined;
    else if (ev.type === 'ADDED') type = now ? 'ADDED' : undefined;
    else type = now ? (before ? 'MODIFIED' : 'ADDED') : before ? 'DELETED' : undefined;
    if (type) w.stream.push({ type, object: structuredClone(ev.obj) });
  }
}

/**
 * The event stream behind a fake watch: an unbounded queue read by one async iterator. It ends
 * when the watch is closed, fails, or its signal aborts (quietly, like the real client).
 */
export class FakeWatchStream implements AsyncIterable<WatchEvent> {
  #queue: WatchEvent[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #muted = false;
  #error: Error | undefined;
  #onClose: () => void;

  constructor(signal: AbortSignal | undefined, onClose: () => void) {
    this.#onClose = onClose;
    if (signal?.aborted) this.end();
    signal?.addEventListener('abort', () => this.end(), { once: true });
  }

  push(ev: WatchEvent): void {
    if (this.#ended || this.#muted) return;
    this.#queue.push(ev);
    this.#notify();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Drops every later event, as a connection that stopped forwarding would. */
  mute(): void {
    this.#muted = true;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onClose();
    this.#notify();
  }

  fail(err: Error): void {
    this.#error = err;
    this.end();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent> {
    try {
      for (;;) {
        const next = this.#queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.#ended) break;
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
      if (this.#error) throw this.#error;
    } finally {
      this.end();
    }
  }
}
