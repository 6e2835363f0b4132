import { execFileSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { RateLimitingQueue } from '../lib/workqueue/index.js';
import { gc, heapMiB, peerBinary, type Row, type Table } from './util.js';

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

/** The process's CPU time in ns, user and system, every thread (the collector's included). */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** A loop's cost per operation: elapsed and CPU nanoseconds. */
interface Timing {
  wall: number;
  cpu: number;
}

function addAfter(): Timing {
  const q = new RateLimitingQueue<string>();
  const hour = 3_600_000;
  const waiting = keys(100_000, 'w-');
  for (const k of waiting) q.addAfter(k, hour + Math.random() * hour);
  const fresh = keys(100_000, 'f-');
  const delays = fresh.map(() => hour + Math.random() * hour);
  const t0 = process.hrtime.bigint();
  const c0 = cpuNs();
  for (let i = 0; i < fresh.length; i++) q.addAfter(fresh[i]!, delays[i]!);
  const n = fresh.length;
  const timing = { wall: Number(process.hrtime.bigint() - t0) / n, cpu: (cpuNs() - c0) / n };
  q.shutDown();
  return timing;
}

async function drainMillion(): Promise<Drain> {
  gc();
  const before = heapMiB();
  let q: RateLimitingQueue<string> | undefined = new RateLimitingQueue<string>();
  const n = 1_000_000;
  // Timed as bench/peer times Go's queues: the adds, then (clock stopped for a full collection
  // and the heap's size) the gets and dones.
  const t0 = process.hrtime.bigint();
  const c0 = cpuNs();
  for (let i = 0; i < n; i++) q.add(`ns/object-${i}`);
  let elapsed = process.hrtime.bigint() - t0;
  let cpu = cpuNs() - c0;
  gc();
  const peak = heapMiB();
  const t1 = process.hrtime.bigint();
  const c1 = cpuNs();
  for (let i = 0; i < n; i++) q.done((await q.get())!);
  elapsed += process.hrtime.bigint() - t1;
  cpu += cpuNs() - c1;
  // The drained queue stays alive: its own memory must be back, not just the collector's.
  gc();
  const after = heapMiB();
  q.shutDown();
  q = undefined;
  return {
    nsPerKey: Number(elapsed) / n,
    cpuNsPerKey: cpu / n,
    heapBeforeMiB: before,
    heapQueuedMiB: peak,
    heapAfterMiB: after,
  };
}

interface Drain {
  nsPerKey: number;
  cpuNsPerKey: number;
  heapBeforeMiB: number;
  heapQueuedMiB: number;
  heapAfterMiB: number;
}

/** One subject's figures: the timed loops and the 1M drain. */
interface Figures {
  cycleNs: number;
  cycleMetricsNs: number;
  addQueuedNs: number;
  addAfterNs: number;
  addAfterCpuNs: number;
  drain: Drain;
}

interface GoRun {
  go: string;
  clientGo: Figures;
  priorityQueue: Figures;
}

/** client-go's and controller-runtime's queues, measured by bench/peer (one trial each). */
function goQueues(): GoRun {
  const out = execFileSync(peerBinary(), ['workqueue', '-trials', '1'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out) as GoRun;
}

async function stewardTrial(): Promise<Figures> {
  const cycleNs = await cycle();
  const cycleMetricsNs = await cycle(new Registry());
  const addQueuedNs = addQueued();
  const after = addAfter();
  return {
    cycleNs,
    cycleMetricsNs,
    addQueuedNs,
    addAfterNs: after.wall,
    addAfterCpuNs: after.cpu,
    drain: await drainMillion(),
  };
}

/** Each time the lowest of `a` and `b`; the heap figures of `b`, the later trial. */
function bestOf(a: Figures | undefined, b: Figures): Figures {
  if (a === undefined) return b;
  return {
    cycleNs: Math.min(a.cycleNs, b.cycleNs),
    cycleMetricsNs: Math.min(a.cycleMetricsNs, b.cycleMetricsNs),
    addQueuedNs: Math.min(a.addQueuedNs, b.addQueuedNs),
    addAfterNs: Math.min(a.addAfterNs, b.addAfterNs),
    addAfterCpuNs: Math.min(a.addAfterCpuNs, b.addAfterCpuNs),
    drain: {
      ...b.drain,
      nsPerKey: Math.min(a.drain.nsPerKey, b.drain.nsPerKey),
      cpuNsPerKey: Math.min(a.drain.cpuNsPerKey, b.drain.cpuNsPerKey),
    },
  };
}

const TRIALS = 5;

export async function run(): Promise<Table[]> {
  // Best of five trials each: the least disturbed by whatever else the machine is doing. Steward
  // and the Go queues take turns, one trial of everything each, so that a change in the load
  // hits both columns alike.
  let steward: Figures | undefined;
  let cg: Figures | undefined;
  let pq: Figures | undefined;
  let goVersion = '';
  for (let trial = 0; trial < TRIALS; trial++) {
    steward = bestOf(steward, await stewardTrial());
    const go = goQueues();
    goVersion = go.go;
    cg = bestOf(cg, go.clientGo);
    pq = bestOf(pq, go.priorityQueue);
  }
  const { cycleNs, cycleMetricsNs, addQueuedNs, addAfterNs, addAfterCpuNs } = steward!;
  const clientGo = cg!;
  const prio = pq!;
  const d = { s: steward!.drain, cg: clientGo.drain, pq: prio.drain };
  const atMostClientGo = { text: "≤ 1.0× client-go's", met: undefined as boolean | undefined };
  const rows: Row[] = [
    {
      name: 'add+get+done cycle, 10k keys',
      unit: 'ns/op',
      values: [cycleNs, clientGo.cycleNs, prio.cycleNs],
    },
    {
      name: 'the same, with metrics',
      unit: 'ns/op',
      values: [cycleMetricsNs, clientGo.cycleMetricsNs, prio.cycleMetricsNs],
    },
    {
      name: 'add of an already-queued key',
      unit: 'ns/op',
      values: [addQueuedNs, clientGo.addQueuedNs, prio.addQueuedNs],
    },
    {
      name: 'addAfter, 100k keys waiting',
      unit: 'ns/op',
      values: [addAfterNs, clientGo.addAfterNs, prio.addAfterNs],
      goal: { ...atMostClientGo, met: addAfterNs <= clientGo.addAfterNs },
    },
    {
      name: 'the same, CPU time (all threads)',
      unit: 'ns/op',
      values: [addAfterCpuNs, clientGo.addAfterCpuNs, prio.addAfterCpuNs],
    },
    {
      name: '1M distinct keys: add, get, done',
      unit: 'ns/key',
      values: [d.s.nsPerKey, d.cg.nsPerKey, d.pq.nsPerKey],
      goal: { ...atMostClientGo, met: d.s.nsPerKey <= d.cg.nsPerKey },
    },
    {
      name: 'the same, CPU time (all threads)',
      unit: 'ns/key',
      values: [d.s.cpuNsPerKey, d.cg.cpuNsPerKey, d.pq.cpuNsPerKey],
    },
    {
      name: 'heap before the 1M keys',
      unit: 'MiB',
      values: [d.s.heapBeforeMiB, d.cg.heapBeforeMiB, d.pq.heapBeforeMiB],
    },
    {
      name: 'heap with 1M keys queued',
      unit: 'MiB',
      values: [d.s.heapQueuedMiB, d.cg.heapQueuedMiB, d.pq.heapQueuedMiB],
    },
    {
      name: 'heap after draining them (queue alive)',
      unit: 'MiB',
      values: [d.s.heapAfterMiB, d.cg.heapAfterMiB, d.pq.heapAfterMiB],
      goal: { text: 'back to baseline (+1 MiB)', met: d.s.heapAfterMiB <= d.s.heapBeforeMiB + 1 },
    },
  ];
  return [
    {
      title: 'Work queue: single producer and consumer, same run',
      columns: ['Steward', 'client-go', 'c-r priority queue'],
      ratio: { label: 'Steward ÷ client-go', of: [0, 1] },
      rows,
      notes: [
        `Steward on Node ${process.version}; client-go v0.36 and controller-runtime v0.24 on ${goVersion} (bench/peer). ` +
          `Best of ${TRIALS} trials, Steward and Go taking turns; the 1M drain's clock is stopped between ` +
          'the adds and the gets for a full collection and the heap figure, in both runtimes; heap figures of the last trial.',
        "Go's queues hand some work to goroutines of their own (client-go's delaying loop, the priority " +
          "queue's add buffer), which may run on the second core; the timings include flushing them. " +
          'CPU time counts every thread of the process (goroutines, collectors): the cost whichever core paid it, ' +
          'and less disturbed by other load than elapsed time.',
      ],
    },
  ];
}
