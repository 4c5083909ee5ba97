// Value types held by the keyspace. Strings, fields and members are latin1 byte strings.

/** A sorted set: scores by member, plus a lazily rebuilt order by (score, member). */
export class ZSet {
  readonly scores = new Map<string, number>()
  private ordered: ZEntry[] | null = []

  get size(): number {
    return this.scores.size
  }

  /** Sets a member's score; returns true when the member is new. */
  set(member: string, score: number): boolean {
    const old = this.scores.get(member)
    if (old === score) return false
    this.scores.set(member, score)
    if (this.ordered !== null) {
      if (this.ordered.length > 4096) this.ordered = null
      else {
        if (old !== undefined) this.ordered.splice(this.rankOf(member, old), 1)
        const at = this.insertionPoint(score, member)
        this.ordered.splice(at, 0, {member, score})
      }
    }
    return old === undefined
  }

  delete(member: string): boolean {
    const old = this.scores.get(member)
    if (old === undefined) return false
    this.scores.delete(member)
    if (this.ordered !== null) {
      if (this.ordered.length > 4096) this.ordered = null
      else this.ordered.splice(this.rankOf(member, old), 1)
    }
    return true
  }

  /** Members in (score, member) order. */
  entries(): ZEntry[] {
    if (this.ordered === null) {
      const list: ZEntry[] = []
      for (const [member, score] of this.scores) list.push({member, score})
      list.sort(compareEntries)
      this.ordered = list
    }
    return this.ordered
  }

  /** 0-based rank of a member, or -1. */
  rank(member: string): number {
    const score = this.scores.get(member)
    if (score === undefined) return -1
    this.entries()
    return this.rankOf(member, score)
  }

  private rankOf(member: string, score: number): number {
    return this.insertionPoint(score, member)
  }

  /** First index whose entry is >= (score, member). */
  insertionPoint(score: number, member: string): number {
    const list = this.entries()
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const e = list[mid]
      if (e.score < score || (e.score === score && e.member < member)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  clone(): ZSet {
    const copy = new ZSet()
    for (const [m, s] of this.scores) copy.scores.set(m, s)
    copy.ordered = null
    return copy
  }
}

export interface ZEntry {
  member: string
  score: number
}

function compareEntries(a: ZEntry, b: ZEntry): number {
  if (a.score !== b.score) return a.score < b.score ? -1 : 1
  return a.member < b.member ? -1 : a.member > b.member ? 1 : 0
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
