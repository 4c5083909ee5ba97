// Keys shown to users (samples in verify/diff results): UTF-8 text when the bytes are printable
// text, otherwise "0x" + hex, so binary keys stay unambiguous in JSON output.

export function keyText(key: Buffer): string {
  const text = key.toString('utf8')
  const printable = Buffer.byteLength(text) === key.length && Buffer.from(text, 'utf8').equals(key) && !/[\u0000-\u001f\u007f]/.test(text)
  return printable ? text : `0x${key.toString('hex')}`
}

/** A short preview of a string value for a "changed" sample. */
export function valuePreview(value: Buffer, max = 40): string {
  const text = keyText(value.length > max ? value.subarray(0, max) : value)
  return JSON.stringify(text) + (value.length > max ? '…' : '')
}

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
