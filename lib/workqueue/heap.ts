/** An entry of a `MinHeap`: ordered by `at`, then by `seq`; `index` is kept by the heap. */
export interface HeapEntry {
  at: number;
  seq: number;
  index: number;
}

function less(a: HeapEntry, b: HeapEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * A binary min-heap of entries that know their own position, so an entry already in the heap
 * can be moved earlier in O(log n) (`update`). Used by the delaying queue to wait for many items
 * on one timer.
 */
export class MinHeap<E extends HeapEntry> {
  #a: E[] = [];

  get length(): number {
    return this.#a.length;
  }

  peek(): E | undefined {
    return this.#a[0];
  }

  push(e: E): void {
    e.index = this.#a.length;
    this.#a.push(e);
    this.#up(e.index);
  }

  pop(): E | undefined {
    const a = this.#a;
    const top = a[0];
    if (top === undefined) return undefined;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      last.index = 0;
      this.#down(0);
    }
    top.index = -1;
    return top;
  }

  /** Restores order after `e.at` was lowered. */
  update(e: E): void {
    this.#up(e.index);
  }

  clear(): void {
    for (const e of this.#a) e.index = -1;
    this.#a = [];
  }

  #up(i: number): void {
    const a = this.#a;
    const e = a[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (!less(e, parent)) break;
      a[i] = parent;
      parent.index = i;
      i = p;
    }
    a[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const a = this.#a;
    const n = a.length;
    const e = a[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && less(a[r]!, a[l]!) ? r : l;
      const child = a[c]!;
      if (!less(child, e)) break;
      a[i] = child;
      child.index = i;
      i = c;
    }
    a[i] = e;
    e.index = i;
  }
}
