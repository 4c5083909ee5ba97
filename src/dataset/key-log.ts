// Duplicate-key detection for inputs that can be read again (files): every key's 64-bit hash
// is appended to flat arrays as it streams by, and duplicates are looked for once, at the end,
// by sorting. Appending is sequential memory traffic; the alternative, a hash table probed per
// key (key-set.ts), pays a cache miss on almost every key once it outgrows the CPU caches
// (0.2-0.35 µs of a ~1.7 µs staging budget per key at 1M keys). Memory: exactly 8 bytes a key
// (40 MB for 5M keys). The price is that a duplicate is reported when the whole input has been
// read, not when it is met; the caller then re-reads the input to say where (file:line).
// Stdin cannot be read again, so inputs that include it keep the per-key KeySet.
//
// As with KeySet, two different keys with the same 64-bit hash (≈ n²/2^65) would be taken
// for a duplicate; the re-read that names the lines would then find no repeated key.
import {hashKey, KEY_HASH} from './key-set.js'

/** Keys per chunk (8 MB; pages never written are never committed, so a small input pays little). */
const CHUNK = 1 << 20

export class KeyLog {
  /** Full chunks; each holds h1 * 2^32 + h2 per key. */
  private readonly chunks: BigUint64Array[] = []
  private current = new BigUint64Array(CHUNK)
  /** current's words, little-endian: h2 then h1 for each key. */
  private words = new Uint32Array(this.current.buffer)
  private at = 0
  private total = 0

  get size(): number {
    return this.total
  }

  add(key: Uint8Array): void {
    let at = this.at
    if (at === this.words.length) {
      this.chunks.push(this.current)
      this.current = new BigUint64Array(CHUNK)
      this.words = new Uint32Array(this.current.buffer)
      at = 0
    }
    hashKey(key)
    this.words[at] = KEY_HASH[1]
    this.words[at + 1] = KEY_HASH[0]
    this.at = at + 2
    this.total++
  }

  /**
   * The hash (h1, h2) of a key that was added more than once, or undefined. Sorts the log in
   * place (natively, chunk by chunk), then merges the chunks looking for equal neighbours.
   */
  findDuplicate(): [h1: number, h2: number] | undefined {
    const runs = [...this.chunks, this.current.subarray(0, this.at / 2)].filter((run) => run.length > 0)
    for (const run of runs) run.sort()
    if (runs.length === 1) return adjacentDuplicate(new Uint32Array(runs[0].buffer, 0, runs[0].length * 2))
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
        const at = heads[r]
        if (at >= runs[r].length) continue
        const h = views[r][2 * at + 1]
        const l = views[r][2 * at]
        if (pick < 0 || h < high || (h === high && l < low)) {
          pick = r
          high = h
          low = l
        }
      }
      if (pick < 0) return undefined
      if (high === lastHigh && low === lastLow) return [high, low]
      lastHigh = high
      lastLow = low
      heads[pick]++
    }
  }
}

/** In one sorted run (as little-endian word pairs), a value equal to its neighbour. */
function adjacentDuplicate(words: Uint32Array): [h1: number, h2: number] | undefined {
  for (let at = 2; at < words.length; at += 2) {
    if (words[at] === words[at - 2] && words[at + 1] === words[at - 1]) return [words[at + 1], words[at]]
  }
  return undefined
}
