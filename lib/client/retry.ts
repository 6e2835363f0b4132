/** When and how long the client waits before retrying a failed request. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 5; 0 disables retries. */
  maxRetries?: number;
  /** First wait when the server sent no Retry-After; doubles per retry. Default 500 ms. */
  baseDelayMs?: number;
  /** Upper bound of any single wait, Retry-After included. Default 30 000 ms. */
  maxDelayMs?: number;
}

/** The retry policy used when none is given: 5 retries, 500 ms doubling, 30 s cap. */
export const defaultRetryOptions: Required<RetryOptions> = {
  maxRetries: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Whether a failed attempt may be retried. 429 means the request was refused before it ran, so
 * any method may be retried. A 5xx with Retry-After is the server asking to come back (client-go
 * retries those for every method too). A 5xx without it may have been applied, so only reads are
 * retried; a write could otherwise create twice or apply a JSON patch twice.
 */
export function isRetriableStatus(status: number, method: string, hasRetryAfter: boolean): boolean {
  if (status === 429) return true;
  if (status >= 500 && status !== 501) return hasRetryAfter || SAFE_METHODS.has(method);
  return false;
}

// Connection failures that happen before the server could have seen the request are safe to
// retry for any method; a reset mid-exchange is only safe for reads.
const NEVER_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
const MAYBE_SENT = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET']);

/**
 * Whether a failure without an HTTP answer may be retried: before sending, for any method; a reset
 * mid-request, for reads only.
 */
export function isRetriableNetworkError(err: unknown, method: string): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return false;
  return NEVER_SENT.has(code) || (MAYBE_SENT.has(code) && SAFE_METHODS.has(method));
}

/** Parses a Retry-After header (delta-seconds or HTTP date) into seconds; undefined if absent or bad. */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined || header === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** The wait before retry number `retry` (0-based): Retry-After if given, else exponential; capped. */
export function retryDelayMs(
  retry: number,
  retryAfterSeconds: number | undefined,
  opts: Required<RetryOptions>,
): number {
  const want = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : opts.baseDelayMs * 2 ** retry;
  return Math.min(opts.maxDelayMs, Math.max(0, want));
}
