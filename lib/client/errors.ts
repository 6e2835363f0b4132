/**
 * Errors the client raises. Every failed API call becomes a `StatusError` subclass chosen from
 * the API's `reason` (falling back to the HTTP status), so callers branch on classes or on the
 * stable `code` instead of parsing messages. Transport failures (connection refused, reset, TLS)
 * become a `RequestError` that keeps the underlying error as `cause`.
 */

/** The `Status` object the API server returns with a failure. */
export interface Status {
  kind?: 'Status';
  apiVersion?: string;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: Array<{ type?: string; message?: string; field?: string }>;
    retryAfterSeconds?: number;
  };
}

/** What a `StatusError` is built from: the response's status code and body. */
export interface StatusErrorInit {
  /** HTTP status code. */
  status: number;
  /** The API's machine-readable reason, e.g. `NotFound`; '' when the server gave none. */
  reason?: string;
  message?: string;
  body?: Status;
  /** What was being done, e.g. `GET /api/v1/namespaces/x/pods/y`, for the message. */
  request?: string;
  /** Seconds from the Retry-After header or `details.retryAfterSeconds`. */
  retryAfterSeconds?: number;
}

/** An API call that the server answered with a failure status. */
export class StatusError extends Error {
  /** Stable identifier of the failure class; subclasses override it. */
  readonly code: string = 'ERR_K8S_STATUS';
  /** HTTP status code. */
  readonly status: number;
  /** The API's reason (`NotFound`, `Conflict`, `AlreadyExists`, `Invalid`, …), or ''. */
  readonly reason: string;
  /** The full `Status` body when the server sent one. */
  readonly body: Status | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(init: StatusErrorInit) {
    const what = init.message ?? init.body?.message ?? `HTTP ${init.status}`;
    super(init.request ? `${init.request}: ${what}` : what);
    this.name = new.target.name;
    this.status = init.status;
    this.reason = init.reason ?? init.body?.reason ?? '';
    this.body = init.body;
    this.retryAfterSeconds = init.retryAfterSeconds ?? init.body?.details?.retryAfterSeconds;
  }
}

export class BadRequestError extends StatusError {
  override readonly code = 'ERR_K8S_BAD_REQUEST';
}
export class UnauthorizedError extends StatusError {
  override readonly code = 'ERR_K8S_UNAUTHORIZED';
}
export class ForbiddenError extends StatusError {
  override readonly code = 'ERR_K8S_FORBIDDEN';
}
export class NotFoundError extends StatusError {
  override readonly code = 'ERR_K8S_NOT_FOUND';
}
export class MethodNotAllowedError extends StatusError {
  override readonly code = 'ERR_K8S_METHOD_NOT_ALLOWED';
}
/** 409 with reason Conflict: the object changed since it was read (stale resourceVersion). */
export class ConflictError extends StatusError {
  override readonly code = 'ERR_K8S_CONFLICT';
}
/** 409 with reason AlreadyExists: create of a name that is taken. */
export class AlreadyExistsError extends StatusError {
  override readonly code = 'ERR_K8S_ALREADY_EXISTS';
}
/** 410: the requested resourceVersion is older than etcd's compaction window. */
export class GoneError extends StatusError {
  override readonly code = 'ERR_K8S_GONE';
}
/** 422: validation failed; `body.details.causes` lists the fields. */
export class InvalidError extends StatusError {
  override readonly code = 'ERR_K8S_INVALID';
}
export class TooManyRequestsError extends StatusError {
  override readonly code = 'ERR_K8S_TOO_MANY_REQUESTS';
}
export class InternalError extends StatusError {
  override readonly code = 'ERR_K8S_INTERNAL';
}
export class ServiceUnavailableError extends StatusError {
  override readonly code = 'ERR_K8S_SERVICE_UNAVAILABLE';
}
/** 504, or reason Timeout/ServerTimeout: the server gave up; the request may be retried. */
export class ServerTimeoutError extends StatusError {
  override readonly code = 'ERR_K8S_SERVER_TIMEOUT';
}

/** The request never got an HTTP answer: connection refused or reset, TLS failure, timeout. */
export class RequestError extends Error {
  readonly code = 'ERR_K8S_REQUEST';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RequestError';
  }
}

/**
 * A write the client refused to send because its `writeFence` said so: e.g. the Manager's
 * client while this process may have lost its leader Lease. Never sent, so never retried.
 */
export class WriteFencedError extends Error {
  readonly code = 'ERR_K8S_WRITE_FENCED';
  constructor(message: string) {
    super(message);
    this.name = 'WriteFencedError';
  }
}

/** Discovery does not know the kind (a CRD not installed, a typo in group or version). */
export class NoKindMatchError extends Error {
  readonly code = 'ERR_K8S_NO_KIND_MATCH';
  constructor(message: string) {
    super(message);
    this.name = 'NoKindMatchError';
  }
}

type StatusErrorClass = new (init: StatusErrorInit) => StatusError;

const byReason: Record<string, StatusErrorClass> = {
  BadRequest: BadRequestError,
  Unauthorized: UnauthorizedError,
  Forbidden: ForbiddenError,
  NotFound: NotFoundError,
  MethodNotAllowed: MethodNotAllowedError,
  Conflict: ConflictError,
  AlreadyExists: AlreadyExistsError,
  Gone: GoneError,
  Expired: GoneError,
  Invalid: InvalidError,
  TooManyRequests: TooManyRequestsError,
  InternalError: InternalError,
  ServiceUnavailable: ServiceUnavailableError,
  Timeout: ServerTimeoutError,
  ServerTimeout: ServerTimeoutError,
};

const byStatus: Record<number, StatusErrorClass> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  405: MethodNotAllowedError,
  409: ConflictError,
  410: GoneError,
  422: InvalidError,
  429: TooManyRequestsError,
  500: InternalError,
  503: ServiceUnavailableError,
  504: ServerTimeoutError,
};

/**
 * Builds the error for a failed response. The reason wins over the status code because some
 * statuses carry several failures (409 is Conflict or AlreadyExists) and some reasons arrive
 * with an unexpected code (a watch ERROR event for Expired reports 410 in `Status.code`).
 */
export function statusErrorFrom(init: StatusErrorInit): StatusError {
  const reason = init.reason ?? init.body?.reason ?? '';
  const Cls = byReason[reason] ?? byStatus[init.status] ?? StatusError;
  return new Cls(init);
}

function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/**
 * Whether `err` is any API failure (`StatusError`); matched by its stable `code`, so it works
 * across copies of the library.
 */
export const isStatusError = (err: unknown): err is StatusError => err instanceof StatusError;
/**
 * Whether `err` is 404 NotFound; matched by its stable `code`, so it works across copies of the
 * library.
 */
export const isNotFound = (err: unknown): err is NotFoundError => hasCode(err, 'ERR_K8S_NOT_FOUND');
/**
 * Whether `err` is 409 Conflict: a stale resourceVersion or a failed precondition; matched by its
 * stable `code`, so it works across copies of the library.
 */
export const isConflict = (err: unknown): err is ConflictError => hasCode(err, 'ERR_K8S_CONFLICT');
/**
 * Whether `err` is 409 AlreadyExists: the name is taken; matched by its stable `code`, so it works
 * across copies of the library.
 */
export const isAlreadyExists = (err: unknown): err is AlreadyExistsError =>
  hasCode(err, 'ERR_K8S_ALREADY_EXISTS');
/**
 * Whether `err` is 410 Gone / Expired: a resourceVersion too old to watch from; matched by its
 * stable `code`, so it works across copies of the library.
 */
export const isGone = (err: unknown): err is GoneError => hasCode(err, 'ERR_K8S_GONE');
/**
 * Whether `err` is 422 Invalid: the object fails validation; matched by its stable `code`, so it
 * works across copies of the library.
 */
export const isInvalid = (err: unknown): err is InvalidError => hasCode(err, 'ERR_K8S_INVALID');
/**
 * Whether `err` is 403 Forbidden: RBAC or admission said no; matched by its stable `code`, so it
 * works across copies of the library.
 */
export const isForbidden = (err: unknown): err is ForbiddenError => hasCode(err, 'ERR_K8S_FORBIDDEN');
/**
 * Whether `err` is 401 Unauthorized: no valid credentials; matched by its stable `code`, so it
 * works across copies of the library.
 */
export const isUnauthorized = (err: unknown): err is UnauthorizedError =>
  hasCode(err, 'ERR_K8S_UNAUTHORIZED');
/**
 * Whether `err` is 400 BadRequest; matched by its stable `code`, so it works across copies of the
 * library.
 */
export const isBadRequest = (err: unknown): err is BadRequestError => hasCode(err, 'ERR_K8S_BAD_REQUEST');
/**
 * Whether `err` is 429 TooManyRequests: throttled by the server; matched by its stable `code`, so
 * it works across copies of the library.
 */
export const isTooManyRequests = (err: unknown): err is TooManyRequestsError =>
  hasCode(err, 'ERR_K8S_TOO_MANY_REQUESTS');
/**
 * Whether `err` is 500 InternalError; matched by its stable `code`, so it works across copies of
 * the library.
 */
export const isInternalError = (err: unknown): err is InternalError => hasCode(err, 'ERR_K8S_INTERNAL');
/**
 * Whether `err` is 503 ServiceUnavailable; matched by its stable `code`, so it works across copies
 * of the library.
 */
export const isServiceUnavailable = (err: unknown): err is ServiceUnavailableError =>
  hasCode(err, 'ERR_K8S_SERVICE_UNAVAILABLE');
/**
 * Whether `err` is 504 or a Timeout/ServerTimeout reason: the server gave up; matched by its stable
 * `code`, so it works across copies of the library.
 */
export const isServerTimeout = (err: unknown): err is ServerTimeoutError =>
  hasCode(err, 'ERR_K8S_SERVER_TIMEOUT');
/**
 * Whether `err` is `NoKindMatchError`: discovery does not know the kind (CRD not installed);
 * matched by its stable `code`, so it works across copies of the library.
 */
export const isNoKindMatch = (err: unknown): err is NoKindMatchError => hasCode(err, 'ERR_K8S_NO_KIND_MATCH');

/**
 * Whether the request, or the object it would store, is too large: HTTP 413 (reason
 * RequestEntityTooLarge, a body over the API server's limit), or etcd refusing the write (a 500
 * saying `etcdserver: request is too large`: the stored object would pass etcd's request limit,
 * 1.5 MiB by default). Sending the same object again cannot succeed.
 */
export const isRequestEntityTooLarge = (err: unknown): err is StatusError =>
  isStatusError(err) &&
  (err.status === 413 ||
    err.reason === 'RequestEntityTooLarge' ||
    /etcdserver: request is too large/.test(err.message));

/** Returns undefined for a NotFound error and rethrows anything else (controller-runtime's IgnoreNotFound). */
export function ignoreNotFound(err: unknown): undefined {
  if (isNotFound(err)) return undefined;
  throw err;
}
