// Value types held by the keyspace. Strings, fields and members are latin1 byte strings.

/** Largest chunk of a ZSet before it splits in two (a splice moves at most this many entries). */
const CHUNK_MAX = 512
/** A chunk this small is merged into a neighbour, so deletions cannot leave many tiny chunks. */
const CHUNK_MIN = CHUNK_MAX / 8

/**
 * A sorted set: scores by member, plus the members always kept in (score, member) order in a list
 * of sorted chunks (each at most CHUNK_MAX long). A Fenwick tree over the chunk sizes gives the
 * rank of a chunk's first entry, so insert, delete, rank, the entry at a rank and the rank where a
 * score (or lex) bound falls all cost O(log n + CHUNK_MAX), and a range copies only what it returns.
 */
export class ZSet {
  readonly scores = new Map<string, number>()
  private chunks: ZEntry[][] = []
  /** Fenwick tree (1-based) of chunk sizes; null after a split/merge until next needed. */
  private tree: Int32Array | null = null

  get size(): number {
    return this.scores.size
  }

  /** Sets a member's score; returns true when the member is new. */
  set(member: string, score: number): boolean {
    const old = this.scores.get(member)
    if (old === score) return false
    this.scores.set(member, score)
    if (old !== undefined) this.unlink(old, member)
    this.link({member, score})
    return old === undefined
  }

  delete(member: string): boolean {
    const old = this.scores.get(member)
    if (old === undefined) return false
    this.scores.delete(member)
    this.unlink(old, member)
    return true
  }

  /** Every member in (score, member) order (a copy: O(n)). */
  entries(): ZEntry[] {
    return this.range(0, this.size)
  }

  /** The entries of ranks [start, end) in order; only they are copied. */
  range(start: number, end: number): ZEntry[] {
    const out: ZEntry[] = []
    if (start < 0) start = 0
    if (end > this.size) end = this.size
    if (start >= end) return out
    let [ci, at] = this.locateRank(start)
    for (let left = end - start; left > 0; ci++, at = 0) {
      const chunk = this.chunks[ci]
      const stop = Math.min(chunk.length, at + left)
      for (let i = at; i < stop; i++) out.push(chunk[i])
      left -= stop - at
    }
    return out
  }

  /** The entry at a 0-based rank (undefined outside [0, size)). */
  at(rank: number): ZEntry | undefined {
    if (rank < 0 || rank >= this.size) return undefined
    const [ci, at] = this.locateRank(rank)
    return this.chunks[ci][at]
  }

  /** 0-based rank of a member, or -1. */
  rank(member: string): number {
    const score = this.scores.get(member)
    if (score === undefined) return -1
    const ci = this.chunkFor(score, member)
    return this.before(ci) + lowerIndex(this.chunks[ci], score, member)
  }

  /**
   * How many leading entries satisfy `pred`, which must hold for a prefix of the order (e.g.
   * "score below min"): the rank where a range bound falls, by binary search.
   */
  countWhile(pred: (e: ZEntry) => boolean): number {
    const chunks = this.chunks
    let lo = 0
    let hi = chunks.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const chunk = chunks[mid]
      if (pred(chunk[chunk.length - 1])) lo = mid + 1
      else hi = mid
    }
    if (lo === chunks.length) return this.size
    const chunk = chunks[lo]
    let a = 0
    let b = chunk.length
    while (a < b) {
      const mid = (a + b) >>> 1
      if (pred(chunk[mid])) a = mid + 1
      else b = mid
    }
    return this.before(lo) + a
  }

  /** Removes the entries of ranks [start, end); returns them. */
  removeRange(start: number, end: number): ZEntry[] {
    const gone = this.range(start, end)
    for (const e of gone) this.delete(e.member)
    return gone
  }

  clone(): ZSet {
    const copy = new ZSet()
    for (const [m, s] of this.scores) copy.scores.set(m, s)
    // Entries are never mutated (a new score is a new entry), so chunks can share them.
    copy.chunks = this.chunks.map((chunk) => chunk.slice())
    return copy
  }

  /** Index of the chunk that holds (or would hold) (score, member): the first whose last entry is >= it. */
  private chunkFor(score: number, member: string): number {
    const chunks = this.chunks
    let lo = 0
    let hi = chunks.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const chunk = chunks[mid]
      if (less(chunk[chunk.length - 1], score, member)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private link(entry: ZEntry): void {
    const chunks = this.chunks
    if (chunks.length === 0) {
      chunks.push([entry])
      this.tree = null
      return
    }
    const ci = this.chunkFor(entry.score, entry.member)
    const chunk = chunks[ci]
    chunk.splice(lowerIndex(chunk, entry.score, entry.member), 0, entry)
    if (chunk.length > CHUNK_MAX) {
      chunks.splice(ci + 1, 0, chunk.splice(chunk.length >>> 1))
      this.tree = null
    } else this.grow(ci, 1)
  }

  private unlink(score: number, member: string): void {
    const chunks = this.chunks
    const ci = this.chunkFor(score, member)
    const chunk = chunks[ci]
    chunk.splice(lowerIndex(chunk, score, member), 1)
    if (chunk.length === 0) {
      chunks.splice(ci, 1)
      this.tree = null
    } else if (chunk.length < CHUNK_MIN && chunks.length > 1) {
      // Merge into the smaller neighbour when the result stays within CHUNK_MAX.
      const left = ci > 0 ? chunks[ci - 1].length : Infinity
      const right = ci + 1 < chunks.length ? chunks[ci + 1].length : Infinity
      const into = left <= right ? ci - 1 : ci + 1
      if (Math.min(left, right) + chunk.length <= CHUNK_MAX) {
        if (into < ci) chunks[into].push(...chunk)
        else chunks[into].unshift(...chunk)
        chunks.splice(ci, 1)
        this.tree = null
        return
      }
      this.grow(ci, -1)
    } else this.grow(ci, -1)
  }

  /** Entries in chunks before chunk `ci`. */
  private before(ci: number): number {
    if (ci === 0) return 0
    const tree = this.fenwick()
    let sum = 0
    for (let i = ci; i > 0; i -= i & -i) sum += tree[i]
    return sum
  }

  /** [chunk index, index in chunk] of a rank in [0, size). */
  private locateRank(rank: number): [number, number] {
    if (this.chunks.length === 1) return [0, rank]
    const tree = this.fenwick()
    let pos = 0
    let left = rank
    for (let step = highestBit(tree.length - 1); step > 0; step >>>= 1) {
      const next = pos + step
      if (next < tree.length && tree[next] <= left) {
        pos = next
        left -= tree[next]
      }
    }
    return [pos, left]
  }

  private grow(ci: number, delta: number): void {
    const tree = this.tree
    if (tree === null) return
    for (let i = ci + 1; i < tree.length; i += i & -i) tree[i] += delta
  }

  private fenwick(): Int32Array {
    if (this.tree !== null) return this.tree
    const chunks = this.chunks
    const tree = new Int32Array(chunks.length + 1)
    for (let i = 1; i <= chunks.length; i++) {
      tree[i] += chunks[i - 1].length
      const parent = i + (i & -i)
      if (parent <= chunks.length) tree[parent] += tree[i]
    }
    this.tree = tree
    return tree
  }
}

export interface ZEntry {
  readonly member: string
  readonly score: number
}

/** (e.score, e.member) < (score, member). */
function less(e: ZEntry, score: number, member: string): boolean {
  return e.score < score || (e.score === score && e.member < member)
}

/** First index of a sorted chunk whose entry is >= (score, member). */
function lowerIndex(chunk: ZEntry[], score: number, member: string): number {
  let lo = 0
  let hi = chunk.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (less(chunk[mid], score, member)) lo = mid + 1
    else hi = mid
  }
  return lo
}

function highestBit(n: number): number {
  return n === 0 ? 0 : 2 ** Math.floor(Math.log2(n))
}

/** A list: a plain array (LPUSH is O(n) per element; fine for the sizes a cache test uses). */
export class List {
  items: string[] = []
  get size(): number {
    return this.items.length
  }
  clone(): List {
    const copy = new List()
    copy.items = this.items.slice()
    return copy
  }
}

export type Value = string | Map<string, string> | Set<string> | ZSet | List

export function typeName(value: Value): 'string' | 'hash' | 'set' | 'zset' | 'list' {
  if (typeof value === 'string') return 'string'
  if (value instanceof Map) return 'hash'
  if (value instanceof Set) return 'set'
  if (value instanceof ZSet) return 'zset'
  return 'list'
}

export function cloneValue(value: Value): Value {
  if (typeof value === 'string') return value
  if (value instanceof Map) return new Map(value)
  if (value instanceof Set) return new Set(value)
  return value.clone()
}

/** Rough bytes a value costs, for MEMORY USAGE (Valkey's numbers are allocator-specific anyway). */
export function approximateSize(key: string, value: Value): number {
  let size = 56 + key.length
  if (typeof value === 'string') return size + value.length + 8
  if (value instanceof Map) {
    for (const [f, v] of value) size += f.length + v.length + 24
    return size
  }
  if (value instanceof Set) {
    for (const m of value) size += m.length + 16
    return size
  }
  if (value instanceof ZSet) {
    for (const [m] of value.scores) size += m.length + 32
    return size
  }
  for (const item of value.items) size += item.length + 11
  return size
}
