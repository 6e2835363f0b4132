/**
 * Bookkeeping of failed Lease attempts, so that leader election that cannot succeed is loud
 * once and then quiet: the first failure of a run of failures is reported at once, a failure
 * with a new message too, and an unchanged one at most once per `reportEveryMs` with the count
 * of attempts since. Pure: times are passed in (monotonic milliseconds).
 */
export class AttemptFailures {
  readonly #reportEveryMs: number;
  // The current run of consecutive failures, if the last attempt failed.
  #run:
    { error: unknown; message: string; since: number; reportedAt: number; unreported: number } | undefined;
  #everSucceeded = false;

  constructor(reportEveryMs: number) {
    this.#reportEveryMs = reportEveryMs;
  }

  /** Records a failed attempt; says whether to report it, and how many went unreported before. */
  failed(error: unknown, now: number): { report: boolean; suppressed: number } {
    const message = error instanceof Error ? error.message : String(error);
    const run = this.#run;
    if (run === undefined || run.message !== message) {
      const suppressed = run?.unreported ?? 0;
      this.#run = { error, message, since: run?.since ?? now, reportedAt: now, unreported: 0 };
      return { report: true, suppressed };
    }
    run.error = error;
    if (now - run.reportedAt >= this.#reportEveryMs) {
      const suppressed = run.unreported;
      run.reportedAt = now;
      run.unreported = 0;
      return { report: true, suppressed };
    }
    run.unreported++;
    return { report: false, suppressed: 0 };
  }

  /** Records a successful attempt; returns how long the run of failures it ends lasted, if any. */
  succeeded(now: number): number | undefined {
    this.#everSucceeded = true;
    const run = this.#run;
    this.#run = undefined;
    return run === undefined ? undefined : now - run.since;
  }

  /**
   * The error to report as unhealthy: the last attempt failed and either no attempt ever
   * succeeded or the failures have lasted `graceMs` or more. Otherwise undefined.
   */
  persistent(now: number, graceMs: number): unknown {
    const run = this.#run;
    if (run === undefined) return undefined;
    return !this.#everSucceeded || now - run.since >= graceMs ? run.error : undefined;
  }
}
