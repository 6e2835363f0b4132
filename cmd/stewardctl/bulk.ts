import PQueue from 'p-queue';
import { CliError } from './errors.js';

/**
 * Runs one API operation per argument (`delete a b c`, `cancel $(stewardctl list -o name)`), a
 * few at a time through p-queue: a bulk command takes (items / concurrency) round trips instead of
 * one per item, without opening a connection per item. Results print in argument order as soon
 * as every earlier one is done. Every operation runs even when some fail; with several items
 * each failure is reported through `onError` in its place, and the command then fails with a
 * count (exit code of the first failure).
 */
export async function forEach<T>(
  items: readonly T[],
  op: (item: T) => Promise<string>,
  io: { out: (s: string) => void; onError: (err: CliError) => void },
  concurrency = 8,
): Promise<void> {
  const queue = new PQueue({ concurrency });
  const results: Array<{ out: string } | { err: CliError } | undefined> = items.map(() => undefined);
  const failures: CliError[] = [];
  let next = 0;
  const flush = () => {
    for (let r = results[next]; r !== undefined; r = results[++next]) {
      if ('out' in r) io.out(r.out);
      else if (items.length > 1) io.onError(r.err);
    }
  };
  await queue.addAll(
    items.map((item, i) => async () => {
      try {
        results[i] = { out: await op(item) };
      } catch (err) {
        const e =
          err instanceof CliError ? err : new CliError(err instanceof Error ? err.message : String(err));
        failures.push(e);
        results[i] = { err: e };
      }
      flush();
    }),
  );
  if (failures.length === 0) return;
  if (items.length === 1) throw failures[0]!;
  throw new CliError(`${failures.length} of ${items.length} failed`, failures[0]!.exitCode);
}
