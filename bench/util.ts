/** One measured figure. `target`, when set, is the most it may be. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target?: number;
}

/** Runs a full collection; `make bench` starts node with --expose-gc. */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('benchmarks need node --expose-gc (run them with make bench)');
  g();
  g();
}

export function heapMiB(): number {
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** The lowest of `n` measurements. */
export async function best(n: number, measure: () => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < n; i++) min = Math.min(min, await measure());
  return min;
}
