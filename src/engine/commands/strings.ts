// String commands (Valkey t_string.c). Values are latin1 byte strings.
import type {Client} from '../client.js'
import {ErrorReply, OK, type Reply} from '../resp/reply.js'
import type {Handler} from './command.js'
import {
  NOT_FLOAT,
  NOT_INTEGER,
  OVERFLOW,
  SYNTAX,
  WRONGTYPE,
  formatStoredDouble,
  integerReply,
  isError,
  isInt64Overflow,
  lookupString,
  parseDouble,
  parseInt64,
  parseInteger,
} from './util.js'

const MAX_STRING = 512 * 1024 * 1024

function invalidExpire(cmd: string): ErrorReply {
  return new ErrorReply(`ERR invalid expire time in '${cmd}' command`)
}

/** Converts an EX/PX/EXAT/PXAT argument to an absolute ms time, or an error reply. */
export function expireArgument(unit: string, text: string, cmd: string, now: number): number | ErrorReply {
  const n = parseInteger(text)
  if (n === null) return NOT_INTEGER
  if (n <= 0) return invalidExpire(cmd)
  let at: number
  if (unit === 'ex') at = now + n * 1000
  else if (unit === 'px') at = now + n
  else if (unit === 'exat') at = n * 1000
  else at = n
  // 2 ** 63: INT64_MAX as the double it rounds to.
  if (!Number.isSafeInteger(at) || at > 2 ** 63 / 1000) return invalidExpire(cmd)
  return at
}

const set: Handler = (c, argv) => {
  const key = argv[1]
  let nx = false
  let xx = false
  let get = false
  let keepTtl = false
  let expireUnit = ''
  let expireText = ''
  for (let i = 3; i < argv.length; i++) {
    const opt = argv[i].toLowerCase()
    const next = i + 1 < argv.length
    if (opt === 'nx' && !xx) nx = true
    else if (opt === 'xx' && !nx) xx = true
    else if (opt === 'get') get = true
    else if (opt === 'keepttl' && !expireUnit) keepTtl = true
    else if ((opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') && !keepTtl && !expireUnit && next) {
      expireUnit = opt
      expireText = argv[++i]
    } else return SYNTAX
  }
  let at = 0
  if (expireUnit) {
    const parsed = expireArgument(expireUnit, expireText, 'set', Date.now())
    if (isError(parsed)) return parsed
    at = parsed
  }
  const db = c.db
  // Plain SET (the hot path) does not need the old value.
  const old = nx || xx || get ? db.get(key) : undefined
  if (get && old !== undefined && typeof old !== 'string') return WRONGTYPE
  if ((nx && old !== undefined) || (xx && old === undefined)) return get ? (old as string | undefined) ?? null : null
  if (keepTtl) db.replace(key, argv[2])
  else db.set(key, argv[2])
  if (expireUnit) {
    // An EXAT/PXAT in the past stores nothing visible (Valkey deletes it at once).
    if (at <= Date.now()) db.delete(key)
    else db.expireAt(key, at)
  }
  return get ? (old as string | undefined) ?? null : OK
}

const get: Handler = (c, argv) => {
  const v = lookupString(c.db, argv[1])
  return v === undefined ? null : v
}

const getex: Handler = (c, argv) => {
  const key = argv[1]
  let unit = ''
  let text = ''
  let persist = false
  for (let i = 2; i < argv.length; i++) {
    const opt = argv[i].toLowerCase()
    if ((opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') && !unit && !persist && i + 1 < argv.length) {
      unit = opt
      text = argv[++i]
    } else if (opt === 'persist' && !unit && !persist) persist = true
    else return SYNTAX
  }
  let at = 0
  if (unit) {
    const parsed = expireArgument(unit, text, 'getex', Date.now())
    if (isError(parsed)) return parsed
    at = parsed
  }
  const v = lookupString(c.db, key)
  if (v === undefined || isError(v)) return v ?? null
  if (unit) {
    if (at <= Date.now()) c.db.delete(key)
    else c.db.expireAt(key, at)
  } else if (persist) c.db.persist(key)
  return v
}

const getdel: Handler = (c, argv) => {
  const v = lookupString(c.db, argv[1])
  if (v === undefined || isError(v)) return v ?? null
  c.db.delete(argv[1])
  return v
}

const getset: Handler = (c, argv) => {
  const v = lookupString(c.db, argv[1])
  if (isError(v)) return v
  c.db.set(argv[1], argv[2])
  return v ?? null
}

const setnx: Handler = (c, argv) => {
  if (c.db.has(argv[1])) return 0
  c.db.set(argv[1], argv[2])
  return 1
}

function setWithTtl(name: string, unit: 'ex' | 'px'): Handler {
  return (c, argv) => {
    const at = expireArgument(unit, argv[2], name, Date.now())
    if (isError(at)) return at
    c.db.set(argv[1], argv[3])
    c.db.expireAt(argv[1], at)
    return OK
  }
}

const mget: Handler = (c, argv) => {
  const out: Reply[] = new Array(argv.length - 1)
  for (let i = 1; i < argv.length; i++) {
    const v = c.db.get(argv[i])
    out[i - 1] = typeof v === 'string' ? v : null
  }
  return out
}

const mset: Handler = (c, argv) => {
  if (argv.length % 2 === 0) return new ErrorReply("ERR wrong number of arguments for 'mset' command")
  for (let i = 1; i < argv.length; i += 2) c.db.set(argv[i], argv[i + 1])
  return OK
}

const msetnx: Handler = (c, argv) => {
  if (argv.length % 2 === 0) return new ErrorReply("ERR wrong number of arguments for 'msetnx' command")
  for (let i = 1; i < argv.length; i += 2) if (c.db.has(argv[i])) return 0
  for (let i = 1; i < argv.length; i += 2) c.db.set(argv[i], argv[i + 1])
  return 1
}

const append: Handler = (c, argv) => {
  const v = lookupString(c.db, argv[1])
  if (isError(v)) return v
  const next = v === undefined ? argv[2] : v + argv[2]
  if (next.length > MAX_STRING) return new ErrorReply('ERR string exceeds maximum allowed size (proto-max-bulk-len)')
  if (v === undefined) c.db.set(argv[1], next)
  else c.db.replace(argv[1], next)
  return next.length
}

const strlen: Handler = (c, argv) => {
  const v = lookupString(c.db, argv[1])
  if (isError(v)) return v
  return v === undefined ? 0 : v.length
}

function incrementBy(c: Client, key: string, by: number | bigint): Reply {
  const v = lookupString(c.db, key)
  if (isError(v)) return v
  let current: number | bigint = 0
  if (v !== undefined) {
    const parsed = parseInt64(v)
    if (parsed === null) return NOT_INTEGER
    current = parsed
  }
  let next: bigint | number
  if (typeof current === 'number' && typeof by === 'number' && Math.abs(current) < 2 ** 52 && Math.abs(by) < 2 ** 52) {
    next = current + by
  } else {
    next = BigInt(current) + BigInt(by)
    if (isInt64Overflow(next)) return OVERFLOW
  }
  const text = String(next)
  if (v === undefined) c.db.set(key, text)
  else c.db.replace(key, text)
  return typeof next === 'bigint' ? integerReply(next) : next
}

const incr: Handler = (c, argv) => incrementBy(c, argv[1], 1)
const decr: Handler = (c, argv) => incrementBy(c, argv[1], -1)
const incrby: Handler = (c, argv) => {
  const by = parseInt64(argv[2])
  return by === null ? NOT_INTEGER : incrementBy(c, argv[1], by)
}
const decrby: Handler = (c, argv) => {
  const by = parseInt64(argv[2])
  if (by === null) return NOT_INTEGER
  if (typeof by === 'bigint' && by === -9223372036854775808n) return new ErrorReply('ERR decrement would overflow')
  return incrementBy(c, argv[1], -by)
}

const incrbyfloat: Handler = (c, argv) => {
  const v = lookupString(c.db, argv[1])
  if (isError(v)) return v
  const by = parseDouble(argv[2])
  if (by === null) return NOT_FLOAT
  let current = 0
  if (v !== undefined) {
    const parsed = parseDouble(v)
    if (parsed === null) return NOT_FLOAT
    current = parsed
  }
  const next = current + by
  if (!Number.isFinite(next)) return new ErrorReply('ERR increment would produce NaN or Infinity')
  const text = formatStoredDouble(next)
  if (v === undefined) c.db.set(argv[1], text)
  else c.db.replace(argv[1], text)
  return text
}

const getrange: Handler = (c, argv) => {
  const start = parseInteger(argv[2])
  const end = parseInteger(argv[3])
  if (start === null || end === null) return NOT_INTEGER
  const v = lookupString(c.db, argv[1])
  if (isError(v)) return v
  if (v === undefined || v.length === 0) return ''
  let s = start < 0 ? v.length + start : start
  let e = end < 0 ? v.length + end : end
  if (start < 0 && end < 0 && start > end) return ''
  if (s < 0) s = 0
  if (e < 0) e = 0
  if (e >= v.length) e = v.length - 1
  if (s > e) return ''
  return v.slice(s, e + 1)
}

const setrange: Handler = (c, argv) => {
  const offset = parseInteger(argv[2])
  if (offset === null) return NOT_INTEGER
  if (offset < 0) return new ErrorReply('ERR offset is out of range')
  const v = lookupString(c.db, argv[1])
  if (isError(v)) return v
  const value = argv[3]
  const current = v ?? ''
  if (value.length === 0) return current.length
  if (offset + value.length > MAX_STRING) return new ErrorReply('ERR string exceeds maximum allowed size (proto-max-bulk-len)')
  const padded = current.length < offset ? current + '\0'.repeat(offset - current.length) : current
  const next = padded.slice(0, offset) + value + padded.slice(offset + value.length)
  if (v === undefined) c.db.set(argv[1], next)
  else c.db.replace(argv[1], next)
  return next.length
}

export const stringHandlers: Record<string, Handler> = {
  set,
  get,
  getex,
  getdel,
  getset,
  setnx,
  setex: setWithTtl('setex', 'ex'),
  psetex: setWithTtl('psetex', 'px'),
  mget,
  mset,
  msetnx,
  append,
  strlen,
  incr,
  decr,
  incrby,
  decrby,
  incrbyfloat,
  getrange,
  setrange,
}
