// Writes a snapshot: the keyspace is serialized synchronously (a point-in-time copy, as the node
// serves nothing meanwhile) in 1 MB chunks straight into a temp file, then fsync and an atomic
// rename. The current good snapshot stays in place until the new one is complete; it is kept as
// `<file>.prev` afterwards so a later corruption can be recovered by hand. The temp file, fsync
// and rename are src/util/atomic-file.ts's, as for every file flip writes.
import {createHash, type Hash} from 'node:crypto'
import {linkSync, renameSync, rmSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {writeAtomic, writeAtomicSync} from '../../util/atomic-file.js'
import type {Keyspace} from '../keyspace/db.js'
import {List, ZSet, type Value} from '../keyspace/values.js'
import {DB_MARKER, END_MARKER, FORMAT_VERSION, MAGIC, TTL_FLAG, TYPE_CODES, type SnapshotMeta} from './format.js'

const CHUNK_BYTES = 1 << 20

export interface SnapshotStats {
  path: string
  keys: number
  bytes: number
  /** When the keyspace was captured (ms since the epoch). */
  createdAt: number
  /** Time spent serializing (the node is busy for this long). */
  serializeMs: number
  /** Total time including fsync and rename. */
  totalMs: number
}

/** Bytes of a string value or element: latin1 strings map 1:1 to bytes; Buffers are bytes. */
type Bytes = string | Buffer

/** Streams records into a file descriptor through one reusable chunk, hashing as it goes. */
class ChunkWriter {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES)
  private pos = 0
  private readonly hash: Hash = createHash('sha256')
  written = 0

  constructor(private readonly fd: number) {}

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.flush()
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n)
    }
  }

  flush(): void {
    if (this.pos === 0) return
    const chunk = this.buf.subarray(0, this.pos)
    this.hash.update(chunk)
    let off = 0
    while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off)
    this.written += chunk.length
    this.pos = 0
  }

  byte(b: number): void {
    this.ensure(1)
    this.buf[this.pos++] = b
  }

  u16(n: number): void {
    this.ensure(2)
    this.pos = this.buf.writeUInt16BE(n, this.pos)
  }

  u32(n: number): void {
    this.ensure(4)
    this.pos = this.buf.writeUInt32BE(n, this.pos)
  }

  f64(n: number): void {
    this.ensure(8)
    this.pos = this.buf.writeDoubleBE(n, this.pos)
  }

  length(n: number): void {
    if (n < 0xff) this.byte(n)
    else {
      this.ensure(5)
      this.buf[this.pos++] = 0xff
      this.pos = this.buf.writeUInt32BE(n, this.pos)
    }
  }

  /** A length-prefixed byte string. */
  bytes(value: Bytes): void {
    const n = value.length
    this.length(n)
    this.ensure(n)
    if (typeof value === 'string') this.pos += this.buf.latin1Write(value, this.pos, n)
    else this.pos += value.copy(this.buf, this.pos)
  }

  raw(data: Buffer): void {
    this.ensure(data.length)
    this.pos += data.copy(this.buf, this.pos)
  }

  /** Flushes and returns the digest of everything written (the trailer's checksum). */
  digest(): Buffer {
    this.flush()
    return this.hash.digest()
  }
}

function writeValue(w: ChunkWriter, value: Value | Buffer): void {
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    w.bytes(value)
  } else if (value instanceof Map) {
    w.u32(value.size)
    for (const [field, v] of value) {
      w.bytes(field)
      w.bytes(v)
    }
  } else if (value instanceof Set) {
    w.u32(value.size)
    for (const member of value) w.bytes(member)
  } else if (value instanceof ZSet) {
    w.u32(value.size)
    for (const [member, score] of value.scores) {
      w.bytes(member)
      w.f64(score)
    }
  } else if (value instanceof List) {
    w.u32(value.items.length)
    for (const item of value.items) w.bytes(item)
  } else {
    throw new Error(`snapshot: unknown value type ${Object.prototype.toString.call(value)}`)
  }
}

function typeCode(value: Value | Buffer): number {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return TYPE_CODES.string
  if (value instanceof Map) return TYPE_CODES.hash
  if (value instanceof Set) return TYPE_CODES.set
  if (value instanceof ZSet) return TYPE_CODES.zset
  return TYPE_CODES.list
}

/** Serializes the keyspace into fd; returns the key count and bytes. Expired keys are skipped. */
function serialize(fd: number, keyspace: Keyspace, meta: SnapshotMeta): {keys: number; bytes: number} {
  const w = new ChunkWriter(fd)
  const now = meta.createdAt
  // The key count goes in the trailer; the meta carries what is known up front.
  const metaJson = Buffer.from(JSON.stringify({...meta, keys: undefined}), 'utf8')
  w.raw(MAGIC)
  w.u16(FORMAT_VERSION)
  w.u32(metaJson.length)
  w.raw(metaJson)
  let keys = 0
  for (const db of keyspace.existing()) {
    if (db.keys.size === 0) continue
    w.byte(DB_MARKER)
    w.u32(db.index)
    const expires = db.expires
    for (const [key, value] of db.keys) {
      const at = expires.size === 0 ? undefined : expires.get(key)
      if (at !== undefined) {
        if (at <= now) continue
        w.byte(typeCode(value) | TTL_FLAG)
        w.f64(at)
      } else {
        w.byte(typeCode(value))
      }
      w.bytes(key)
      writeValue(w, value)
      keys++
    }
  }
  w.byte(END_MARKER)
  w.f64(keys)
  const digest = w.digest()
  let off = 0
  while (off < digest.length) off += writeSync(fd, digest, off, digest.length - off)
  return {keys, bytes: w.written + digest.length}
}

/** Keeps the current snapshot (if any) as `<path>.prev`, atomically replacing an older .prev. */
function keepPrevious(path: string): void {
  const prevTemp = join(dirname(path), `.${basename(path)}.prev.${process.pid}.tmp`)
  try {
    rmSync(prevTemp, {force: true})
    linkSync(path, prevTemp)
    renameSync(prevTemp, `${path}.prev`)
  } catch (error) {
    rmSync(prevTemp, {force: true})
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/**
 * Saves the keyspace to path atomically. Serialization is synchronous (a consistent
 * point-in-time copy); the fsync and rename that follow do not block the event loop.
 */
export async function saveSnapshot(keyspace: Keyspace, path: string, meta: Omit<SnapshotMeta, 'createdAt'>): Promise<SnapshotStats> {
  const run = snapshotRun(keyspace, path, meta)
  return run.stats(await writeAtomic(path, run.write, {beforeRename: () => keepPrevious(path)}))
}

/** The same, fully synchronous: for a final save while the process is shutting down. */
export function saveSnapshotSync(keyspace: Keyspace, path: string, meta: Omit<SnapshotMeta, 'createdAt'>): SnapshotStats {
  const run = snapshotRun(keyspace, path, meta)
  return run.stats(writeAtomicSync(path, run.write, {beforeRename: () => keepPrevious(path)}))
}

/** One save's serializer for writeAtomic(Sync) and the stats it reports, timed from now. */
function snapshotRun(keyspace: Keyspace, path: string, meta: Omit<SnapshotMeta, 'createdAt'>) {
  const started = performance.now()
  const createdAt = Date.now()
  let serializeMs = 0
  return {
    write(fd: number) {
      const written = serialize(fd, keyspace, {...meta, createdAt})
      serializeMs = performance.now() - started
      return written
    },
    stats(result: {keys: number; bytes: number}): SnapshotStats {
      return {path, keys: result.keys, bytes: result.bytes, createdAt, serializeMs, totalMs: performance.now() - started}
    },
  }
}
