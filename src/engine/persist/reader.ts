// Reads a snapshot into a FRESH keyspace. The whole file is checked (end marker, checksum,
// version) before a single key is decoded, and decoding builds a new Keyspace that the caller
// swaps in only when everything succeeded: a bad file is never half-loaded.
import {createHash} from 'node:crypto'
import {closeSync, openSync, readFileSync, readSync} from 'node:fs'
import {basename} from 'node:path'
import {Keyspace, type Db} from '../keyspace/db.js'
import {List, ZSet, type Value} from '../keyspace/values.js'
import {
  DB_MARKER,
  END_MARKER,
  FORMAT_VERSION,
  HEADER_FIXED_BYTES,
  MAGIC,
  SnapshotError,
  TRAILER_BYTES,
  TTL_FLAG,
  TYPE_CODES,
  type SnapshotMeta,
} from './format.js'

export interface LoadedSnapshot {
  keyspace: Keyspace
  meta: SnapshotMeta
  /** Keys loaded (expired ones are dropped). */
  keys: number
  /** Keys that had expired while the engine was down. */
  expired: number
}

export interface LoadOptions {
  /** Databases the engine is configured with: a key in a db beyond that refuses the file. */
  databases: number
  /** Keep only keys this predicate accepts (a node keeps its own slots); default all. */
  keep?: (key: string) => boolean
  /** "now" for dropping expired keys (tests). */
  now?: number
}

/** Reads and checks the header of a snapshot without loading it (status, shape checks). */
export function readSnapshotMeta(path: string): SnapshotMeta {
  const fd = openSync(path, 'r')
  try {
    const fixed = Buffer.alloc(HEADER_FIXED_BYTES)
    if (readSync(fd, fixed, 0, fixed.length, 0) < fixed.length) throw truncated(path)
    const metaLength = checkFixedHeader(path, fixed)
    const metaBuf = Buffer.alloc(metaLength)
    if (readSync(fd, metaBuf, 0, metaLength, HEADER_FIXED_BYTES) < metaLength) throw truncated(path)
    return parseMeta(path, metaBuf)
  } finally {
    closeSync(fd)
  }
}

/** Loads a snapshot file; throws SnapshotError (one line, names the file) when it cannot. */
export function loadSnapshot(path: string, options: LoadOptions): LoadedSnapshot {
  let file: Buffer
  try {
    file = readFileSync(path)
  } catch (error) {
    throw new SnapshotError(`cannot read snapshot ${path}: ${(error as Error).message}`)
  }
  const metaLength = checkFixedHeader(path, file)
  const bodyStart = HEADER_FIXED_BYTES + metaLength
  if (file.length < bodyStart + TRAILER_BYTES) throw truncated(path)
  const endAt = file.length - TRAILER_BYTES
  if (file[endAt] !== END_MARKER) throw truncated(path)
  const digest = createHash('sha256').update(file.subarray(0, file.length - 32)).digest()
  if (!digest.equals(file.subarray(file.length - 32))) {
    throw new SnapshotError(`snapshot ${path} is corrupt (checksum mismatch); refusing to load it${prevHint(path)}`)
  }
  const meta = parseMeta(path, file.subarray(HEADER_FIXED_BYTES, bodyStart))
  const declaredKeys = file.readDoubleBE(endAt + 1)
  const decoded = decodeBody(path, file, bodyStart, endAt, options)
  if (decoded.keys + decoded.expired + decoded.skipped !== declaredKeys) {
    throw new SnapshotError(`snapshot ${path} is corrupt (holds ${decoded.keys + decoded.expired + decoded.skipped} keys, its trailer says ${declaredKeys})`)
  }
  return {keyspace: decoded.keyspace, meta: {...meta, keys: declaredKeys}, keys: decoded.keys, expired: decoded.expired}
}

function checkFixedHeader(path: string, buf: Buffer): number {
  if (buf.length < HEADER_FIXED_BYTES) {
    if (buf.length === 0 || MAGIC.subarray(0, buf.length).equals(buf.subarray(0, Math.min(buf.length, MAGIC.length)))) throw truncated(path)
  }
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new SnapshotError(`${path} is not a flip snapshot (bad magic bytes)`)
  if (buf.length < HEADER_FIXED_BYTES) throw truncated(path)
  const version = buf.readUInt16BE(MAGIC.length)
  if (version !== FORMAT_VERSION) {
    throw new SnapshotError(`snapshot ${path} has format version ${version}; this flip reads version ${FORMAT_VERSION}`)
  }
  return buf.readUInt32BE(MAGIC.length + 2)
}

function parseMeta(path: string, buf: Buffer): SnapshotMeta {
  try {
    const meta = JSON.parse(buf.toString('utf8')) as SnapshotMeta
    if (typeof meta.createdAt !== 'number' || typeof meta.nodeCount !== 'number') throw new Error('fields missing')
    return meta
  } catch {
    throw new SnapshotError(`snapshot ${path} is corrupt (unreadable header)`)
  }
}

function truncated(path: string): SnapshotError {
  return new SnapshotError(`snapshot ${path} is truncated (it ends before its end marker); refusing to load it${prevHint(path)}`)
}

function prevHint(path: string): string {
  return `; the previous snapshot, if any, is kept as ${basename(path)}.prev`
}

/** A cursor over the body; every read is bounds-checked against the end marker's offset. */
class Cursor {
  constructor(
    private readonly path: string,
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.end) throw new SnapshotError(`snapshot ${this.path} is corrupt (a record runs past the end at byte ${this.pos})`)
  }

  byte(): number {
    this.need(1)
    return this.buf[this.pos++]
  }

  u32(): number {
    this.need(4)
    const n = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return n
  }

  f64(): number {
    this.need(8)
    const n = this.buf.readDoubleBE(this.pos)
    this.pos += 8
    return n
  }

  /** A length-prefixed byte string as a latin1 string (1:1 bytes, as the engine stores them). */
  bytes(): string {
    let n = this.byte()
    if (n === 0xff) n = this.u32()
    this.need(n)
    const s = this.buf.latin1Slice(this.pos, this.pos + n)
    this.pos += n
    return s
  }
}

function decodeBody(
  path: string,
  file: Buffer,
  start: number,
  end: number,
  options: LoadOptions,
): {keyspace: Keyspace; keys: number; expired: number; skipped: number} {
  const keyspace = new Keyspace(options.databases)
  const now = options.now ?? Date.now()
  const keep = options.keep
  const cur = new Cursor(path, file, start, end)
  let db: Db | null = null
  let keys = 0
  let expired = 0
  let skipped = 0
  while (cur.pos < end) {
    const tag = cur.byte()
    if (tag === DB_MARKER) {
      const index = cur.u32()
      if (index >= options.databases) {
        keyspace.stop()
        throw new SnapshotError(
          `snapshot ${path} holds keys in db ${index} but the engine has ${options.databases} databases; start it with --databases ${index + 1} or more`,
        )
      }
      db = keyspace.db(index)
      continue
    }
    if (db === null) throw new SnapshotError(`snapshot ${path} is corrupt (a key before any database record)`)
    const type = tag & ~TTL_FLAG
    const at = tag & TTL_FLAG ? cur.f64() : undefined
    const key = cur.bytes()
    const value = readValue(path, cur, type)
    if (at !== undefined && at <= now) {
      expired++
      continue
    }
    if (keep !== undefined && !keep(key)) {
      skipped++
      continue
    }
    // A fresh db and unique keys (written from a Map): no TTL to drop, skip Db.set's bookkeeping.
    db.keys.set(key, value)
    if (at !== undefined) db.expireAt(key, at)
    keys++
  }
  return {keyspace, keys, expired, skipped}
}

function readValue(path: string, cur: Cursor, type: number): Value {
  switch (type) {
    case TYPE_CODES.string:
      return cur.bytes()
    case TYPE_CODES.hash: {
      const n = cur.u32()
      const hash = new Map<string, string>()
      for (let i = 0; i < n; i++) {
        const field = cur.bytes()
        hash.set(field, cur.bytes())
      }
      return hash
    }
    case TYPE_CODES.set: {
      const n = cur.u32()
      const set = new Set<string>()
      for (let i = 0; i < n; i++) set.add(cur.bytes())
      return set
    }
    case TYPE_CODES.zset: {
      const n = cur.u32()
      const zset = new ZSet()
      for (let i = 0; i < n; i++) {
        const member = cur.bytes()
        zset.set(member, cur.f64())
      }
      return zset
    }
    case TYPE_CODES.list: {
      const n = cur.u32()
      const list = new List()
      const items = new Array<string>(n)
      for (let i = 0; i < n; i++) items[i] = cur.bytes()
      list.items = items
      return list
    }
    default:
      throw new SnapshotError(`snapshot ${path} is corrupt (unknown value type ${type})`)
  }
}
