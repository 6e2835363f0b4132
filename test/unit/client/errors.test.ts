import {
  AlreadyExistsError,
  ConflictError,
  GoneError,
  InvalidError,
  NotFoundError,
  StatusError,
  TooManyRequestsError,
  ignoreNotFound,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  statusErrorFrom,
} from '../../../lib/client/errors.js';

describe('statusErrorFrom', () => {
  test('picks the class from the reason before the status code', () => {
    const exists = statusErrorFrom({
      status: 409,
      body: { kind: 'Status', reason: 'AlreadyExists', message: 'x exists' },
    });
    const conflict = statusErrorFrom({ status: 409, body: { kind: 'Status', reason: 'Conflict' } });
    expect(exists).toBeInstanceOf(AlreadyExistsError);
    expect(exists.code).toBe('ERR_K8S_ALREADY_EXISTS');
    expect(exists.message).toBe('x exists');
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(statusErrorFrom({ status: 410, reason: 'Expired' })).toBeInstanceOf(GoneError);
    expect(statusErrorFrom({ status: 500, reason: 'Expired' })).toBeInstanceOf(GoneError);
  });

  test('falls back to the status code, then to StatusError', () => {
    expect(statusErrorFrom({ status: 404 })).toBeInstanceOf(NotFoundError);
    expect(statusErrorFrom({ status: 422 })).toBeInstanceOf(InvalidError);
    expect(statusErrorFrom({ status: 429 })).toBeInstanceOf(TooManyRequestsError);
    const other = statusErrorFrom({ status: 418 });
    expect(other.constructor).toBe(StatusError);
    expect(other.code).toBe('ERR_K8S_STATUS');
  });

  test('keeps status, reason, body, retry-after and the request in the message', () => {
    const err = statusErrorFrom({
      status: 429,
      body: {
        kind: 'Status',
        reason: 'TooManyRequests',
        message: 'slow down',
        details: { retryAfterSeconds: 3 },
      },
      request: 'GET /api/v1/pods',
    });
    expect(err.status).toBe(429);
    expect(err.reason).toBe('TooManyRequests');
    expect(err.retryAfterSeconds).toBe(3);
    expect(err.message).toBe('GET /api/v1/pods: slow down');
    expect(err.name).toBe('TooManyRequestsError');
    expect(err).toBeInstanceOf(Error);
  });
});

describe('helpers', () => {
  test('is* helpers match by code, and reject other values', () => {
    expect(isNotFound(new NotFoundError({ status: 404 }))).toBe(true);
    expect(isNotFound(new ConflictError({ status: 409 }))).toBe(false);
    expect(isNotFound(undefined)).toBe(false);
    expect(isNotFound('NotFound')).toBe(false);
    expect(isConflict(new ConflictError({ status: 409 }))).toBe(true);
    expect(isAlreadyExists(new AlreadyExistsError({ status: 409 }))).toBe(true);
    expect(isGone(new GoneError({ status: 410 }))).toBe(true);
  });

  test('ignoreNotFound swallows NotFound only', () => {
    expect(ignoreNotFound(new NotFoundError({ status: 404 }))).toBeUndefined();
    expect(() => ignoreNotFound(new ConflictError({ status: 409 }))).toThrow(ConflictError);
  });
});
