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
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          return `${String(ts)} ${lvl} ${String(message)}${rest ? ` ${rest}` : ''}${stack ? `\n${String(stack)}` : ''}`;
        }),
      )
    : combine(errors({ stack: true, cause: true }), errorsAsFields, timestamp(), json());
  const logger = winston.createLogger({
    level,
    format,
    defaultMeta: opts.defaultMeta,
    transports: [
      opts.stream !== undefined
        ? new winston.transports.Stream({ stream: opts.stream })
        : new winston.transports.Console({ stderrLevels: LEVELS }),
    ],
  });
  return logger;
}

/** A logger that writes nothing: the default where none is given (libraries stay quiet). */
export function silentLogger(): Logger {
  return winston.createLogger({
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
}
