/**
 * Failures of the test control plane, one class per cause, each with a stable `code` so callers
 * can tell them apart without parsing messages.
 */

/** Base class of every control-plane error. */
export class ControlPlaneError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A binary (etcd, kube-apiserver, ...) or kwok's stage directory is not where it should be. */
export class BinaryNotFoundError extends ControlPlaneError {
  readonly binary: string;

  constructor(binary: string, message: string) {
    super('ERR_BINARY_NOT_FOUND', message);
    this.binary = binary;
  }
}

/** A control-plane process exited while it was expected to keep running. */
export class ProcessExitedError extends ControlPlaneError {
  readonly process: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;

  constructor(process: string, exitCode: number | null, signal: NodeJS.Signals | null, logTail: string) {
    super(
      'ERR_PROCESS_EXITED',
      `${process} exited (${signal ?? `code ${exitCode}`}) before it was stopped; last log lines:\n${logTail}`,
    );
    this.process = process;
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/** Waiting for something (readiness, a condition) ran past its deadline. */
export class WaitTimeoutError extends ControlPlaneError {
  constructor(what: string, timeoutMs: number, lastError?: unknown) {
    const why = lastError instanceof Error ? `: ${lastError.message}` : '';
    super('ERR_WAIT_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}${why}`, {
      cause: lastError,
    });
  }
}

/** Making keys or certificates failed (the `openssl` CLI is missing or refused the request). */
export class CertificateError extends ControlPlaneError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_CERTIFICATE', message, options);
  }
}

/** The control plane was used after `stop()`. */
export class ControlPlaneStoppedError extends ControlPlaneError {
  constructor(message: string) {
    super('ERR_CONTROL_PLANE_STOPPED', message);
  }
}
