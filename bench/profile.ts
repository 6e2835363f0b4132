/**
 * Summarises what `make bench` profiles (BENCH_PROFILE=<dir>): where a CPU profile spends its
 * time and where a heap snapshot's memory is.
 *
 *   node dist/bench/profile.js FILE.cpuprofile       top functions and packages by self time
 *   node dist/bench/profile.js FILE.heapsnapshot     top constructors by self and retained size,
 *                                                    and per kind of cached Kubernetes object
 *                                                    the fields that retain its memory
 */
import { readFileSync } from 'node:fs';

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  if (url === '') return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const own = /\/dist\/((?:lib|controllers|cmd|bench)\/.+)$/.exec(url);
  if (own) return own[1]!;
  if (url.startsWith('node:')) return url.split('/')[0]!.replace(/^(node:internal).*/, '$1');
  return url;
}

function table(rows: Array<[string, ...Array<string | number>]>, header: string[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(1) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  return cells
    .map((r) =>
      r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  '),
    )
    .join('\n');
}

function cpu(p: CpuProfile): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++)
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = (p.endTime - p.startTime) / 1000;
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${where(f.url)}:${f.lineNumber + 1}`;
    fns.set(name, (fns.get(name) ?? 0) + us / 1000);
    const pkg = f.url === '' ? f.functionName || '(native)' : where(f.url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us / 1000);
  }
  // Each sample charged to the innermost frame of our own code on its stack (what Steward code
  // caused it, Node internals and libraries included), else to its own package.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownOf = new Map<number, string>();
  const own = (id: number): string => {
    const hit = ownOf.get(id);
    if (hit !== undefined) return hit;
    const f = byId.get(id)!.callFrame;
    let name: string;
    if (/\/dist\/(lib|controllers|cmd)\//.test(f.url))
      name = `${f.functionName || '(anonymous)'} ${where(f.url)}`;
    else {
      const up = parent.get(id);
      name =
        up === undefined || byId.get(up)!.callFrame.functionName === '(root)'
          ? `(outside Steward) ${where(f.url) === '(native)' ? f.functionName : where(f.url)}`
          : own(up);
    }
    ownOf.set(id, name);
    return name;
  };
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const k = own(id);
    inclusive.set(k, (inclusive.get(k) ?? 0) + us / 1000);
  }
  const busy = [...pkgs].filter(([k]) => k !== '(idle)').reduce((a, [, v]) => a + v, 0);
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]): [string, number, number] => [k, ms, (100 * ms) / busy]);
  console.log(`CPU profile: ${total.toFixed(0)} ms wall, ${busy.toFixed(0)} ms not idle\n`);
  console.log(table(top(pkgs, 20), ['by package / file', 'ms', '%']));
  console.log();
  console.log(table(top(fns, 40), ['by function (self time)', 'ms', '%']));
  console.log();
  console.log(
    table(
      top(inclusive, 30).filter(([k]) => !k.includes('(idle)')),
      ['by the Steward function it ran for (innermost on the stack)', 'ms', '%'],
    ),
  );
}

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

function heap(s: Snapshot): void {
  const nf = s.snapshot.meta.node_fields.length;
  const ef = s.snapshot.meta.edge_fields.length;
  const nodeTypes = s.snapshot.meta.node_types[0];
  const edgeTypes = s.snapshot.meta.edge_types[0];
  const n = s.nodes.length / nf;
  const typeOf = (i: number) => nodeTypes[s.nodes[i * nf]!]!;
  const nameOf = (i: number) => s.strings[s.nodes[i * nf + 1]!]!;
  const selfOf = (i: number) => s.nodes[i * nf + 3]!;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) firstEdge[i + 1] = firstEdge[i]! + s.nodes[i * nf + 4]!;
  const weak = edgeTypes.indexOf('weak');
  const edgeTo = (e: number) => s.edges[e * ef + 2]! / nf;
  const edgeType = (e: number) => s.edges[e * ef]!;
  const edgeName = (e: number) => {
    const t = edgeTypes[edgeType(e)];
    const v = s.edges[e * ef + 1]!;
    return t === 'element' || t === 'hidden' ? `[${v}]` : s.strings[v]!;
  };

  // Dominators (Cooper, Harvey, Kennedy) over strong edges from the synthetic root, node 0.
  const order = new Int32Array(n).fill(-1); // postorder number
  const post: number[] = [];
  const stack: Array<[number, number]> = [[0, firstEdge[0]!]];
  order[0] = -2;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [v, e] = top;
    if (e < firstEdge[v + 1]!) {
      top[1]++;
      if (edgeType(e) === weak) continue;
      const w = edgeTo(e);
      if (order[w] === -1) {
        order[w] = -2;
        stack.push([w, firstEdge[w]!]);
      }
    } else {
      stack.pop();
      order[v] = post.length;
      post.push(v);
    }
  }
  const preds: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < n; v++) {
    if (order[v]! < 0) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) {
      if (edgeType(e) === weak) continue;
      preds[edgeTo(e)]!.push(v);
    }
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let k = post.length - 2; k >= 0; k--) {
      const b = post[k]!;
      let d = -1;
      for (const p of preds[b]!) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d);
      if (d !== -1 && idom[b] !== d) {
        idom[b] = d;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(n);
  for (const v of post) {
    retained[v]! += selfOf(v);
    if (v !== 0 && idom[v]! >= 0) retained[idom[v]!]! += retained[v]!;
  }
  const totalSelf = post.reduce((a, v) => a + selfOf(v), 0);
  const label = (i: number) => {
    const t = typeOf(i);
    return t === 'object' || t === 'native' || t === 'closure' ? nameOf(i) : `(${t})`;
  };

  const ctors = new Map<string, { count: number; self: number; retained: number }>();
  for (const v of post) {
    const c = label(v);
    const agg = ctors.get(c) ?? { count: 0, self: 0, retained: 0 };
    agg.count++;
    agg.self += selfOf(v);
    // Retained counts only the outermost node of each constructor on a dominator chain.
    let d = idom[v]!;
    let nested = false;
    while (d > 0) {
      if (label(d) === c) {
        nested = true;
        break;
      }
      d = idom[d] === d ? 0 : idom[d]!;
    }
    if (!nested) agg.retained += retained[v]!;
    ctors.set(c, agg);
  }
  const mib = (b: number) => b / 2 ** 20;
  console.log(`Heap snapshot: ${n} nodes, ${mib(totalSelf).toFixed(1)} MiB reachable\n`);
  console.log(
    table(
      [...ctors]
        .sort((a, b) => b[1].self - a[1].self)
        .slice(0, 25)
        .map(([k, a]): [string, string, number, number] => [
          k.slice(0, 60),
          String(a.count),
          mib(a.self),
          mib(a.retained),
        ]),
      ['by constructor (self size)', 'count', 'self MiB', 'retained MiB'],
    ),
  );

  // The largest single holders: objects (and arrays, maps) by retained size, each with the edge
  // it hangs from and its dominators' names, innermost first, so "what keeps this alive" reads
  // left to right.
  const edgeFrom = new Map<number, string>();
  for (const v of post) {
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) {
      const w = edgeTo(e);
      if (idom[w] === v && !edgeFrom.has(w)) edgeFrom.set(w, edgeName(e));
    }
  }
  const holders = post
    .filter((v) => v !== 0 && typeOf(v) !== 'synthetic' && retained[v]! > 256 * 1024)
    .sort((a, b) => retained[b]! - retained[a]!)
    .slice(0, 40)
    .map((v): [string, number] => {
      const path: string[] = [];
      for (let d = v, i = 0; d > 0 && i < 5; d = idom[d]!, i++)
        path.push(`${label(d).slice(0, 30)}.${edgeFrom.get(d) ?? '?'}`);
      return [path.join(' < ').slice(0, 150), mib(retained[v]!)];
    });
  console.log();
  console.log(table(holders, ['largest holders (retained)', 'MiB']));

  // Kubernetes objects: plain objects with apiVersion, kind and metadata, grouped by kind; for
  // each, what its fields retain (to two levels: metadata.managedFields, spec.template, ...).
  const prop = (v: number, name: string): number | undefined => {
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) if (edgeName(e) === name) return edgeTo(e);
    return undefined;
  };
  const kinds = new Map<string, { count: number; retained: number; fields: Map<string, number> }>();
  for (const v of post) {
    if (typeOf(v) !== 'object') continue;
    const kind = prop(v, 'kind');
    const meta = prop(v, 'metadata');
    if (kind === undefined || meta === undefined || prop(v, 'apiVersion') === undefined) continue;
    const k = typeOf(kind) === 'string' || typeOf(kind) === 'concatenated string' ? nameOf(kind) : '?';
    const agg = kinds.get(k) ?? { count: 0, retained: 0, fields: new Map<string, number>() };
    agg.count++;
    agg.retained += retained[v]!;
    const walk = (obj: number, path: string, depth: number) => {
      for (let e = firstEdge[obj]!; e < firstEdge[obj + 1]!; e++) {
        const t = edgeTypes[edgeType(e)];
        if (t !== 'property' && t !== 'element') continue;
        const child = edgeTo(e);
        if (idom[child] !== obj) continue; // shared with something else: not this field's
        const p = `${path}${path ? '.' : ''}${t === 'element' ? '[]' : edgeName(e)}`;
        agg.fields.set(p, (agg.fields.get(p) ?? 0) + retained[child]!);
        if (depth < 2 && typeOf(child) === 'object') walk(child, p, depth + 1);
      }
    };
    walk(v, '', 1);
    kinds.set(k, agg);
  }
  for (const [k, agg] of [...kinds].sort((a, b) => b[1].retained - a[1].retained).slice(0, 6)) {
    console.log(
      `\n${k}: ${agg.count} objects, ${mib(agg.retained).toFixed(1)} MiB retained, ${(agg.retained / agg.count / 1024).toFixed(2)} KiB each`,
    );
    console.log(
      table(
        [...agg.fields]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 15)
          .map(([f, b]): [string, number, number] => [f, b / agg.count, (100 * b) / agg.retained]),
        ['field', 'bytes each', '%'],
      ),
    );
  }
}

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/bench/profile.js FILE.cpuprofile|FILE.heapsnapshot');
  process.exit(2);
}
const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
if (file.endsWith('.cpuprofile')) cpu(data as CpuProfile);
else heap(data as Snapshot);
