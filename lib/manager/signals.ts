/**
 * An AbortSignal that aborts on the first SIGTERM or SIGINT, for `Manager.start`: the graceful
 * stop. A second signal exits at once with code 1, for when the graceful stop hangs.
 */
export function setupSignalHandler(): AbortSignal {
  const ac = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++count > 1) process.exit(1);
    ac.abort(new Error(`received ${sig}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return ac.signal;
}
