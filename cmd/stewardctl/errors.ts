import {
  isNoKindMatch,
  isNotFound,
  isStatusError,
  NoKindMatchError,
  type StatusError,
} from '../../lib/index.js';

/**
 * A failure the CLI reports as one line on stderr. Exit codes: 0 success; 1 a Session (or
 * Workflow) failed, or the cluster said no; 2 bad usage or input.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad flags, arguments or input files: exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/**
 * Turns an API error into one clear line, keeping the server's own reason and message (what
 * kubectl shows): `what` names the object for NotFound, `crd` the CRD a NoKindMatch points to.
 */
export function explain(err: unknown, what?: string, crd = 'Session'): never {
  if (err instanceof CliError) throw err;
  if (isNoKindMatch(err) || err instanceof NoKindMatchError) {
    throw new CliError(`the ${crd} CRD is not installed in this cluster (kubectl apply -k manifests/crd)`);
  }
  if (isNotFound(err) && what) throw new CliError(`${what} not found`);
  if (isStatusError(err)) throw new CliError(serverError(err));
  throw new CliError(firstLine(err instanceof Error ? err.message : String(err)));
}

/** A failure the server answered, as kubectl words it: `Error from server (Reason): message`. */
export function serverError(err: StatusError): string {
  const message = err.body?.message ?? err.message;
  return firstLine(`Error from server${err.reason ? ` (${err.reason})` : ''}: ${message}`);
}

/** The first line of a message, so every error stays one line. */
export function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}
