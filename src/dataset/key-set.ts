// Remembers which keys an input already contained, in flat memory: each key is reduced to a
// 64-bit hash (two independent 32-bit hashes) stored in an open-addressing table of two
// Uint32Arrays (linear probing, grown x2 at 70% load). Cost: 8 bytes per table slot, so about
// 11-23 bytes per key: ~64 MB for 5M keys, whatever the key lengths.
//
// A 64-bit hash can collide: two different keys may be reported as duplicates with a
// probability of about n²/2^65 (≈ 1 in 1.5 million for 5M keys). That only ever causes a
// false "duplicate key" refusal, never a silently dropped key.

const INITIAL_CAPACITY = 1 << 16
const MAX_LOAD = 0.7

export class KeySet {
  private high: Uint32Array
  private low: Uint32Array
  private mask: number
  private count = 0

  constructor(expectedKeys = 0) {
    let capacity = INITIAL_CAPACITY
    while (capacity * MAX_LOAD < expectedKeys) capacity *= 2
    this.high = new Uint32Array(capacity)
    this.low = new Uint32Array(capacity)
    this.mask = capacity - 1
  }

  get size(): number {
    return this.count
  }

  /** Adds the key; returns false when it (or a key with the same 64-bit hash) was already there. */
  add(key: Uint8Array): boolean {
    // Two independent 32-bit hashes in one pass: FNV-1a and a murmur-style mix.
    let h1 = 0x811c9dc5
    let h2 = 0x9747b28c ^ key.length
    for (let i = 0; i < key.length; i++) {
      const byte = key[i]
      h1 = Math.imul(h1 ^ byte, 0x01000193)
      h2 = Math.imul(h2 ^ byte, 0x5bd1e995)
      h2 ^= h2 >>> 15
    }
    h1 >>>= 0
    h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35)
    h2 = (h2 ^ (h2 >>> 16)) >>> 0
    if (h1 === 0 && h2 === 0) h1 = 1 // (0, 0) marks an empty table slot
    if (this.insert(h1, h2)) {
      this.count++
      if (this.count > (this.mask + 1) * MAX_LOAD) this.grow()
      return true
    }
    return false
  }

  private insert(h1: number, h2: number): boolean {
    let index = h2 & this.mask
    for (;;) {
      const high = this.high[index]
      const low = this.low[index]
      if (high === 0 && low === 0) {
        this.high[index] = h1
        this.low[index] = h2
        return true
      }
      if (high === h1 && low === h2) return false
      index = (index + 1) & this.mask
    }
  }

  private grow(): void {
    const {high, low} = this
    this.high = new Uint32Array(high.length * 2)
    this.low = new Uint32Array(low.length * 2)
    this.mask = this.high.length - 1
    for (let i = 0; i < high.length; i++) if (high[i] !== 0 || low[i] !== 0) this.insert(high[i], low[i])
  }
}
