import type { RunView } from './runs.js';

/** Oldest first: by scheduled time, then creation, then name (a stable order for ties). */
function byAge(a: RunView, b: RunView): number {
  const at = a.scheduledTime ?? a.creationTime ?? 0;
  const bt = b.scheduledTime ?? b.creationTime ?? 0;
  if (at !== bt) return at - bt;
  const ac = a.creationTime ?? 0;
  const bc = b.creationTime ?? 0;
  if (ac !== bc) return ac - bc;
  return a.ref.name < b.ref.name ? -1 : a.ref.name > b.ref.name ? 1 : 0;
}

/**
 * The finished runs to delete so that at most `successfulLimit` succeeded and `failedLimit`
 * failed runs remain, oldest first (as CronJob's successfulJobsHistoryLimit and
 * failedJobsHistoryLimit). Active runs are never pruned.
 */
export function runsToPrune(runs: RunView[], successfulLimit: number, failedLimit: number): RunView[] {
  const excess = (state: 'succeeded' | 'failed', limit: number) => {
    const finished = runs.filter((r) => r.state === state).sort(byAge);
    return finished.slice(0, Math.max(0, finished.length - limit));
  };
  return [...excess('succeeded', successfulLimit), ...excess('failed', failedLimit)].sort(byAge);
}
