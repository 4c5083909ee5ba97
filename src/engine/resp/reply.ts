// The values command handlers return. The encoder turns them into RESP2 or RESP3
// bytes for the client's protocol; the Lua bridge converts them to Lua values.
// Keeping replies as data (not bytes) lets EVAL, MULTI/EXEC and the wire share handlers.

/** +OK style status reply. */
export class SimpleString {
  constructor(readonly value: string) {}
}

/** -ERR style error reply; `message` is the whole line after '-', e.g. "ERR unknown command ...". */
export class ErrorReply {
  constructor(readonly message: string) {}
}

/** RESP3 double (`,1.5`); RESP2 sends it as a bulk string formatted as Valkey does. */
export class DoubleReply {
  constructor(readonly value: number) {}
}

/** RESP3 map (`%`); RESP2 sends a flat array of key, value, key, value. */
export class MapReply {
  constructor(readonly entries: Array<[Reply, Reply]>) {}
}

/** RESP3 set (`~`); RESP2 sends an array. */
export class SetReply {
  constructor(readonly items: Reply[]) {}
}

/** RESP3 verbatim/"big" replies are not needed; a null array is distinct from a null bulk in RESP2. */
export const NULL_ARRAY = Symbol('null-array')

/**
 * - Buffer | string: bulk string (string is written as UTF-8)
 * - number: integer reply (must be an integer)
 * - null: null bulk (RESP3 `_`)
 * - NULL_ARRAY: null multi-bulk (`*-1`, RESP3 `_`)
 * - Reply[]: array
 */
export type Reply =
  | Buffer
  | string
  | number
  | null
  | typeof NULL_ARRAY
  | SimpleString
  | ErrorReply
  | DoubleReply
  | MapReply
  | SetReply
  | Reply[]

export const OK = new SimpleString('OK')
export const QUEUED = new SimpleString('QUEUED')
export const PONG = new SimpleString('PONG')

