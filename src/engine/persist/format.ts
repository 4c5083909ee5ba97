// The snapshot file format (version 1). One file per node holds that node's whole keyspace.
//
//   magic "FLIPSNAP" (8 bytes) · format version (u16 BE) · meta length (u32 BE) · meta (UTF-8 JSON)
//   body: records, in any order
//     0xFE db-index (u32 BE)                         following entries belong to that db
//     type (0..4, | 0x80 when it has a TTL) [expiry ms (f64 BE, absolute)] key value
//   0xFF key count (f64 BE) · sha256 of every byte before it (32 bytes)
//
// Lengths are 1 byte when < 255, else 0xFF then a u32 BE. Keys, fields, members and elements are
// raw bytes. Values: string = bytes; hash = count (fields · values); set = count members;
// zset = count (member · score f64 BE); list = count elements. The trailer's end marker tells a
// truncated file from a corrupt one; the checksum covers the header too.

import {join} from 'node:path'

/** One snapshot file per node in the engine directory. */
export function snapshotPath(dir: string, nodeIndex: number): string {
  return join(dir, `node-${nodeIndex}.snapshot`)
}

export const MAGIC = Buffer.from('FLIPSNAP', 'latin1')
export const FORMAT_VERSION = 1
export const DB_MARKER = 0xfe
export const END_MARKER = 0xff
export const TTL_FLAG = 0x80
/** End marker + key count + sha256. */
export const TRAILER_BYTES = 1 + 8 + 32
export const HEADER_FIXED_BYTES = MAGIC.length + 2 + 4

export const TYPE_CODES = {string: 0, hash: 1, set: 2, zset: 3, list: 4} as const

/** Who wrote a snapshot: used to refuse loading it into an engine of another shape. */
export interface SnapshotMeta {
  /** ms since the epoch when the snapshot was taken. */
  createdAt: number
  mode: 'cluster' | 'standalone'
  nodeIndex: number
  nodeCount: number
  databases: number
  /** Set by the writer. */
  keys?: number
}

/** A snapshot that cannot be used: truncated, corrupt, of another version or shape. One line. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SnapshotError'
  }
}
