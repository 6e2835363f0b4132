import type { WatchEvent, WatchEventType } from './client.js';
import type { Status } from './errors.js';
import { statusErrorFrom } from './errors.js';
import type { KubernetesObject } from './object.js';

const NEWLINE = 0x0a;

/**
 * Turns a watch response body (one JSON event per line) into events. An ERROR event ends the
 * stream by throwing its Status as a `StatusError`, so a 410 Expired surfaces as `GoneError`.
 * Lines that are not JSON are a protocol violation and throw too, rather than being skipped, so
 * the reflector re-establishes the watch instead of silently missing an event.
 *
 * Lines are found in the bytes, not in decoded text: a newline byte (0x0A) never occurs inside a
 * multi-byte UTF-8 character (whose bytes are all >= 0x80), so a line is decoded only once it is
 * whole, and a chunk split inside a character never turns into U+FFFD. Each byte is looked at
 * once: the bytes of a line that has not ended yet are kept as they came, and only the new
 * chunk is searched, so an object arriving in many chunks costs what its size does, not the
 * square of its chunk count.
 */
export async function* parseWatchStream<T extends KubernetesObject>(
  body: AsyncIterable<Buffer | string>,
): AsyncGenerator<WatchEvent<T>> {
  // The chunks (or tails of chunks) of the line that has not ended yet, in order.
  let partial: Buffer[] = [];
  for await (const data of body) {
    const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : (data as Buffer);
    let start = 0;
    let nl = chunk.indexOf(NEWLINE);
    while (nl >= 0) {
      let line: Buffer;
      if (partial.length === 0) line = chunk.subarray(start, nl);
      else {
        partial.push(chunk.subarray(start, nl));
        line = Buffer.concat(partial);
        partial = [];
      }
      const event = decodeLine<T>(line);
      if (event !== undefined) yield event;
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) partial.push(start === 0 ? chunk : chunk.subarray(start));
  }
  if (partial.length > 0) {
    const event = decodeLine<T>(partial.length === 1 ? partial[0]! : Buffer.concat(partial));
    if (event !== undefined) yield event;
  }
}

/** The event of one line, or undefined for a blank one. */
function decodeLine<T extends KubernetesObject>(bytes: Buffer): WatchEvent<T> | undefined {
  const line = bytes.toString('utf8').trim();
  return line === '' ? undefined : decode<T>(line);
}

function decode<T extends KubernetesObject>(line: string): WatchEvent<T> {
  const ev = JSON.parse(line) as { type: WatchEventType | 'ERROR'; object: unknown };
  if (ev.type === 'ERROR') {
    const status = ev.object as Status;
    throw statusErrorFrom({ status: status.code ?? 500, body: status, request: 'watch' });
  }
  return ev as WatchEvent<T>;
}
