// Duplicate-key detection for inputs that can be read again (files): every key's 64-bit hash
// is appended to flat arrays as it streams by, and duplicates are looked for once, at the end,
// by sorting. Appending is sequential memory traffic; the alternative, a hash table probed per
// key (key-set.ts), pays a cache miss on almost every key once it outgrows the CPU caches, a
// large share of stage's time per key. Memory: exactly 8 bytes a key. The price is that a duplicate is reported when the whole input has been
// read, not when it is met; the caller then re-reads the input to say where (file:line).
// Stdin cannot be read again, so inputs that include it keep the per-key KeySet.
//
// Two different keys can share a 64-bit hash (≈ n²/2^65): the log then reports that hash, and
// the caller's re-read, which compares the keys themselves, finds no repeated key there.
import {hashKey, KEY_HASH} from './key-set.js'

/** Keys per chunk (8 MB; pages never written are never committed, so a small input pays little). */
const CHUNK_KEYS = 1 << 20

// Where the high (h1) and low (h2) halves of a u64 sit among its two 32-bit words.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1
const HIGH = LITTLE_ENDIAN ? 1 : 0
const LOW = 1 - HIGH

export class KeyLog {
  private readonly chunkKeys: number
  /** Full chunks; each holds h1 * 2^32 + h2 per key. */
  private readonly chunks: BigUint64Array[] = []
  private current: BigUint64Array
  /** current's 32-bit words, two per key. */
  private words: Uint32Array
  private at = 0
  private total = 0

  constructor(options: {chunkKeys?: number} = {}) {
    this.chunkKeys = options.chunkKeys ?? CHUNK_KEYS
    this.current = new BigUint64Array(this.chunkKeys)
    this.words = new Uint32Array(this.current.buffer)
  }

  get size(): number {
    return this.total
  }

  add(key: Uint8Array): void {
    let at = this.at
    if (at === this.words.length) {
      this.chunks.push(this.current)
      this.current = new BigUint64Array(this.chunkKeys)
      this.words = new Uint32Array(this.current.buffer)
      at = 0
    }
    hashKey(key)
    this.words[at + HIGH] = KEY_HASH[0]
    this.words[at + LOW] = KEY_HASH[1]
    this.at = at + 2
    this.total++
  }

  /**
   * Every hash (h1, h2) that was added more than once, as "h1:h2" strings; empty when all keys
   * differ. Sorts the log in place (natively, chunk by chunk), then merges the chunks.
   */
  duplicates(): Set<string> {
    const found = new Set<string>()
    const runs = [...this.chunks, this.current.subarray(0, this.at / 2)].filter((run) => run.length > 0)
    for (const run of runs) run.sort()
    const views = runs.map((run) => new Uint32Array(run.buffer, run.byteOffset, run.length * 2))
    const heads = new Array<number>(runs.length).fill(0)
    let lastHigh = -1
    let lastLow = -1
    for (;;) {
      // The smallest head among the runs (few runs: a linear pick beats a heap).
      let pick = -1
      let high = 0
      let low = 0
      for (let r = 0; r < views.length; r++) {
        const at = 2 * heads[r]
        if (at >= views[r].length) continue
        const h = views[r][at + HIGH]
        const l = views[r][at + LOW]
        if (pick < 0 || h < high || (h === high && l < low)) {
          pick = r
          high = h
          low = l
        }
      }
      if (pick < 0) return found
      if (high === lastHigh && low === lastLow) found.add(`${high}:${low}`)
      lastHigh = high
      lastLow = low
      heads[pick]++
    }
  }
}
