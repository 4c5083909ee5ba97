// Per-database memory limits (`--db-maxmemory 5=64mb`), a flip feature Valkey does not have.
//
// Only limited dbs are tracked on the write path (unlimited ones cost one Map lookup per write);
// INFO figures for the others are counted on demand. A tracked db's usage is kept up to date by
// measuring the keys a write command touches before and after it runs (estimateEntryBytes, bounded
// cost per key). Keys that expire or are deleted outside a write command (active expiry, lazy
// expiry on a read) are not seen at once: when a write would be refused, a db that holds TTLs or
// has not been counted for a second is recounted first, so a refusal is never caused by drift.
//
// INFO's figure for a db without a limit is estimated from its first 1000 entries (times its size).
//
// A write is refused when the db's estimated usage plus the bytes it may add (the command's
// arguments; for MOVE/COPY into the db, the moved entry) would exceed the limit. Only commands
// that can grow a db are checked (Valkey's `denyoom` flag, plus MOVE); deleting always works.
import type {Db, Keyspace} from '../keyspace/db.js'
import {estimateEntryBytes, formatSize} from './estimate.js'

/** Everything a write touched in limited dbs, measured before it ran. */
export interface WriteScope {
  kind: 'keys' | 'flushdb' | 'flushall' | 'swapdb'
  db: Db
  touched: Array<{db: Db; key: string; before: number}>
}

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro'])
/** Entries INFO looks at to estimate a db without a limit. */
const INFO_SAMPLE = 1000
/** How long a recount stays trusted when deciding to refuse a write. */
const RECOUNT_AFTER_MS = 1000

interface Tracked {
  bytes: number
  /** Keys the db should hold by our count: differs from its size after an unseen expiry. */
  keys: number
  countedAt: number
}

export class DbMemory {
  /** Usage of limited dbs; absent = not counted yet (counted on first need). */
  private readonly tracked = new Map<number, Tracked>()

  constructor(
    private readonly keyspace: Keyspace,
    readonly limits: ReadonlyMap<number, number>,
  ) {}

  limit(dbIndex: number): number | undefined {
    return this.limits.get(dbIndex)
  }

  /**
   * Estimated bytes held by a db. Limited dbs are tracked exactly (counted on first need);
   * others, which only INFO asks about (clients such as iovalkey send INFO on every connect),
   * are estimated from their first INFO_SAMPLE entries so INFO stays cheap on big dbs.
   */
  usage(dbIndex: number): number {
    if (!this.limits.has(dbIndex)) return this.sampledUsage(dbIndex)
    return this.tracked.get(dbIndex)?.bytes ?? this.recount(dbIndex)
  }

  private sampledUsage(dbIndex: number): number {
    const db = this.keyspace.db(dbIndex)
    const expires = db.expires
    let total = 0
    let seen = 0
    for (const [key, value] of db.keys) {
      total += estimateEntryBytes(key, value, expires.size !== 0 && expires.has(key))
      if (++seen === INFO_SAMPLE) break
    }
    return seen === db.keys.size ? total : Math.round((total / seen) * db.keys.size)
  }

  /** Walks a db and sets its usage from scratch; returns it. */
  recount(dbIndex: number): number {
    let total = 0
    // Only called for dbs that hold keys or have a limit: creating an empty Db for one is cheap.
    const db = this.keyspace.db(dbIndex)
    const expires = db.expires
    for (const [key, value] of db.keys) total += estimateEntryBytes(key, value, expires.size !== 0 && expires.has(key))
    if (this.limits.has(dbIndex)) this.tracked.set(dbIndex, {bytes: total, keys: db.keys.size, countedAt: Date.now()})
    return total
  }

  /** Adds (or with a negative delta, removes) bytes from a tracked db's usage. */
  charge(dbIndex: number, deltaBytes: number, deltaKeys = 0): void {
    const t = this.tracked.get(dbIndex)
    if (t === undefined) return
    t.bytes = Math.max(0, t.bytes + deltaBytes)
    t.keys += deltaKeys
  }

  /** The OOM error message when adding extraBytes would put a db past its limit, else null. */
  wouldExceed(dbIndex: number, extraBytes: number): string | null {
    const limit = this.limits.get(dbIndex)
    if (limit === undefined) return null
    if (this.usage(dbIndex) + extraBytes <= limit) return null
    // Before refusing, make sure the figure is not inflated by keys that expired unseen.
    const t = this.tracked.get(dbIndex)!
    const drifted = Date.now() - t.countedAt > RECOUNT_AFTER_MS || this.keyspace.db(dbIndex).keys.size !== t.keys
    if (drifted && this.recount(dbIndex) + extraBytes <= limit) return null
    return oomMessage(dbIndex, limit)
  }

  /**
   * Admission check before a write command runs (MULTI queueing, EXEC, scripts included).
   * Returns the error message to reply with, or null. `command` is the lowercase full name.
   */
  admit(db: Db, command: string, argv: readonly string[], denyoom: boolean): string | null {
    if (this.limits.size === 0) return null
    if (command === 'move') {
      const target = dbArgument(argv[2])
      if (target === undefined || !this.limits.has(target) || target === db.index) return null
      return this.wouldExceed(target, this.entryBytes(db, argv[1]))
    }
    if (command === 'copy') {
      const target = copyTarget(db, argv)
      if (!this.limits.has(target)) return null
      const source = db.keys.get(argv[1])
      return this.wouldExceed(target, source === undefined ? 0 : estimateEntryBytes(argv[2], source))
    }
    if (!denyoom || !this.limits.has(db.index)) return null
    let extra = 0
    for (let i = 1; i < argv.length; i++) extra += argv[i].length
    return this.wouldExceed(db.index, extra)
  }

  /**
   * Call before a write command's handler with the keys it names (from the command table);
   * pass the result to endWrite after it ran. null = nothing limited is touched.
   */
  beginWrite(db: Db, command: string, argv: readonly string[], keys: readonly string[]): WriteScope | null {
    if (this.limits.size === 0) return null
    if (SCRIPT_COMMANDS.has(command)) return null // the commands a script runs are measured one by one
    if (command === 'flushdb' || command === 'flushall' || command === 'swapdb') return {kind: command, db, touched: []}
    const touched: WriteScope['touched'] = []
    if (this.limits.has(db.index)) {
      this.usage(db.index) // make sure it is tracked before charging deltas
      for (const key of keys) touched.push({db, key, before: this.entryBytes(db, key)})
    }
    let target: number | undefined
    if (command === 'move') target = dbArgument(argv[2])
    else if (command === 'copy') target = copyTarget(db, argv)
    if (target !== undefined && target !== db.index && this.limits.has(target) && target < this.keyspace.count) {
      this.usage(target)
      const targetDb = this.keyspace.db(target)
      const key = command === 'copy' ? argv[2] : argv[1]
      touched.push({db: targetDb, key, before: this.entryBytes(targetDb, key)})
    }
    return touched.length === 0 ? null : {kind: 'keys', db, touched}
  }

  endWrite(scope: WriteScope): void {
    if (scope.kind === 'flushdb') {
      if (this.limits.has(scope.db.index)) this.tracked.set(scope.db.index, {bytes: 0, keys: 0, countedAt: Date.now()})
    } else if (scope.kind === 'flushall') {
      for (const index of this.limits.keys()) this.tracked.set(index, {bytes: 0, keys: 0, countedAt: Date.now()})
    } else if (scope.kind === 'swapdb') {
      // Which two dbs swapped is the handler's business: recount lazily.
      this.tracked.clear()
    } else {
      for (const t of scope.touched) {
        const after = this.entryBytes(t.db, t.key)
        this.charge(t.db.index, after - t.before, (after > 0 ? 1 : 0) - (t.before > 0 ? 1 : 0))
      }
    }
  }

  /** Lines for INFO's memory section: `used_memory_db5:1234` for every db holding keys, and `maxmemory_db5:…` per limit. */
  infoLines(): string[] {
    const lines: string[] = []
    const indexes = new Set<number>(this.limits.keys())
    for (const db of this.keyspace.existing()) if (db.keys.size !== 0) indexes.add(db.index)
    for (const index of [...indexes].sort((a, b) => a - b)) {
      lines.push(`used_memory_db${index}:${this.usage(index)}`)
      const limit = this.limits.get(index)
      if (limit !== undefined) lines.push(`maxmemory_db${index}:${limit}`)
    }
    return lines
  }

  /** Raw lookup (no lazy expiry), so a key expired by the command itself is still subtracted. */
  private entryBytes(db: Db, key: string): number {
    const value = db.keys.get(key)
    return value === undefined ? 0 : estimateEntryBytes(key, value, db.expires.size !== 0 && db.expires.has(key))
  }
}

/** The reply text of a refused write; clients see it as an OOM error. */
export function oomMessage(dbIndex: number, limit: number): string {
  return `OOM command not allowed when used memory of db ${dbIndex} would exceed its 'db-maxmemory' (${formatSize(limit)})`
}

function dbArgument(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined
  return Number(text)
}

/** COPY source destination [DB n] [REPLACE]: the destination db. */
function copyTarget(db: Db, argv: readonly string[]): number {
  for (let i = 3; i < argv.length - 1; i++) {
    if (argv[i].toLowerCase() === 'db') return dbArgument(argv[i + 1]) ?? db.index
  }
  return db.index
}
