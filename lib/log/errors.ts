import { inspect, types } from 'node:util';
import winston from 'winston';

/** An `Error` as it appears in a log line: JSON-safe, with its cause chain. */
export interface SerializedError {
  name: string;
  message: string;
  /** Omitted for expected API errors unless the logger logs at debug. */
  stack?: string;
  /** Stable identifiers and API fields when the error has them: code, reason, status, errno, syscall… */
  [field: string]: unknown;
  cause?: SerializedError | string | number | boolean | null;
  /** An `AggregateError`'s errors. */
  errors?: Array<SerializedError | string>;
}

/** Options of `serializeError`. */
export interface SerializeErrorOptions {
  /**
   * Whether to include the stack of `err`. Default: always. The logger passes a rule that drops
   * the stack of expected API errors (a 409, a 404, a refused connection) unless it logs at
   * debug: their stack says nothing their message does not.
   */
  stack?: (err: Error) => boolean;
}

// The cause chain is followed this deep; deeper (or circular) chains are cut there.
const MAX_DEPTH = 5;

/**
 * Whether `v` is an Error, including one made in another realm (a `vm` context, or Node's own
 * errors seen from code that Jest runs in a context of its own), where `instanceof Error` is
 * false and the error would be logged as `{}`.
 */
export function isError(v: unknown): v is Error {
  return v instanceof Error || types.isNativeError(v);
}

/**
 * An error the client raises for an API answer or a failed request (`StatusError`,
 * `RequestError`, `NoKindMatchError`, …): expected in a controller's life, told apart by its
 * stable `ERR_K8S_*` code. Duck-typed so that lib/log does not depend on lib/client.
 */
export function isExpectedApiError(err: unknown): boolean {
  const code = isError(err) ? read(err, 'code') : undefined;
  return isError(err) && typeof code === 'string' && code.startsWith('ERR_K8S_');
}

/**
 * Turns an `Error` into a plain object that `JSON.stringify` keeps: `JSON.stringify(new
 * Error('x'))` is `{}`, because `message` and `stack` are not enumerable. Keeps name, message,
 * stack, every own field with a primitive value (code, reason, status for API errors; errno,
 * syscall, address for system errors), the `cause` chain and an `AggregateError`'s errors.
 */
export function serializeError(err: Error, opts: SerializeErrorOptions = {}, depth = 0): SerializedError {
  const out: SerializedError = { name: String(read(err, 'name')), message: String(read(err, 'message')) };
  for (const k of Object.keys(err)) {
    if (k === 'cause' || k === 'errors' || k === 'name' || k === 'message' || k === 'stack') continue;
    const v = read(err, k);
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v;
  }
  const stack = read(err, 'stack');
  if (stack !== undefined && (opts.stack?.(err) ?? true)) out.stack = String(stack);
  if (depth >= MAX_DEPTH) return out;
  const cause = read(err, 'cause');
  if (isError(cause)) out.cause = serializeError(cause, opts, depth + 1);
  else if (cause !== undefined) out.cause = primitiveOrString(cause);
  const errors = read(err, 'errors');
  if (out.name === 'AggregateError' && Array.isArray(errors)) {
    out.errors = errors.map((e: unknown) => (isError(e) ? serializeError(e, opts, depth + 1) : String(e)));
  }
  return out;
}

/**
 * `obj[key]`, or a string saying why it could not be read: a getter that throws (a library's
 * lazy field, a Proxy) must not make the logging call throw, which would end whatever was
 * reporting a failure (a controller's worker, an informer).
 */
function read(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch (err) {
    return unreadable(err);
  }
}

function unreadable(err: unknown): string {
  try {
    return `[unreadable: ${isError(err) ? err.message : String(err)}]`;
  } catch {
    return '[unreadable]';
  }
}

function primitiveOrString(v: unknown): string | number | boolean | null {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Replaces every Error in a metadata value (nested in objects and arrays, a few levels deep). */
function replaceErrors(value: unknown, opts: SerializeErrorOptions, depth: number): unknown {
  if (isError(value)) return serializeError(value, opts);
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((v, i) => {
      const r = replaceErrors(v, opts, depth + 1);
      if (r !== v) (copy ??= [...value])[i] = r;
    });
    return copy ?? value;
  }
  // Only plain objects are walked; class instances (Dates, Buffers, …) keep their own toJSON.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = replaceErrors(v, opts, depth + 1);
    if (r !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return copy ?? value;
}

/**
 * What was thrown, as the `error` field shows it when it is not an Error: JSON keeps strings,
 * numbers, booleans, null, arrays and objects with fields; anything it would drop or show as
 * `{}` (undefined, a symbol, a function, a BigInt, a class instance without fields) is named
 * the way `util.inspect` names it, so a line about a failure always says what failed.
 */
function thrownValue(v: unknown): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'object') {
    const proto: unknown = Object.getPrototypeOf(v);
    if (Array.isArray(v) || proto === Object.prototype || proto === null || Object.keys(v).length > 0)
      return v;
  }
  return inspect(v, { depth: 2, breakLength: Infinity });
}

/**
 * A winston format that serialises `Error` values anywhere in a line's metadata
 * (`logger.error('Reconcile failed', { error: err })`), which winston's own `json` format
 * would write as `{}`. The `error` field holds what was thrown, whatever it is (see
 * `thrownValue`). Run it before `json`/`printf`.
 */
export const errorFields = winston.format((info, formatOpts?: unknown) => {
  const opts = (formatOpts ?? {}) as SerializeErrorOptions;
  for (const [k, v] of Object.entries(info)) {
    if (k === 'level' || k === 'message') continue;
    let r: unknown;
    try {
      r = replaceErrors(k === 'error' && !isError(v) ? thrownValue(v) : v, opts, 0);
    } catch (err) {
      // A getter in the value threw (serializeError reads each field with care; plain objects
      // and inspect do not): the field says so rather than the line being lost.
      r = unreadable(err);
    }
    if (r !== v) info[k] = r;
  }
  if (isError(info.message)) info.message = info.message.message;
  return info;
});
