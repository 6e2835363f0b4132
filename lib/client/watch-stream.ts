import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { WatchEvent, WatchEventType } from './client.js';
import type { Status } from './errors.js';
import { statusErrorFrom } from './errors.js';
import type { KubernetesObject } from './object.js';

/**
 * Turns a watch response body (one JSON event per line) into events. An ERROR event ends the
 * stream by throwing its Status as a `StatusError`, so a 410 Expired surfaces as `GoneError`.
 * Lines that are not JSON are a protocol violation and throw too, rather than being skipped, so
 * the reflector re-establishes the watch instead of silently missing an event.
 *
 * Chunks are split wherever the network split them, including inside a multi-byte UTF-8
 * character; the decoder keeps the bytes of an incomplete character for the next chunk, so a
 * split never turns into U+FFFD.
 */
export async function* parseWatchStream<T extends KubernetesObject>(
  body: Readable,
): AsyncGenerator<WatchEvent<T>> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of body) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line !== '') yield decode<T>(line);
    }
  }
  pending += decoder.end();
  if (pending.trim() !== '') yield decode<T>(pending.trim());
}

function decode<T extends KubernetesObject>(line: string): WatchEvent<T> {
  const ev = JSON.parse(line) as { type: WatchEventType | 'ERROR'; object: unknown };
  if (ev.type === 'ERROR') {
    const status = ev.object as Status;
    throw statusErrorFrom({ status: status.code ?? 500, body: status, request: 'watch' });
  }
  return ev as WatchEvent<T>;
}
