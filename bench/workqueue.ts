import { execFileSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { RateLimitingQueue } from '../lib/workqueue/index.js';
import { best, gc, heapMiB, peerBinary, type Row, type Table } from './util.js';

/**
 * Work queue micro-benchmarks, Steward's queue beside client-go's and controller-runtime's
 * priority queue (measured by bench/peer in the same run, same operations): goals are addAfter
 * and the 1M drain at most client-go's cost per operation, and the heap back to its baseline
 * after the drain.
 */

const keys = (n: number, prefix = 'ns/object-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

async function cycle(registry?: Registry): Promise<number> {
  const q = new RateLimitingQueue<string>(registry ? { name: 'bench', registry } : {});
  const ks = keys(10_000);
  for (const k of ks) q.add(k);
  const rounds = 500_000;
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const item = (await q.get())!;
      q.done(item);
      q.add(item);
    }
  };
  await run(100_000);
  const t0 = process.hrtime.bigint();
  await run(rounds);
  const ns = Number(process.hrtime.bigint() - t0) / rounds;
  q.shutDown();
  return ns;
}

function addQueued(): number {
  const q = new RateLimitingQueue<string>();
  const ks = keys(10_000);
  for (const k of ks) q.add(k);
  const rounds = 2_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) q.add(ks[i % ks.length]!);
  const ns = Number(process.hrtime.bigint() - t0) / rounds;
  q.shutDown();
  return ns;
}

function addAfter(): number {
  const q = new RateLimitingQueue<string>();
  const hour = 3_600_000;
  const waiting = keys(100_000, 'w-');
  for (const k of waiting) q.addAfter(k, hour + Math.random() * hour);
  const fresh = keys(100_000, 'f-');
  const delays = fresh.map(() => hour + Math.random() * hour);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < fresh.length; i++) q.addAfter(fresh[i]!, delays[i]!);
  const ns = Number(process.hrtime.bigint() - t0) / fresh.length;
  q.shutDown();
  return ns;
}

async function drainMillion(): Promise<{ before: number; peak: number; after: number; nsPerKey: number }> {
  gc();
  const before = heapMiB();
  let q: RateLimitingQueue<string> | undefined = new RateLimitingQueue<string>();
  const n = 1_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) q.add(`ns/object-${i}`);
  const peak = heapMiB();
  for (let i = 0; i < n; i++) q.done((await q.get())!);
  const nsPerKey = Number(process.hrtime.bigint() - t0) / n;
  // The drained queue stays alive: its own memory must be back, not just the collector's.
  gc();
  const after = heapMiB();
  q.shutDown();
  q = undefined;
  return { before, peak, after, nsPerKey };
}

interface GoQueue {
  cycleNs: number;
  cycleMetricsNs: number;
  addQueuedNs: number;
  addAfterNs: number;
  drain: { nsPerKey: number; heapBeforeMiB: number; heapQueuedMiB: number; heapAfterMiB: number };
}

/** client-go's and controller-runtime's queues, measured by bench/peer in the same run. */
function goQueues(): { go: string; clientGo: GoQueue; priorityQueue: GoQueue } {
  const out = execFileSync(peerBinary(), ['workqueue'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out) as { go: string; clientGo: GoQueue; priorityQueue: GoQueue };
}

export async function run(): Promise<Table[]> {
  // Best of five trials each: the least disturbed by whatever else the machine is doing.
  const cycleNs = await best(5, () => cycle());
  const cycleMetricsNs = await best(5, () => cycle(new Registry()));
  const addQueuedNs = await best(5, async () => addQueued());
  const addAfterNs = await best(5, async () => addAfter());
  const mem = await drainMillion();
  const go = goQueues();
  const cg = go.clientGo;
  const pq = go.priorityQueue;
  const atMostClientGo = { text: "≤ 1.0× client-go's", met: undefined as boolean | undefined };
  const rows: Row[] = [
    { name: 'add+get+done cycle, 10k keys', unit: 'ns/op', values: [cycleNs, cg.cycleNs, pq.cycleNs] },
    {
      name: 'the same, with metrics',
      unit: 'ns/op',
      values: [cycleMetricsNs, cg.cycleMetricsNs, pq.cycleMetricsNs],
    },
    {
      name: 'add of an already-queued key',
      unit: 'ns/op',
      values: [addQueuedNs, cg.addQueuedNs, pq.addQueuedNs],
    },
    {
      name: 'addAfter, 100k keys waiting',
      unit: 'ns/op',
      values: [addAfterNs, cg.addAfterNs, pq.addAfterNs],
      goal: { ...atMostClientGo, met: addAfterNs <= cg.addAfterNs },
    },
    {
      name: '1M distinct keys: add, get, done',
      unit: 'ns/key',
      values: [mem.nsPerKey, cg.drain.nsPerKey, pq.drain.nsPerKey],
      goal: { ...atMostClientGo, met: mem.nsPerKey <= cg.drain.nsPerKey },
    },
    {
      name: 'heap before the 1M keys',
      unit: 'MiB',
      values: [mem.before, cg.drain.heapBeforeMiB, pq.drain.heapBeforeMiB],
    },
    {
      name: 'heap with 1M keys queued',
      unit: 'MiB',
      values: [mem.peak, cg.drain.heapQueuedMiB, pq.drain.heapQueuedMiB],
    },
    {
      name: 'heap after draining them (queue alive)',
      unit: 'MiB',
      values: [mem.after, cg.drain.heapAfterMiB, pq.drain.heapAfterMiB],
      goal: { text: 'back to baseline (+1 MiB)', met: mem.after <= mem.before + 1 },
    },
  ];
  return [
    {
      title: 'Work queue: single producer and consumer, same run',
      columns: ['Steward', 'client-go', 'c-r priority queue'],
      ratio: { label: 'Steward ÷ client-go', of: [0, 1] },
      rows,
      notes: [
        `Steward on Node ${process.version}; client-go v0.36 and controller-runtime v0.24 on ${go.go} (bench/peer). ` +
          'Timed loops best of 5; the 1M drain once.',
        "Go's queues hand some work to goroutines of their own (client-go's delaying loop, the priority " +
          "queue's add buffer), which may run on the second core; the timings include flushing them.",
      ],
    },
  ];
}
