/**
 * One control-plane process: started with its output in a log file (never a pipe, so a chatty
 * apiserver cannot block on a full buffer and tests keep no open handles), watched for an early
 * exit, and stopped with SIGTERM, then SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

import { trackProcess, untrackProcess } from './cleanup.js';
import { ProcessExitedError } from './errors.js';

export interface ProcessSpec {
  /** A short name for messages, e.g. `kube-apiserver`. */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logPath: string;
  /** Called with the pid once the process runs, so the watchdog can record it. */
  onStart?: (pid: number) => void;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<ExitStatus>;
  readonly #child: ChildProcess;
  #status: ExitStatus | undefined;
  #stopping = false;

  private constructor(spec: ProcessSpec) {
    this.name = spec.name;
    this.logPath = spec.logPath;
    const fd = openSync(spec.logPath, 'a');
    try {
      this.#child = spawn(spec.command, spec.args, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      const done = (status: ExitStatus) => {
        if (this.#status) return;
        this.#status = status;
        if (this.#child.pid !== undefined) untrackProcess(this.#child.pid);
        resolve(status);
      };
      this.#child.once('exit', (code, signal) => done({ code, signal }));
      // A spawn failure (ENOENT, EACCES) emits 'error' and no 'exit'.
      this.#child.once('error', () => done({ code: null, signal: null }));
    });
    // A running component must not keep the event loop alive: a test file that forgets stop()
    // would otherwise hang its Jest worker forever instead of exiting and letting the watchdog
    // clean up. stop() holds a timer while it waits, which keeps the process up until the exit.
    this.#child.unref();
    if (this.#child.pid !== undefined) {
      trackProcess(this.#child.pid);
      spec.onStart?.(this.#child.pid);
    }
  }

  static start(spec: ProcessSpec): ManagedProcess {
    return new ManagedProcess(spec);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get hasExited(): boolean {
    return this.#status !== undefined;
  }

  /**
   * Rejects with a `ProcessExitedError` if the process exits before `stop()`; never resolves.
   * Race it against a readiness wait so a crash fails fast with the log tail instead of timing out.
   */
  failOnExit(): Promise<never> {
    return new Promise<never>((_, reject) => {
      void this.exited.then((s) => {
        if (!this.#stopping) reject(new ProcessExitedError(this.name, s.code, s.signal, this.logTail()));
      });
    });
  }

  /** The last `lines` lines of the process's log, for error messages. */
  logTail(lines = 25): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
  async stop(graceMs = 5_000): Promise<void> {
    this.#stopping = true;
    if (this.#status) return;
    this.#child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    await this.exited;
  }
}
