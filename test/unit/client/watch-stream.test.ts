import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { GoneError } from '../../../lib/client/errors.js';
import type { KubernetesObject } from '../../../lib/client/object.js';
import { parseWatchStream } from '../../../lib/client/watch-stream.js';
import { useLoopbackClient } from './loopback.js';

/**
 * A watch event's bytes may arrive in any number of chunks, split anywhere, including inside a
 * multi-byte UTF-8 character. Decoding each chunk on its own turns both halves of a split
 * character into U+FFFD; the decoder must carry the partial bytes over to the next chunk.
 */

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
// 2-, 3- and 4-byte UTF-8, next to one another and to ASCII.
const TEXT = 'aé漢😀zé😀漢';

const line = (name: string, text: string): string =>
  JSON.stringify({
    type: 'ADDED',
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, resourceVersion: '7' }, data: { text } },
  }) + '\n';

/** Byte offsets of `buf` that fall inside a multi-byte character (after its lead byte). */
function offsetsInsideCharacters(buf: Buffer): number[] {
  const out: number[] = [];
  // UTF-8 continuation bytes are 10xxxxxx: a split just before one cuts a character in two.
  for (let i = 1; i < buf.length; i++) if ((buf[i]! & 0xc0) === 0x80) out.push(i);
  return out;
}

async function parseChunks(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  for await (const ev of parseWatchStream<KubernetesObject>(Readable.from(chunks, { objectMode: true }))) {
    out.push(String((ev.object.data as { text?: string } | undefined)?.text));
  }
  return out;
}

describe('parseWatchStream: chunk boundaries inside characters', () => {
  const body = Buffer.from(line('one', TEXT) + line('two', TEXT), 'utf8');
  const inside = offsetsInsideCharacters(body);

  test('the fixture has 2-, 3- and 4-byte characters to split', () => {
    // é: 1 inner offset, 漢: 2, 😀: 3; TEXT has each twice, and the body has TEXT twice.
    expect(inside).toHaveLength(2 * 2 * (1 + 2 + 3));
  });

  test('split in two at every byte offset of the body', async () => {
    for (let k = 1; k < body.length; k++) {
      expect([k, await parseChunks([body.subarray(0, k), body.subarray(k)])]).toEqual([k, [TEXT, TEXT]]);
    }
  });

  test('split in three at every pair of offsets inside characters', async () => {
    for (const a of inside) {
      for (const b of inside) {
        if (b <= a) continue;
        const chunks = [body.subarray(0, a), body.subarray(a, b), body.subarray(b)];
        expect([a, b, await parseChunks(chunks)]).toEqual([a, b, [TEXT, TEXT]]);
      }
    }
  });

  test('one byte per chunk', async () => {
    const bytes = Array.from(body, (_, i) => body.subarray(i, i + 1));
    expect(await parseChunks(bytes)).toEqual([TEXT, TEXT]);
  });
});

/** Splits `buf` at the given offsets (any order, repeats allowed). */
function splitAt(buf: Buffer, offsets: number[]): Buffer[] {
  const cuts = [...new Set(offsets.map((o) => o % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...cuts, buf.length]) {
    out.push(buf.subarray(from, c));
    from = c;
  }
  return out;
}

describe('parseWatchStream: lines across and within chunks', () => {
  test('many events in one chunk', async () => {
    const texts = Array.from({ length: 500 }, (_, i) => `${i}${TEXT}`);
    const body = Buffer.from(texts.map((t, i) => line(`cm-${i}`, t)).join(''), 'utf8');
    expect(await parseChunks([body])).toEqual(texts);
  });

  test('one event across many chunks, and the next in the last of them', async () => {
    const big = TEXT.repeat(20_000);
    const body = Buffer.from(line('big', big) + line('small', TEXT), 'utf8');
    // 977 bytes a chunk (a prime, so chunk boundaries fall everywhere in the characters).
    const chunks = Array.from({ length: Math.ceil(body.length / 977) }, (_, i) =>
      body.subarray(i * 977, (i + 1) * 977),
    );
    expect(chunks.length).toBeGreaterThan(400);
    expect(await parseChunks(chunks)).toEqual([big, TEXT]);
  });

  test('any events split anywhere, empty chunks included, decode to the same events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        async (texts, offsets) => {
          const body = Buffer.from(texts.map((t, i) => line(`cm-${i}`, t)).join(''), 'utf8');
          expect(await parseChunks(splitAt(body, offsets))).toEqual(texts);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('blank lines and CRLF are skipped; a last line without a newline still counts', async () => {
    const body = '\n\r\n' + line('a', 'one').replace('\n', '\r\n') + '\n  \n' + line('b', 'two').trimEnd();
    expect(await parseChunks([Buffer.from(body, 'utf8')])).toEqual(['one', 'two']);
  });

  test('string chunks (a body with an encoding set) parse the same as bytes', async () => {
    const text = line('a', TEXT) + line('b', TEXT);
    const out: string[] = [];
    const strings = Readable.from([text.slice(0, 17), text.slice(17)], { objectMode: true });
    for await (const ev of parseWatchStream<KubernetesObject>(strings)) {
      out.push(String((ev.object.data as { text?: string }).text));
    }
    expect(out).toEqual([TEXT, TEXT]);
  });

  test('an ERROR event split across chunks throws its Status; a line that is not JSON throws', async () => {
    const gone = JSON.stringify({
      type: 'ERROR',
      object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 },
    });
    const body = Buffer.from(line('a', 'one') + gone + '\n', 'utf8');
    await expect(parseChunks(splitAt(body, [5, body.length - 7]))).rejects.toBeInstanceOf(GoneError);
    await expect(parseChunks([Buffer.from('{"type":"ADDED",\n', 'utf8')])).rejects.toBeInstanceOf(
      SyntaxError,
    );
  });
});

describe('KubeClient.watch over HTTP: a response split inside characters', () => {
  const loop = useLoopbackClient();

  test('every byte offset inside a multi-byte character of the second event', async () => {
    const first = Buffer.from(line('first', 'ascii'), 'utf8');
    const second = Buffer.from(line('second', TEXT), 'utf8');
    const inside = offsetsInsideCharacters(second);
    expect(inside).toHaveLength(2 * (1 + 2 + 3));
    for (const k of inside) {
      // The server sends the first event and the second up to byte k, then holds the rest until
      // the client has yielded the first event: so bytes k.. reach the client in a later read
      // than bytes ..k, and the split really happens inside the character.
      let rest: (() => void) | undefined;
      loop.api.respond = (_req, res: ServerResponse) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(Buffer.concat([first, second.subarray(0, k)]));
        rest = () => res.end(second.subarray(k));
      };
      const texts: string[] = [];
      for await (const ev of loop.client.watch(CM, { namespace: 'ns' })) {
        texts.push(String((ev.object.data as { text?: string } | undefined)?.text));
        if (texts.length === 1) rest!();
      }
      expect([k, texts]).toEqual([k, ['ascii', TEXT]]);
    }
  });
});
