// Remembers which keys an input already contained, in flat memory: each key is reduced to a
// 64-bit hash (two independent 32-bit hashes) stored in open-addressing tables of Uint32 pairs
// (linear probing, load kept between 35% and 70%). Cost: 8 bytes per table slot, so 11-23 bytes
// per key: ~64 MB for 5M keys, whatever the key lengths. The table is split into 256 parts by
// hash, each growing on its own, so growing never holds two copies of the whole table at once
// (a single table would briefly need 96 MB at 5M keys).
//
// A 64-bit hash can collide: two different keys may be reported as duplicates with a
// probability of about n²/2^65 (≈ 1 in 1.5 million for 5M keys). That only ever causes a
// false "duplicate key" refusal, never a silently dropped key.

const PARTS = 256
const INITIAL_PART_CAPACITY = 256
const MAX_LOAD = 0.7

interface Part {
  high: Uint32Array
  low: Uint32Array
  count: number
}

export class KeySet {
  private readonly parts: Part[] = []
  private total = 0

  constructor() {
    for (let i = 0; i < PARTS; i++) {
      this.parts.push({high: new Uint32Array(INITIAL_PART_CAPACITY), low: new Uint32Array(INITIAL_PART_CAPACITY), count: 0})
    }
  }

  get size(): number {
    return this.total
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

    const part = this.parts[h1 & (PARTS - 1)]
    if (!insert(part, h1, h2)) return false
    this.total++
    if (++part.count > part.high.length * MAX_LOAD) grow(part)
    return true
  }
}

function insert(part: Part, h1: number, h2: number): boolean {
  const {high, low} = part
  const mask = high.length - 1
  let index = h2 & mask
  for (;;) {
    const a = high[index]
    const b = low[index]
    if (a === 0 && b === 0) {
      high[index] = h1
      low[index] = h2
      return true
    }
    if (a === h1 && b === h2) return false
    index = (index + 1) & mask
  }
}

function grow(part: Part): void {
  const {high, low} = part
  part.high = new Uint32Array(high.length * 2)
  part.low = new Uint32Array(low.length * 2)
  for (let i = 0; i < high.length; i++) if (high[i] !== 0 || low[i] !== 0) insert(part, high[i], low[i])
}
