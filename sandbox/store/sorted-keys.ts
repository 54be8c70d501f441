// An ascending list of numeric keys (order uids, delivery numbers) that a page can start in, from either end.

export class SortedKeys {
  private keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Adds a key; keys nearly always come in increasing order, so this is a push. */
  add(key: number): void {
    const last = this.keys.length === 0 ? Number.NEGATIVE_INFINITY : this.keys[this.keys.length - 1]!;
    if (key > last) this.keys.push(key);
    else if (key !== last) {
      const at = this.firstAtLeast(key);
      if (this.keys[at] !== key) this.keys.splice(at, 0, key);
    }
  }

  clear(): void {
    this.keys = [];
  }

  /**
   * Calls `visit` with each key after `after` (exclusive), ascending or, with `descending`, descending, until it
   * returns false. Without `after`, from the first (or last) key.
   */
  walk(after: number | undefined, descending: boolean, visit: (key: number) => boolean): void {
    const keys = this.keys;
    if (descending) {
      let i = after === undefined ? keys.length - 1 : this.firstAtLeast(after) - 1;
      for (; i >= 0; i--) if (!visit(keys[i]!)) return;
    } else {
      let i = after === undefined ? 0 : this.firstAtLeast(after);
      if (after !== undefined && keys[i] === after) i++;
      for (; i < keys.length; i++) if (!visit(keys[i]!)) return;
    }
  }

  /** The index of the first key ≥ `key` (the length when there is none). */
  private firstAtLeast(key: number): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.keys[mid]! < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/** Collects a page: up to `limit` keys that `pick` turns into items, and whether more keys were left. */
export function collectPage<T>(
  keys: SortedKeys,
  after: number | undefined,
  descending: boolean,
  limit: number,
  pick: (key: number) => T | undefined,
): { items: T[]; lastKey: number | null } {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`a page's limit must be a positive integer, got ${limit}`);
  const items: T[] = [];
  let lastKey: number | null = null;
  let more = false;
  keys.walk(after, descending, (key) => {
    if (items.length === limit) {
      // Only a key that would be in the page says whether there is a next one; a filter may match none of the rest.
      if (pick(key) !== undefined) {
        more = true;
        return false;
      }
      return true;
    }
    const item = pick(key);
    if (item !== undefined) {
      items.push(item);
      lastKey = key;
    }
    return true;
  });
  return { items, lastKey: more ? lastKey : null };
}
