import type { Readable } from 'node:stream';

/**
 * A readable's chunks as they were pushed, one at a time, never joined.
 *
 * `for await (const chunk of readable)` calls `read()`, which returns everything buffered at
 * that moment as one chunk: when the consumer is slower than the network for a moment (an
 * informer under load always is), several chunks are buffered and copied into one new Buffer,
 * carved out of Node's shared 64 KiB allocation pool. On a watch that copy is made for most
 * events; the pool's slabs are malloc'd memory that lives until every slice of it has been
 * collected, so a busy watch kept megabytes of dead slabs and fragmented the C heap (measured:
 * 16.5 MiB of such copies for 2,000 Sessions). Here each chunk is handed over as the stream
 * emitted it, without a copy.
 *
 * Same contract as the async iterator otherwise: the stream's error is thrown (after the chunks
 * that came before it), a stream that closes before its end throws `ERR_STREAM_PREMATURE_CLOSE`,
 * and leaving the loop early destroys the stream. Backpressure: the stream is paused while more
 * than its `readableHighWaterMark` bytes wait here, and resumed once they have been taken.
 */
export async function* readChunks(stream: Readable): AsyncGenerator<Buffer | string> {
  const limit = Math.max(1, stream.readableHighWaterMark);
  let queue: Array<Buffer | string> = [];
  let head = 0;
  let queued = 0;
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (chunk: Buffer | string): void => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued > limit) stream.pause();
    notify();
  };
  const onEnd = (): void => {
    ended = true;
    notify();
  };
  const onError = (err: unknown): void => {
    failure ??= err;
    notify();
  };
  const onClose = (): void => {
    if (!ended) failure ??= prematureClose();
    notify();
  };
  stream.on('data', onData);
  stream.once('end', onEnd);
  stream.once('error', onError);
  stream.once('close', onClose);
  // A stream destroyed before we listened emits no more events.
  if (stream.destroyed && !stream.readableEnded) failure ??= stream.errored ?? prematureClose();
  try {
    for (;;) {
      if (head < queue.length) {
        const chunk = queue[head++]!;
        queued -= chunk.length;
        if (head === queue.length) {
          queue = [];
          head = 0;
          if (stream.isPaused() && !ended) stream.resume();
        }
        yield chunk;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', onError);
    stream.off('close', onClose);
    if (!ended && !stream.destroyed) stream.destroy();
  }
}

function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
