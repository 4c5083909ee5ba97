// Shared pieces of command handlers: Valkey's exact error texts, strict number parsing
// (string2ll / string2ld rules) and typed key lookup.
import {ErrorReply, SimpleString} from '../resp/reply.js'
import type {Db} from '../keyspace/db.js'
import {List, ZSet, type Value} from '../keyspace/values.js'

export const WRONGTYPE = new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value')
export const NOT_INTEGER = new ErrorReply('ERR value is not an integer or out of range')
export const NOT_FLOAT = new ErrorReply('ERR value is not a valid float')
export const SYNTAX = new ErrorReply('ERR syntax error')
export const NO_SUCH_KEY = new ErrorReply('ERR no such key')
export const DB_OUT_OF_RANGE = new ErrorReply('ERR DB index is out of range')
export const OVERFLOW = new ErrorReply('ERR increment or decrement would overflow')
export const NOT_POSITIVE = new ErrorReply('ERR value is out of range, must be positive')

export function arityError(fullname: string): ErrorReply {
  return new ErrorReply(`ERR wrong number of arguments for '${fullname}' command`)
}

const INT64_MAX = 9223372036854775807n
const INT64_MIN = -9223372036854775808n

/**
 * Parses a signed 64-bit integer exactly as Valkey's string2ll: no spaces, no '+', no leading
 * zeros. Returns a number when it is exactly representable, a bigint beyond 2^53, null if invalid.
 */
export function parseInt64(s: string): number | bigint | null {
  const n = s.length
  if (n === 0 || n > 20) return null
  let i = 0
  if (s.charCodeAt(0) === 45 /* - */) {
    if (n === 1) return null
    i = 1
  }
  if (s.charCodeAt(i) === 48 /* 0 */) return n === 1 ? 0 : null
  for (let j = i; j < n; j++) {
    const d = s.charCodeAt(j) - 48
    if (d < 0 || d > 9) return null
  }
  if (n - i <= 15) return Number(s)
  const big = BigInt(s)
  if (big > INT64_MAX || big < INT64_MIN) return null
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big
}

/** Like parseInt64, but only safe JS integers (what every count/index/ttl argument needs). */
export function parseInteger(s: string): number | null {
  const v = parseInt64(s)
  if (v === null) return null
  return typeof v === 'bigint' ? Number(v) : v
}

const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)$/i

/** Parses a double as Valkey does (strtod on the whole string, no NaN); null if invalid. */
export function parseDouble(s: string): number | null {
  if (!FLOAT_RE.test(s)) return null
  const lower = s.toLowerCase()
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower[0] === '-' ? -Infinity : Infinity
  return Number(s)
}

export function isInt64Overflow(v: bigint): boolean {
  return v > INT64_MAX || v < INT64_MIN
}

/** A string's value as a JS integer reply (number when safe, else bigint the encoder writes as is). */
export function integerReply(v: bigint): number {
  return (v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v) as number
}


/** The value at key when it has the wanted type, undefined when absent, WRONGTYPE otherwise. */
export function lookupString(db: Db, key: string): string | undefined | ErrorReply {
  const v = db.get(key)
  if (v === undefined || typeof v === 'string') return v
  return WRONGTYPE
}
export function lookupHash(db: Db, key: string): Map<string, string> | undefined | ErrorReply {
  const v = db.get(key)
  if (v === undefined || v instanceof Map) return v
  return WRONGTYPE
}
export function lookupSet(db: Db, key: string): Set<string> | undefined | ErrorReply {
  const v = db.get(key)
  if (v === undefined || v instanceof Set) return v
  return WRONGTYPE
}
export function lookupZSet(db: Db, key: string): ZSet | undefined | ErrorReply {
  const v = db.get(key)
  if (v === undefined || v instanceof ZSet) return v
  return WRONGTYPE
}
export function lookupList(db: Db, key: string): List | undefined | ErrorReply {
  const v = db.get(key)
  if (v === undefined || v instanceof List) return v
  return WRONGTYPE
}

export function isError(v: unknown): v is ErrorReply {
  return v instanceof ErrorReply
}

/** Deletes a collection key once it is empty (Valkey never keeps empty aggregates). */
export function dropIfEmpty(db: Db, key: string, value: Value): void {
  if (typeof value !== 'string' && value.size === 0) db.delete(key)
}

/** Normalizes a start/stop range like LRANGE/ZRANGE; returns null when empty. */
export function clampRange(start: number, stop: number, length: number): [number, number] | null {
  if (start < 0) start = length + start
  if (stop < 0) stop = length + stop
  if (start < 0) start = 0
  if (start > stop || start >= length) return null
  if (stop >= length) stop = length - 1
  return [start, stop]
}

/**
 * Formats a double for string storage (INCRBYFLOAT, HINCRBYFLOAT) like Valkey's human-friendly
 * long double format: fixed point, no exponent, trailing zeros cut. Valkey computes in long double;
 * rounding to 16 significant digits hides the double-precision noise (0.1 + 0.2 gives "0.3").
 */
export function formatStoredDouble(v: number): string {
  const rounded = Number(v.toPrecision(16))
  const text = String(rounded)
  if (!text.includes('e')) return text
  const negative = rounded < 0
  const [mantissa, expText] = String(Math.abs(rounded)).split('e')
  const exp = Number(expText)
  const digits = mantissa.replace('.', '')
  const pointAt = (mantissa.indexOf('.') < 0 ? mantissa.length : mantissa.indexOf('.')) + exp
  let fixed: string
  if (pointAt <= 0) fixed = '0.' + '0'.repeat(-pointAt) + digits
  else if (pointAt >= digits.length) fixed = digits + '0'.repeat(pointAt - digits.length)
  else fixed = digits.slice(0, pointAt) + '.' + digits.slice(pointAt)
  if (fixed.includes('.')) {
    const [int, frac] = fixed.split('.')
    const cut = frac.slice(0, 17).replace(/0+$/, '')
    fixed = cut ? `${int}.${cut}` : int
  }
  return (negative && fixed !== '0' ? '-' : '') + fixed
}

/** HELP subcommands answer status lines, as Valkey's addReplyHelp does. */
export function helpReply(lines: string[]): SimpleString[] {
  return lines.map((line) => new SimpleString(line))
}
