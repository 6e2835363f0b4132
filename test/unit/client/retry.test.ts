import {
  defaultRetryOptions,
  isRetriableNetworkError,
  isRetriableStatus,
  parseRetryAfter,
  retryDelayMs,
} from '../../../lib/client/retry.js';

describe('retry policy', () => {
  test('429 always; 5xx for reads, or for writes when the server sent Retry-After', () => {
    expect(isRetriableStatus(429, 'POST', false)).toBe(true);
    expect(isRetriableStatus(503, 'GET', false)).toBe(true);
    expect(isRetriableStatus(503, 'POST', false)).toBe(false);
    expect(isRetriableStatus(503, 'POST', true)).toBe(true);
    expect(isRetriableStatus(501, 'GET', true)).toBe(false);
    expect(isRetriableStatus(404, 'GET', true)).toBe(false);
    expect(isRetriableStatus(409, 'PUT', true)).toBe(false);
  });

  test('connection refused is retried for any method, a reset only for reads', () => {
    expect(isRetriableNetworkError({ code: 'ECONNREFUSED' }, 'POST')).toBe(true);
    expect(isRetriableNetworkError({ code: 'ECONNRESET' }, 'GET')).toBe(true);
    expect(isRetriableNetworkError({ code: 'ECONNRESET' }, 'POST')).toBe(false);
    expect(isRetriableNetworkError(new Error('x'), 'GET')).toBe(false);
  });

  test('Retry-After as seconds or HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter(new Date(now + 3000).toUTCString(), now)).toBe(3);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  test('delays: Retry-After wins, else exponential; both capped', () => {
    const o = { ...defaultRetryOptions, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4].map((r) => retryDelayMs(r, undefined, o))).toEqual([100, 200, 400, 800, 1000]);
    expect(retryDelayMs(0, 2, { ...o, maxDelayMs: 30_000 })).toBe(2000);
    expect(retryDelayMs(0, 3600, o)).toBe(1000);
  });
});
