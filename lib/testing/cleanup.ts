/**
 * Makes sure a control plane leaves nothing behind, whatever way the process ends.
 *
 * Three layers, because each covers what the one before cannot:
 * 1. `stop()` stops the processes gracefully and removes the directory (control-plane.ts).
 * 2. Handlers for `exit`, SIGINT, SIGTERM and SIGHUP kill what is still registered here and
 *    remove its directories synchronously, for a test run that is interrupted or forgets stop().
 * 3. A watchdog shell per control plane, outside this process, kills the recorded pids and removes
 *    the directory once this process is gone: the only layer that survives SIGKILL or a crash.
 *    It is also what acts under Jest, whose test files see a copy of `process` whose events
 *    never fire: there the clean-up follows within a second of the worker's exit.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

interface Registry {
  pids: Set<number>;
  dirs: Set<string>;
  installed: boolean;
}

// Jest gives every test file its own module registry, so module-level state would be duplicated
// (and the handlers installed again) per file; one registry per real process lives on globalThis.
const REGISTRY_KEY = Symbol.for('steward.testing.cleanup');
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function registry(): Registry {
  const g = globalThis as { [REGISTRY_KEY]?: Registry };
  g[REGISTRY_KEY] ??= { pids: new Set(), dirs: new Set(), installed: false };
  const r = g[REGISTRY_KEY];
  if (!r.installed) {
    r.installed = true;
    process.on('exit', cleanUpNow);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  return r;
}

/** Kills every registered process and removes every registered directory, synchronously. */
export function cleanUpNow(): void {
  const r = registry();
  for (const pid of r.pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  r.pids.clear();
  for (const dir of r.dirs) rmSync(dir, { recursive: true, force: true });
  r.dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles this signal (a cluster runner calling stop(), say): leave it to them;
  // the exit handler still runs if they end the process.
  if (process.listenerCount(signal) > 1) return;
  cleanUpNow();
  // Listening for a signal replaces Node's default of exiting on it: restore the default and
  // re-raise, so an interrupted run still ends, with the status a signal gives.
  process.off(signal, onSignal);
  process.kill(process.pid, signal);
}

export function trackProcess(pid: number): void {
  registry().pids.add(pid);
}

export function untrackProcess(pid: number): void {
  registry().pids.delete(pid);
}

export function trackDirectory(dir: string): void {
  registry().dirs.add(dir);
}

export function untrackDirectory(dir: string): void {
  registry().dirs.delete(dir);
}

// Polls once a second: it exits by itself as soon as `dir` is removed (a normal stop()), and when
// the parent is gone it kills the pids listed in `dir`/pids and removes `dir`.
const WATCHDOG_SCRIPT = `
parent=$1; dir=$2
while kill -0 "$parent" 2>/dev/null; do
  [ -d "$dir" ] || exit 0
  sleep 1
done
[ -f "$dir/pids" ] && kill -9 $(cat "$dir/pids") 2>/dev/null
rm -rf "$dir"
`;

/** Starts the out-of-process watchdog for a control plane whose pids are listed in `dir`/pids. */
export function startWatchdog(dir: string): void {
  const child = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'steward-watchdog', String(process.pid), dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.on('error', () => {
    // Without sh, only the in-process layers remain; nothing to report to the caller.
  });
  child.unref();
}
