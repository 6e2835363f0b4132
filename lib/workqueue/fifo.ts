/**
 * An array-backed FIFO with O(1) amortised push and shift. `Array.prototype.shift` copies the
 * array in the worst case; here the head only moves forward and the backing array is compacted
 * once the consumed prefix outgrows the live part.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /**
   * Inserts `item` before the first item `x` (from the head) for which `before(item, x)` holds,
   * or at the tail: the caller keeps the items ordered by `before`. O(log n) to find the place,
   * O(n) to make room: for rare out-of-order pushes only.
   */
  insertOrdered(item: T, before: (a: T, b: T) => boolean): void {
    const items = this.#items;
    let lo = this.#head;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(item, items[mid] as T)) hi = mid;
      else lo = mid + 1;
    }
    items.splice(lo, 0, item);
  }

  /** Calls `visit` on the items from the tail towards the head for as long as it returns true. */
  visitFromTail(visit: (item: T) => boolean): void {
    const items = this.#items;
    for (let i = items.length - 1; i >= this.#head; i--) if (!visit(items[i] as T)) return;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
