// The memory estimate behind per-db limits and INFO's per-db figures.
//
// An entry costs ENTRY_OVERHEAD + key bytes (+ TTL_OVERHEAD when it has a TTL) plus its value:
//   string  STRING_OVERHEAD + bytes
//   hash    COLLECTION_OVERHEAD + Σ (field + value + HASH_FIELD_OVERHEAD)
//   set     COLLECTION_OVERHEAD + Σ (member + SET_MEMBER_OVERHEAD)
//   zset    ZSET_OVERHEAD + Σ (member + ZSET_MEMBER_OVERHEAD)        (dict + skiplist node)
//   list    COLLECTION_OVERHEAD + Σ (element + LIST_ELEMENT_OVERHEAD)
// The overheads approximate Valkey's own structures on 64-bit (dictEntry, robj, sds headers).
// Collections larger than SAMPLE elements are estimated from their first SAMPLE elements times
// their size, as Valkey's MEMORY USAGE does with SAMPLES: so the cost of estimating any key is
// bounded, whatever its size. The figure is deterministic for a given value.
import {List, ZSet, type Value} from '../keyspace/values.js'

export const ENTRY_OVERHEAD = 56
export const TTL_OVERHEAD = 24
export const STRING_OVERHEAD = 16
export const COLLECTION_OVERHEAD = 64
export const ZSET_OVERHEAD = 96
export const HASH_FIELD_OVERHEAD = 32
export const SET_MEMBER_OVERHEAD = 24
export const ZSET_MEMBER_OVERHEAD = 48
export const LIST_ELEMENT_OVERHEAD = 16
export const SAMPLE = 32

/** Estimated bytes of one entry (key + value + overheads). */
export function estimateEntryBytes(key: string, value: Value | Buffer, hasTtl = false): number {
  return ENTRY_OVERHEAD + key.length + (hasTtl ? TTL_OVERHEAD : 0) + estimateValueBytes(value)
}

export function estimateValueBytes(value: Value | Buffer): number {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return STRING_OVERHEAD + value.length
  if (value instanceof Map) {
    return COLLECTION_OVERHEAD + sampled(value.size, value.entries(), ([f, v]) => f.length + v.length + HASH_FIELD_OVERHEAD)
  }
  if (value instanceof Set) {
    return COLLECTION_OVERHEAD + sampled(value.size, value.values(), (m) => m.length + SET_MEMBER_OVERHEAD)
  }
  if (value instanceof ZSet) {
    return ZSET_OVERHEAD + sampled(value.size, value.scores.keys(), (m) => m.length + ZSET_MEMBER_OVERHEAD)
  }
  if (value instanceof List) {
    return COLLECTION_OVERHEAD + sampled(value.items.length, value.items.values(), (e) => e.length + LIST_ELEMENT_OVERHEAD)
  }
  return 0
}

/** Exact sum for small collections; the first SAMPLE elements' mean times size for large ones. */
function sampled<T>(size: number, items: Iterator<T>, cost: (item: T) => number): number {
  let total = 0
  let seen = 0
  while (seen < SAMPLE) {
    const next = items.next()
    if (next.done) break
    total += cost(next.value)
    seen++
  }
  if (seen === size || seen === 0) return total
  return Math.round((total / seen) * size)
}

const UNITS: Record<string, number> = {b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3}

/** "64mb" → 67108864 (units b, kb, mb, gb, case-insensitive; 1kb = 1024 bytes, as Valkey). */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match ? (match[2] || 'b').toLowerCase() : ''
  if (!match || !(unit in UNITS)) throw new Error(`invalid size '${text}' (use a number with b, kb, mb or gb, e.g. 64mb)`)
  const bytes = Math.floor(Number(match[1]) * UNITS[unit])
  if (bytes <= 0) throw new Error(`invalid size '${text}': must be more than 0`)
  return bytes
}

/** ["5=64mb", "7=1gb"] → Map {5 → 67108864, 7 → 1073741824}; checks db indexes against `databases`. */
export function parseDbMaxMemory(specs: readonly string[], databases: number): Map<number, number> {
  const limits = new Map<number, number>()
  for (const spec of specs) {
    const match = /^\s*(\d+)\s*=\s*(.+)$/.exec(spec)
    if (!match) throw new Error(`invalid --db-maxmemory '${spec}' (expected DB=SIZE, e.g. 5=64mb)`)
    const db = Number(match[1])
    if (!Number.isSafeInteger(db) || db >= databases) {
      throw new Error(`invalid --db-maxmemory '${spec}': db ${match[1]} is out of range (the engine has ${databases} databases)`)
    }
    let bytes: number
    try {
      bytes = parseSize(match[2])
    } catch (error) {
      throw new Error(`invalid --db-maxmemory '${spec}': ${(error as Error).message}`)
    }
    limits.set(db, bytes)
  }
  return limits
}

/** 67108864 → "64mb" (for messages). */
export {formatSize} from '../../util/bytes.js'
