import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { jest } from '@jest/globals';
import { readChunks } from '../../../lib/client/read-chunks.js';
import { useLoopbackClient } from './loopback.js';

/**
 * `for await` over a byte stream joins whatever is buffered into one new Buffer taken from
 * Node's shared 64 KiB pool; readChunks hands over each chunk as it was pushed, so a watch
 * under load makes no copies and keeps no pool slabs alive.
 */

const bytes = (s: string) => Buffer.from(s, 'utf8');

async function collect(stream: Readable): Promise<Array<Buffer | string>> {
  const out: Array<Buffer | string> = [];
  for await (const c of readChunks(stream)) out.push(c);
  return out;
}

describe('readChunks', () => {
  test('chunks buffered together come out one by one, the very Buffers pushed', async () => {
    const r = new Readable({ read() {} });
    const pushed = [bytes('a'.repeat(300)), bytes('b'.repeat(300)), bytes('c'.repeat(300))];
    for (const c of pushed) r.push(c);
    r.push(null);
    const got = await collect(r);
    expect(got).toHaveLength(3);
    got.forEach((c, i) => expect(c).toBe(pushed[i]));
  });

  test("the stream's error comes after the chunks that came before it", async () => {
    const r = new Readable({ read() {} });
    r.push(bytes('one'));
    const got: string[] = [];
    const err = new Error('connection reset');
    queueMicrotask(() => r.destroy(err));
    await expect(
      (async () => {
        for await (const c of readChunks(r)) got.push(c.toString());
      })(),
    ).rejects.toBe(err);
    expect(got).toEqual(['one']);
  });

  test('a stream closed before its end is a premature close', async () => {
    const r = new Readable({ read() {} });
    r.push(bytes('one'));
    setImmediate(() => r.destroy());
    await expect(collect(r)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  test('a stream destroyed before it is read is a premature close', async () => {
    const r = new Readable({ read() {} });
    r.destroy();
    await expect(collect(r)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  test('leaving the loop early destroys the stream and lets go of it', async () => {
    const r = new Readable({ read() {} });
    r.push(bytes('one'));
    r.push(bytes('two'));
    for await (const c of readChunks(r)) {
      expect(c.toString()).toBe('one');
      break;
    }
    expect(r.destroyed).toBe(true);
    expect(r.listenerCount('data')).toBe(0);
  });

  test('backpressure: paused while more than the high-water mark waits, resumed once taken', async () => {
    const r = new Readable({ read() {}, highWaterMark: 10 });
    const it = readChunks(r)[Symbol.asyncIterator]();
    const first = it.next();
    r.push(bytes('123456'));
    expect((await first).value?.toString()).toBe('123456');
    // Nothing taken now: 12 bytes wait, more than 10.
    r.push(bytes('abcdef'));
    r.push(bytes('ghijkl'));
    expect(r.isPaused()).toBe(true);
    expect((await it.next()).value?.toString()).toBe('abcdef');
    expect((await it.next()).value?.toString()).toBe('ghijkl');
    // The queue drained: reading again.
    expect(r.isPaused()).toBe(false);
    r.push(null);
    expect((await it.next()).done).toBe(true);
  });
});

describe('KubeClient over HTTP: no pooled copies of response bytes', () => {
  const loop = useLoopbackClient();
  const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
  const event = (i: number) =>
    JSON.stringify({
      type: 'ADDED',
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, resourceVersion: `${i}` } },
    }) + '\n';

  afterEach(() => jest.restoreAllMocks());

  test('a burst of watch events is decoded without joining the chunks into new Buffers', async () => {
    loop.api.respond = (_req, res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // One write on the wire, twenty HTTP chunks: the client's parser pushes them all at once.
      res.cork();
      for (let i = 0; i < 20; i++) res.write(event(i));
      res.uncork();
      res.end();
    };
    const allocUnsafe = jest.spyOn(Buffer, 'allocUnsafe');
    const concat = jest.spyOn(Buffer, 'concat');
    const names: string[] = [];
    for await (const ev of loop.client.watch(CM, { namespace: 'ns' })) names.push(ev.object.metadata!.name!);
    expect(names).toEqual(Array.from({ length: 20 }, (_, i) => `cm-${i}`));
    expect(allocUnsafe).not.toHaveBeenCalled();
    // (The loopback server joins each request's body, empty here, in this same process.)
    expect(concat.mock.calls.filter(([list]) => list.length > 0)).toEqual([]);
  });

  test('a response body in many chunks, split inside a character, is read without joining Buffers', async () => {
    const items = Array.from({ length: 50 }, (_, i) => ({
      metadata: { name: `cm-${i}` },
      data: { t: 'é漢😀' },
    }));
    const body = bytes(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: {}, items }));
    loop.api.respond = (_req, res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.cork();
      // 7-byte pieces: many of them end inside a multi-byte character.
      for (let i = 0; i < body.length; i += 7) res.write(body.subarray(i, i + 7));
      res.uncork();
      res.end();
    };
    const allocUnsafe = jest.spyOn(Buffer, 'allocUnsafe');
    const concat = jest.spyOn(Buffer, 'concat');
    const list = await loop.client.list(CM, { namespace: 'ns' });
    expect(list.items.map((o) => (o as { data?: { t?: string } }).data?.t)).toEqual(items.map(() => 'é漢😀'));
    expect(allocUnsafe).not.toHaveBeenCalled();
    // (The loopback server joins each request's body, empty here, in this same process.)
    expect(concat.mock.calls.filter(([list]) => list.length > 0)).toEqual([]);
  });
});
