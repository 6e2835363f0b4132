/**
 * `make bench`: runs the benchmarks, prints a table and writes bench/results/<name>.json.
 * `make bench BENCH_ARGS="workqueue"` runs only the named ones.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import type { BenchResult } from './util.js';

type Bench = () => Promise<BenchResult[]>;
const benches: Record<string, () => Promise<Bench>> = {
  workqueue: async () => (await import('./workqueue.js')).run,
  cache: async () => (await import('./cache.js')).run,
  sessions: async () => (await import('./sessions.js')).run,
  workflow: async () => (await import('./workflow.js')).run,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
console.log(`node ${process.version} ${platform()}/${arch()} ${cpus()[0]?.model ?? ''} x${cpus().length}`);
let missed = 0;
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) {
  const results = await (await benches[name]!())();
  for (const r of results) {
    const verdict =
      r.target === undefined
        ? ''
        : r.value <= r.target
          ? `  (target ≤ ${fmt(r.target)}: met)`
          : `  (target ≤ ${fmt(r.target)}: MISSED)`;
    if (r.target !== undefined && r.value > r.target) missed++;
    console.log(`${r.name.padEnd(62)} ${fmt(r.value).padStart(10)} ${r.unit}${verdict}`);
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    `bench/results/${name}.json`,
    JSON.stringify({ node: process.version, date: new Date().toISOString(), results }, null, 2),
  );
}
if (missed > 0) console.log(`${missed} target(s) missed`);
