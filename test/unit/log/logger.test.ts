import { jest } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { createLogger, silentLogger } from '../../../lib/log/logger.js';

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (b: Buffer) => lines.push(...b.toString('utf8').trim().split('\n')));
  return { stream, lines };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('createLogger', () => {
  test('a level below the logger’s is not even formatted; enabled levels are written', async () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: 'warn', stream });
    const child = logger.child({ controller: 'c' });
    const format = jest.spyOn(logger.format, 'transform');
    logger.info('dropped', { a: 1 });
    child.debug('dropped too');
    expect(format).not.toHaveBeenCalled();
    child.warn('kept', { b: 2 });
    await flush();
    expect(format).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'warn', message: 'kept', b: 2, controller: 'c' }),
    ]);
  });

  test('raising the level later applies at once', async () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: 'warn', stream });
    logger.info('before');
    logger.level = 'info';
    logger.info('after');
    await flush();
    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['after']);
  });

  test('the silent logger writes nothing', () => {
    const logger = silentLogger();
    const write = jest.spyOn(logger, 'write');
    logger.error('nothing');
    expect(write).not.toHaveBeenCalled();
  });
});
