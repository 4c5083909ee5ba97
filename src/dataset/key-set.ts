// Remembers which keys an input already contained, in flat memory: each key is reduced to a
// 64-bit hash (two independent 32-bit hashes) kept in open-addressing tables of buckets, each
// bucket eight (h1, h2) pairs of Uint32 side by side: 64 bytes, one cache line. A key's home
// bucket comes from h2 (scaled to the bucket count, so the count need not be a power of two);
// a full bucket spills into the next one. Tables fill up to 90% and then grow by half, so they
// stay 60-90% full: 9-13.4 bytes per key whatever the key lengths. (Power-of-two tables sit
// 35-70% full and take more; growing by less than half saves a little memory but rehashes
// more often.) The set is split
// into 256 parts by hash, each growing on its own, so growing never holds two copies of the
// whole set at once.
//
// A 64-bit hash can collide: two different keys may be reported as duplicates with a
// probability of about n²/2^65 (≈ 1 in 1.5 million for 5M keys). That only ever causes a
// false "duplicate key" refusal, never a silently dropped key.

const PARTS = 256
const PAIRS_PER_BUCKET = 8
const WORDS_PER_BUCKET = 2 * PAIRS_PER_BUCKET
const INITIAL_BUCKETS = 4
const MAX_LOAD = 0.9
const GROWTH = 1.5
const TWO_TO_32 = 4294967296

interface Part {
  /** Buckets of (h1, h2) pairs; (0, 0) is an empty place. */
  table: Uint32Array
  buckets: number
  count: number
  /** Count beyond which the part grows. */
  limit: number
}

export class KeySet {
  private readonly parts: Part[] = []
  private total = 0

  constructor() {
    for (let i = 0; i < PARTS; i++) this.parts.push(newPart(INITIAL_BUCKETS))
  }

  get size(): number {
    return this.total
  }

  /** Bytes held by the tables. */
  get byteLength(): number {
    return this.parts.reduce((sum, part) => sum + part.table.byteLength, 0)
  }

  /** Adds the key; returns false when it (or a key with the same 64-bit hash) was already there. */
  add(key: Uint8Array): boolean {
    hashKey(key)
    const h1 = KEY_HASH[0]
    const h2 = KEY_HASH[1]
    const part = this.parts[h1 & (PARTS - 1)]
    if (!insert(part, h1, h2)) return false
    this.total++
    if (++part.count > part.limit) grow(part)
    return true
  }
}

/** hashKey()'s result: h1, h2 (never both 0). */
export const KEY_HASH = new Uint32Array(2)

/** A key's 64-bit hash, as two independent 32-bit hashes (FNV-1a and a murmur-style mix) into KEY_HASH. */
export function hashKey(key: Uint8Array): void {
  let h1 = 0x811c9dc5
  let h2 = 0x9747b28c ^ key.length
  for (let i = 0; i < key.length; i++) {
    const byte = key[i]
    h1 = Math.imul(h1 ^ byte, 0x01000193)
    h2 = Math.imul(h2 ^ byte, 0x5bd1e995)
    h2 ^= h2 >>> 15
  }
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35)
  h2 ^= h2 >>> 16
  if (h1 === 0 && h2 === 0) h1 = 1 // (0, 0) marks an empty place in a KeySet
  KEY_HASH[0] = h1
  KEY_HASH[1] = h2
}

function newPart(buckets: number): Part {
  return {table: new Uint32Array(buckets * WORDS_PER_BUCKET), buckets, count: 0, limit: Math.floor(buckets * PAIRS_PER_BUCKET * MAX_LOAD)}
}

/** Inserts (h1, h2) unless present; false when it was. No deletions, so an empty place ends the search. */
function insert(part: Part, h1: number, h2: number): boolean {
  const {table, buckets} = part
  let bucket = ((h2 * buckets) / TWO_TO_32) >>> 0 // h2 scaled to [0, buckets)
  for (;;) {
    const end = (bucket + 1) * WORDS_PER_BUCKET
    for (let at = bucket * WORDS_PER_BUCKET; at < end; at += 2) {
      const a = table[at]
      const b = table[at + 1]
      if (a === 0 && b === 0) {
        table[at] = h1
        table[at + 1] = h2
        return true
      }
      if (a === h1 && b === h2) return false
    }
    bucket = bucket + 1 === buckets ? 0 : bucket + 1
  }
}

function grow(part: Part): void {
  const old = part.table
  const bigger = newPart(Math.ceil(part.buckets * GROWTH))
  part.table = bigger.table
  part.buckets = bigger.buckets
  part.limit = bigger.limit
  for (let at = 0; at < old.length; at += 2) if (old[at] !== 0 || old[at + 1] !== 0) insert(part, old[at], old[at + 1])
}
