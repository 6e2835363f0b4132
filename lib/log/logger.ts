import winston from 'winston';
import { errorFields, isExpectedApiError } from './errors.js';

/** The logger type used throughout Steward: a winston logger (child loggers carry fields). */
export type Logger = winston.Logger;

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** winston level: error, warn, info, debug. Default `info`. */
  level?: string;
  /**
   * Readable single-line output with colours for a terminal, instead of JSON lines.
   * Default false (JSON, one object per line, for log pipelines).
   */
  development?: boolean;
  /** Where lines go. Default stderr (stdout stays free for a command's own output). */
  stream?: NodeJS.WritableStream;
  /** Fields on every line. */
  defaultMeta?: Record<string, unknown>;
}

const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'];

/**
 * `JSON.stringify` for the readable format, which must never throw: a reference cycle is shown
 * as "[Circular]" and a BigInt as its digits (the JSON format's serialiser does the same). A
 * logging call that throws would end whatever was reporting a failure (a worker, an informer).
 */
function readableJson(value: unknown): string {
  const ancestors: unknown[] = [];
  const text = JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object' || v === null) return v;
    // `this` is the object holding `v`: pop back to it, so only the path to `v` is its ancestry.
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(v)) return '[Circular]';
    ancestors.push(v);
    return v;
  }) as string | undefined;
  return text ?? String(value);
}

/** Builds the process logger: JSON lines in production, readable lines in development mode. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  if (!LEVELS.includes(level))
    throw new RangeError(`unknown log level ${level}; one of ${LEVELS.join(', ')}`);
  const { combine, timestamp, errors, json, printf, colorize } = winston.format;
  // Errors anywhere in a line's fields become { name, message, stack, code, reason, status,
  // cause }; an expected API error's stack is kept only when logging at debug. `logger` is
  // read when a line is written, so a level changed later is honoured.
  const errorsAsFields = errorFields({
    stack: (err: Error) => !isExpectedApiError(err) || logger.isDebugEnabled(),
  });
  const format = opts.development
    ? combine(
        errors({ stack: true, cause: true }),
        errorsAsFields,
        timestamp({ format: 'HH:mm:ss.SSS' }),
        colorize(),
        printf(({ level: lvl, message, timestamp: ts, stack, ...fields }) => {
          const rest = Object.entries(fields)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : readableJson(v)}`)
            .join(' ');
          return `${String(ts)} ${lvl} ${String(message)}${rest ? ` ${rest}` : ''}${stack ? `\n${String(stack)}` : ''}`;
        }),
      )
    : combine(errors({ stack: true, cause: true }), errorsAsFields, timestamp(), json());
  const logger = skipDisabledLevels(
    winston.createLogger({
      level,
      format,
      defaultMeta: opts.defaultMeta,
      transports: [
        opts.stream !== undefined
          ? new winston.transports.Stream({ stream: opts.stream })
          : new winston.transports.Console({ stderrLevels: LEVELS }),
      ],
    }),
  );
  return logger;
}

/**
 * winston formats every line (timestamp, JSON) before its transports drop the ones below their
 * level, so a disabled `debug` or `info` call costs as much as a written one. This returns early
 * from the level methods (`logger.info(...)` and the like, on the logger and its children)
 * when no transport would write the level, checked on each call so a later change of
 * `logger.level` still applies.
 */
function skipDisabledLevels(logger: Logger): Logger {
  const proto = Object.getPrototypeOf(logger) as Record<string, unknown>;
  for (const level of Object.keys(logger.levels)) {
    const write = proto[level];
    if (typeof write !== 'function') continue;
    proto[level] = function (this: Logger, ...args: unknown[]) {
      const self = this ?? logger;
      if (self.silent || !self.isLevelEnabled(level)) return self;
      return (write as (...a: unknown[]) => Logger).apply(self, args);
    };
  }
  return logger;
}

/** A logger that writes nothing: the default where none is given (libraries stay quiet). */
export function silentLogger(): Logger {
  return skipDisabledLevels(
    winston.createLogger({
      silent: true,
      transports: [new winston.transports.Console({ silent: true })],
    }),
  );
}
