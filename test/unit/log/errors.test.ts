// Logged errors keep their message, stack, cause chain and API fields: read back from a real
// logger's JSON output, for the errors a controller actually logs.
import { PassThrough } from 'node:stream';
import { runInNewContext } from 'node:vm';
import { ConflictError, RequestError, statusErrorFrom } from '../../../lib/client/errors.js';
import { Controller } from '../../../lib/controller/index.js';
import { createLogger, type Logger } from '../../../lib/log/index.js';
import { serializeError } from '../../../lib/log/errors.js';
import { FakeClock } from '../../../lib/testing/index.js';

/** A parsed JSON log line. */
type Line = Record<string, unknown> & { error?: unknown };

function captured(level = 'info'): { logger: Logger; lines: () => Array<Line> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return {
    logger: createLogger({ level, stream }),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line),
  };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Runs one reconcile of `a` that throws `err`, and returns the log line about it. */
async function logOfThrowing(err: unknown, level = 'info'): Promise<Line> {
  const { logger, lines } = captured(level);
  const c = new Controller(
    'logs',
    {
      reconcile: async () => {
        throw err;
      },
    },
    { logger },
  );
  const stop = new AbortController();
  const running = c.start(stop.signal);
  c.enqueue({ namespace: 'ns', name: 'a' });
  let line: Line | undefined;
  for (let i = 0; i < 100 && line === undefined; i++) {
    await flush();
    line = lines().find((l) => l.level === 'error');
  }
  stop.abort();
  await running;
  if (line === undefined) throw new Error(`no error line in ${JSON.stringify(lines())}`);
  return line;
}

describe('logged errors', () => {
  test('a thrown reconcile error: message, stack, cause chain', async () => {
    const root = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });
    const err = new Error('cannot create the Job', { cause: new Error('upstream failed', { cause: root }) });
    const line = await logOfThrowing(err);
    expect(line).toMatchObject({
      message: 'Reconciler error',
      controller: 'logs',
      namespace: 'ns',
      name: 'a',
      error: {
        name: 'Error',
        message: 'cannot create the Job',
        stack: expect.stringContaining('cannot create the Job\n    at '),
        cause: {
          message: 'upstream failed',
          stack: expect.stringContaining('at '),
          cause: { message: 'connect ECONNREFUSED 10.0.0.1:443', code: 'ECONNREFUSED', syscall: 'connect' },
        },
      },
    });
  });

  test('a panic: the TypeError with its stack', async () => {
    const line = await logOfThrowing(new TypeError("Cannot read properties of undefined (reading 'spec')"));
    expect(line).toMatchObject({
      message: 'Observed a panic in reconciler',
      error: {
        name: 'TypeError',
        message: "Cannot read properties of undefined (reading 'spec')",
        stack: expect.stringMatching(/^TypeError: Cannot read properties.*\n {4}at /),
      },
    });
  });

  test('a thrown non-Error is logged as its value', async () => {
    const line = await logOfThrowing('just a string');
    expect(line.error).toBe('just a string');
  });

  test('an API error carries code, reason and status; its stack only at debug', async () => {
    const conflict = () =>
      statusErrorFrom({
        status: 409,
        body: { kind: 'Status', reason: 'Conflict', code: 409, message: 'the object has been modified' },
        request: 'PUT /apis/batch/v1/namespaces/ns/jobs/a',
      });
    const info = await logOfThrowing(conflict());
    expect(info.error).toEqual({
      name: 'ConflictError',
      message: 'PUT /apis/batch/v1/namespaces/ns/jobs/a: the object has been modified',
      code: 'ERR_K8S_CONFLICT',
      reason: 'Conflict',
      status: 409,
    });
    const debug = await logOfThrowing(conflict(), 'debug');
    expect((debug.error as { stack?: string }).stack).toMatch(/^ConflictError: PUT .*\n {4}at /);
  });

  test('errors nested in metadata, and logger.error(err) itself', () => {
    const { logger, lines } = captured();
    const err = new RangeError('bad knob');
    logger.warn('nested', { outer: { inner: err, list: [err] } });
    logger.error(new RequestError('GET /api: socket hang up', { cause: new Error('socket hang up') }));
    const [nested, direct] = lines();
    const outer = nested!.outer as { inner: unknown; list: unknown[] };
    expect(outer.inner).toMatchObject({ name: 'RangeError', message: 'bad knob' });
    expect(outer.list[0]).toMatchObject({ name: 'RangeError', message: 'bad knob' });
    expect(direct).toMatchObject({
      message: 'GET /api: socket hang up',
      code: 'ERR_K8S_REQUEST',
      cause: { message: 'socket hang up' },
    });
  });

  test('serializeError: AggregateError, non-Error causes, circular causes', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const s = serializeError(new AggregateError([a, 'x'], 'many', { cause: { why: 'because' } }));
    expect(s).toMatchObject({ name: 'AggregateError', message: 'many', cause: '{"why":"because"}' });
    expect(s.errors?.[0]).toMatchObject({ message: 'a', cause: { message: 'b', cause: { message: 'a' } } });
    expect(s.errors?.[1]).toBe('x');
    expect(JSON.stringify(s).length).toBeLessThan(20_000);
    expect(serializeError(new ConflictError({ status: 409 }), { stack: () => false }).stack).toBeUndefined();
  });
});

describe('thrown values a plain JSON.stringify would lose', () => {
  test('undefined, a symbol, a function, a BigInt and a field-less class instance are named', async () => {
    class Oops {}
    const shown = [];
    for (const v of [undefined, Symbol('boom'), function namedFn() {}, 10n, new Oops()])
      shown.push((await logOfThrowing(v)).error);
    expect(shown).toEqual(['undefined', 'Symbol(boom)', '[Function: namedFn]', '10n', 'Oops {}']);
  });

  test('an object with a reference cycle is logged, the cycle marked', async () => {
    const cyclic: Record<string, unknown> = { reason: 'loop' };
    cyclic.self = cyclic;
    expect((await logOfThrowing(cyclic)).error).toEqual({ reason: 'loop', self: '[Circular]' });
  });

  test('an Error made in another realm (a vm context; Node core errors under Jest) is not {}', async () => {
    const foreign = runInNewContext('new RangeError("from another realm")') as Error;
    expect(foreign instanceof Error).toBe(false);
    const line = await logOfThrowing(foreign);
    expect(line.error).toMatchObject({
      name: 'RangeError',
      message: 'from another realm',
      stack: expect.stringContaining('from another realm'),
    });
    const wrapped = serializeError(new Error('outer', { cause: foreign }));
    expect(wrapped.cause).toMatchObject({ name: 'RangeError', message: 'from another realm' });
  });
});

describe('errors whose properties throw when read', () => {
  // A getter that throws (a lazy field of a library's error, a Proxy) made the logger throw
  // inside the controller's catch block, which ended the worker and Controller.start.
  test('what can be read is logged; the property that throws says so', async () => {
    const err = new Error('boom');
    Object.defineProperty(err, 'code', {
      enumerable: true,
      get() {
        throw new Error('lazy field failed');
      },
    });
    const line = await logOfThrowing(err);
    expect(line.error).toMatchObject({
      name: 'Error',
      message: 'boom',
      code: '[unreadable: lazy field failed]',
      stack: expect.stringContaining('boom'),
    });
  });

  test('a metadata object whose getter throws does not make the logging call throw', () => {
    const { logger, lines } = captured();
    const hostile = {
      get detail(): string {
        throw new Error('no');
      },
    };
    expect(() => logger.warn('hostile', { hostile })).not.toThrow();
    expect(lines()[0]).toMatchObject({ message: 'hostile', hostile: '[unreadable: no]' });
  });
});

describe('development mode (readable lines)', () => {
  function devCaptured(): { logger: Logger; text: () => string } {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    return { logger: createLogger({ development: true, stream }), text: () => text };
  }

  test('a cyclic object or a BigInt in a field is written, never thrown', () => {
    const { logger, text } = devCaptured();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => logger.error('cyclic', { detail: cyclic, count: 10n })).not.toThrow();
    expect(text()).toContain('detail={"a":1,"self":"[Circular]"}');
    expect(text()).toContain('count="10"');
  });

  test('a reconciler throwing a cyclic object does not end the worker', async () => {
    const { logger, text } = devCaptured();
    const clock = new FakeClock();
    let calls = 0;
    const c = new Controller(
      'dev',
      {
        reconcile: async () => {
          calls++;
          const cyclic: Record<string, unknown> = { n: calls };
          cyclic.self = cyclic;
          throw cyclic;
        },
      },
      { logger, clock, rateLimiter: { when: () => 1, forget: () => {}, numRequeues: () => 0 } },
    );
    const stop = new AbortController();
    let ended: unknown = 'running';
    const running = c.start(stop.signal).then(
      () => (ended = 'resolved'),
      (err: unknown) => (ended = err),
    );
    c.enqueue({ name: 'a' });
    for (let i = 0; i < 20 && calls < 3; i++) {
      await flush();
      clock.step(1);
    }
    expect({ calls: Math.min(calls, 3), ended }).toEqual({ calls: 3, ended: 'running' });
    expect(text()).toContain('Observed a panic in reconciler');
    stop.abort();
    await running;
  });
});
