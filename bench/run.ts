/**
 * `make bench`: runs the benchmarks, prints their tables (Steward beside the controller-runtime
 * peer where there is one) and writes bench/results/<name>.json.
 * `make bench BENCH_ARGS="workqueue sessions"` runs only the named ones, in that order.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform } from 'node:os';
import { formatTable, type Table } from './util.js';

type Bench = () => Promise<Table[]>;
const benches: Record<string, () => Promise<Bench>> = {
  workqueue: async () => (await import('./workqueue.js')).run,
  cache: async () => (await import('./cache.js')).run,
  latency: async () => (await import('./latency.js')).run,
  sessions: async () => (await import('./sessions.js')).run,
  memory: async () => (await import('./memory.js')).run,
  workflow: async () => (await import('./workflow.js')).run,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(
  `node ${process.version} ${platform()}/${arch()} ${cpus()[0]?.model ?? ''} x${cpus().length}; ` +
    `load average ${load()} at ${new Date().toISOString()}`,
);
console.log('Figures vary between runs on a shared machine: compare the ratios, measured in the same run.\n');
let missed = 0;
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) {
  const tables = await (await benches[name]!())();
  for (const t of tables) {
    console.log(formatTable(t));
    missed += t.rows.filter((r) => r.goal?.met === false).length;
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    `bench/results/${name}.json`,
    JSON.stringify(
      { node: process.version, date: new Date().toISOString(), load: loadavg(), tables },
      null,
      2,
    ),
  );
}
console.log(`load average ${load()} at the end`);
if (missed > 0) console.log(`${missed} goal(s) missed`);
