// Samples of keys named in verify/diff results (the keys themselves printed by util/key-text.ts).

/** Up to `limit` samples, kept in sorted order so results are stable between runs. */
export class Samples<T> {
  private items: Array<{sortKey: Buffer; item: T}> = []
  count = 0

  constructor(private readonly limit: number) {}

  add(sortKey: Buffer, item: T): void {
    this.count++
    // Keep the `limit` smallest keys: insert in order, drop the largest.
    if (this.items.length >= this.limit && Buffer.compare(sortKey, this.items[this.items.length - 1].sortKey) >= 0) return
    let at = this.items.length
    while (at > 0 && Buffer.compare(sortKey, this.items[at - 1].sortKey) < 0) at--
    this.items.splice(at, 0, {sortKey, item})
    if (this.items.length > this.limit) this.items.pop()
  }

  list(): T[] {
    return this.items.map((entry) => entry.item)
  }
}
