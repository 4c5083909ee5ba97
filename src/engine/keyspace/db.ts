// Numbered databases, allocated lazily (a Map, so 10,000,000 configured dbs cost nothing until
// used), with lazy expiry on access and active expiry that only walks dbs holding volatile keys.
import type {Value} from './values.js'

export class Db {
  keys = new Map<string, Value>()
  /** Absolute expiry times in ms, only for keys that have one. */
  expires = new Map<string, number>()
  /** Cursor of the active expiry walk (a live Map iterator tolerates deletes). */
  expiryCursor: Iterator<[string, number]> | null = null

  constructor(
    readonly index: number,
    private readonly space: Keyspace,
  ) {}

  get size(): number {
    return this.keys.size
  }

  /** The live value of a key (expiring it first when due), or undefined. */
  get(key: string): Value | undefined {
    const value = this.keys.get(key)
    if (value === undefined || this.expires.size === 0) return value
    const at = this.expires.get(key)
    if (at !== undefined && at <= Date.now()) {
      this.delete(key)
      return undefined
    }
    return value
  }

  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  /** Stores a value, dropping any TTL (as SET does). */
  set(key: string, value: Value): void {
    this.keys.set(key, value)
    if (this.expires.size !== 0 && this.expires.delete(key) && this.expires.size === 0) this.space.unmarkVolatile(this)
  }

  /** Stores a value, keeping an existing TTL (as APPEND, HSET, KEEPTTL do). */
  replace(key: string, value: Value): void {
    this.keys.set(key, value)
  }

  delete(key: string): boolean {
    if (!this.keys.delete(key)) return false
    if (this.expires.size !== 0 && this.expires.delete(key) && this.expires.size === 0) this.space.unmarkVolatile(this)
    return true
  }

  expireAt(key: string, at: number): void {
    if (this.expires.size === 0) this.space.markVolatile(this)
    this.expires.set(key, at)
  }

  persist(key: string): boolean {
    if (!this.expires.delete(key)) return false
    if (this.expires.size === 0) this.space.unmarkVolatile(this)
    return true
  }

  /** Absolute expiry in ms, or undefined. */
  expiryOf(key: string): number | undefined {
    return this.expires.size === 0 ? undefined : this.expires.get(key)
  }

  clear(): void {
    this.keys = new Map()
    if (this.expires.size !== 0) this.space.unmarkVolatile(this)
    this.expires = new Map()
    this.expiryCursor = null
  }

  /** Exchanges contents with another db (SWAPDB): clients selected on either see the other's data. */
  swapWith(other: Db): void {
    const aVolatile = this.expires.size !== 0
    const bVolatile = other.expires.size !== 0
    ;[this.keys, other.keys] = [other.keys, this.keys]
    ;[this.expires, other.expires] = [other.expires, this.expires]
    this.expiryCursor = other.expiryCursor = null
    if (aVolatile !== bVolatile) {
      if (aVolatile) {
        this.space.unmarkVolatile(this)
        this.space.markVolatile(other)
      } else {
        this.space.unmarkVolatile(other)
        this.space.markVolatile(this)
      }
    }
  }

  /**
   * One active expiry step (Valkey's activeExpireCycle idea): sample keys with a TTL, delete the
   * expired ones, repeat while more than a quarter of a sample was expired and time allows.
   */
  expireSome(now: number, deadline: number): number {
    let removed = 0
    for (;;) {
      let sampled = 0
      let expired = 0
      while (sampled < 20 && this.expires.size !== 0) {
        if (this.expiryCursor === null) this.expiryCursor = this.expires.entries()
        const next = this.expiryCursor.next()
        if (next.done) {
          this.expiryCursor = null
          if (sampled === 0 && expired === 0 && removed === 0) break
          break
        }
        sampled++
        const [key, at] = next.value
        if (at <= now) {
          this.delete(key)
          expired++
        }
      }
      removed += expired
      if (expired * 4 <= sampled || this.expires.size === 0 || Date.now() >= deadline) return removed
    }
  }
}

export class Keyspace {
  private readonly dbs = new Map<number, Db>()
  private readonly volatile = new Set<Db>()
  private timer: NodeJS.Timeout | null = null

  constructor(readonly count: number) {}

  /** The db at `index` (0 <= index < count), created on first use. */
  db(index: number): Db {
    let db = this.dbs.get(index)
    if (db === undefined) {
      db = new Db(index, this)
      this.dbs.set(index, db)
    }
    return db
  }

  /** Dbs that exist, in index order. */
  existing(): Db[] {
    return [...this.dbs.values()].sort((a, b) => a.index - b.index)
  }

  flushAll(): void {
    for (const db of this.dbs.values()) db.clear()
  }

  markVolatile(db: Db): void {
    this.volatile.add(db)
    // The active expiry timer runs only while some db holds a key with a TTL: no idle CPU otherwise.
    if (this.timer === null) {
      this.timer = setInterval(() => this.activeExpire(), 100)
      this.timer.unref()
    }
  }

  unmarkVolatile(db: Db): void {
    this.volatile.delete(db)
    if (this.volatile.size === 0 && this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
  }

  /** Runs one active expiry cycle now (also used by tests); returns keys removed. */
  activeExpire(budgetMs = 25): number {
    const now = Date.now()
    const deadline = now + budgetMs
    let removed = 0
    for (const db of [...this.volatile]) {
      removed += db.expireSome(now, deadline)
      if (Date.now() >= deadline) break
    }
    return removed
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }
}
