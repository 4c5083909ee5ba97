// One key of a dataset, as read from a source file or back from a server.
// Everything is bytes (Buffer) so binary keys and values survive the round trip and the
// checksum is computed over exactly what the server stores.

export type ValueType = 'string' | 'hash' | 'set' | 'zset' | 'list'

export const VALUE_TYPES: readonly ValueType[] = ['string', 'hash', 'set', 'zset', 'list']

export type DatasetValue =
  | {type: 'string'; value: Buffer}
  | {type: 'hash'; value: Array<[field: Buffer, value: Buffer]>}
  | {type: 'set'; value: Buffer[]}
  | {type: 'zset'; value: Array<[member: Buffer, score: number]>}
  | {type: 'list'; value: Buffer[]}

/** Where a record came from, for error messages ("prices.ndjson:42: ..."). */
export interface RecordOrigin {
  file: string
  line: number
}

export interface DatasetRecord {
  key: Buffer
  value: DatasetValue
  /** Seconds to live; undefined = no expiry. */
  ttl?: number
  origin: RecordOrigin
}

/** A key as read back from a server: value null when the key vanished between SCAN and read. */
export interface StoredKey {
  key: Buffer
  value: DatasetValue | null
  hasTtl: boolean
}
