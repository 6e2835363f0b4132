// Starts one of Steward's programs on Node.js >= 24, whatever `node` the shell finds first.
//
// The programs need Node 24 (the Kubernetes client's undici crashes on Node 20 at import). When
// this file runs on an older Node, it looks for a newer one and re-runs the program with it:
// $STEWARD_NODE, then the `node` that npm pins in a node_modules/.bin above this package or
// the current directory (this repository's devDependency `node`). Failing that, it exits 1 with
// one line saying what to install. Kept to syntax every Node since 12 parses, so that old ones
// get the message instead of a SyntaxError.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MINIMUM = 24;
const here = dirname(fileURLToPath(import.meta.url));

const major = (version) => Number(String(version).replace(/^v/, '').split('.')[0]);

/** `node_modules/.bin/node` in `start` and each directory above it. */
function pinnedNodes(start) {
  const found = [];
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', '.bin', 'node');
    if (existsSync(candidate)) found.push(candidate);
    if (dirname(dir) === dir) return found;
  }
}

function versionOf(node) {
  const r = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * The flags of `nodeFlags` whose option is set neither on this process's command line nor in
 * NODE_OPTIONS. `--no-x` sets option `--x` too (it turns a boolean flag off), and V8 reads `_`
 * as `-`.
 */
function unsetFlags(nodeFlags) {
  const given = process.execArgv.concat(String(process.env.NODE_OPTIONS || '').split(/\s+/));
  const option = (flag) =>
    flag
      .split('=')[0]
      .replace(/_/g, '-')
      .replace(/^--no-/, '--');
  return nodeFlags.filter((f) => !given.some((g) => option(g) === option(f)));
}

/**
 * Runs `program` (a path relative to this directory) on a Node >= 24, with `nodeFlags` (Node/V8
 * flags the program is meant to run with, as its image runs it) unless the user set the same
 * options already; never returns when re-executing. On Node >= 24 a missing flag is applied by
 * replacing this process with itself (process.execve: same pid, no second process).
 */
export async function launch(name, program, nodeFlags = []) {
  const target = join(here, program);
  if (major(process.versions.node) >= MINIMUM) {
    const missing = unsetFlags(nodeFlags);
    if (missing.length > 0 && typeof process.execve === 'function') {
      const argv = [process.execPath, ...process.execArgv, ...missing, target, ...process.argv.slice(2)];
      process.execve(process.execPath, argv, process.env);
    }
    await import(pathToFileURL(target).href);
    return;
  }
  const candidates = [process.env.STEWARD_NODE, ...pinnedNodes(here), ...pinnedNodes(process.cwd())].filter(
    Boolean,
  );
  for (const node of candidates) {
    const version = versionOf(node);
    if (version === undefined || major(version) < MINIMUM) continue;
    const child = spawn(node, [...unsetFlags(nodeFlags), target, ...process.argv.slice(2)], {
      stdio: 'inherit',
    });
    // The child decides what a signal means (the first Ctrl-C ends a wait cleanly, a second one
    // at once). A Ctrl-C reaches the child from the terminal already, so it is not passed on
    // (that would be a second one); SIGTERM and SIGHUP, usually sent to this process alone, are.
    process.on('SIGINT', () => {});
    for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
    child.on('exit', (code, signal) => {
      if (signal) {
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      }
      process.exit(code === null ? 1 : code);
    });
    return;
  }
  process.stderr.write(
    `${name}: needs Node.js >= ${MINIMUM} (this is ${process.version}); install Node ${MINIMUM}, or set STEWARD_NODE to a Node ${MINIMUM} binary\n`,
  );
  process.exit(1);
}
