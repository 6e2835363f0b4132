import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { KubeClient } from '../../../lib/client/kube-client.js';
import type { KubernetesObject } from '../../../lib/client/object.js';
import { parseWatchStream } from '../../../lib/client/watch-stream.js';
import { LoopbackApi } from './loopback.js';

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

describe('KubeClient.watch over HTTP: a response split inside characters', () => {
  let api: LoopbackApi;
  let client: KubeClient;

  beforeAll(async () => {
    api = await LoopbackApi.start();
    client = new KubeClient(api.kubeConfig(), { qps: -1, retry: { maxRetries: 0 } });
  });

  afterAll(async () => {
    client.close();
    await api.close();
  });

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
      api.respond = (_req, res: ServerResponse) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(Buffer.concat([first, second.subarray(0, k)]));
        rest = () => res.end(second.subarray(k));
      };
      const texts: string[] = [];
      for await (const ev of client.watch(CM, { namespace: 'ns' })) {
        texts.push(String((ev.object.data as { text?: string } | undefined)?.text));
        if (texts.length === 1) rest!();
      }
      expect([k, texts]).toEqual([k, ['ascii', TEXT]]);
    }
  });
});
