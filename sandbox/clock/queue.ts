// A priority queue for deadlines: the clock's pending timers, and anyone who keeps many deadlines behind one timer.

/** A binary min-heap: push and pop in O(log n), where re-sorting a list on every fire costs O(n log n). */
export class MinQueue<T> {
  private items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) this.siftDown(0, last);
    return top;
  }

  clear(): void {
    this.items = [];
  }

  /** Keeps only the items `test` accepts. */
  keep(test: (item: T) => boolean): void {
    const kept = this.items.filter(test);
    this.items = kept;
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.siftDown(i, kept[i]!);
  }

  private siftDown(from: number, item: T): void {
    const items = this.items;
    const n = items.length;
    let i = from;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(items[child + 1]!, items[child]!)) child++;
      if (!this.before(items[child]!, item)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = item;
  }
}
