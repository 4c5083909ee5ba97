// Keyspace and database commands (Valkey db.c, expire.c): keys, TTLs, numbered databases.
import type {Client} from '../client.js'
import {globMatch} from '../keyspace/glob.js'
import {approximateSize, cloneValue, typeName} from '../keyspace/values.js'
import {ErrorReply, OK, SimpleString} from '../resp/reply.js'
import type {Handler} from './command.js'
import {helpReply} from './util.js'
import {scanKeys} from './scan.js'
import {DB_OUT_OF_RANGE, NOT_INTEGER, NO_SUCH_KEY, SYNTAX, parseInteger} from './util.js'

const SAME_OBJECT = new ErrorReply('ERR source and destination objects are the same')

/** Parses a db index as getIntFromObjectOrReply + selectDb do; the index or an error reply. */
export function parseDbIndex(c: Client, text: string, notIntMessage?: string): number | ErrorReply {
  const n = parseInteger(text)
  if (n === null) return notIntMessage ? new ErrorReply(notIntMessage) : NOT_INTEGER
  if (n > 2147483647 || n < -2147483648) {
    return new ErrorReply(notIntMessage ?? 'ERR value is out of range, value must between -2147483648 and 2147483647')
  }
  if (n < 0 || n >= c.node.keyspace.count) return DB_OUT_OF_RANGE
  return n
}

const del: Handler = (c, argv) => {
  let n = 0
  for (let i = 1; i < argv.length; i++) if (c.db.get(argv[i]) !== undefined && c.db.delete(argv[i])) n++
  return n
}

const exists: Handler = (c, argv) => {
  let n = 0
  for (let i = 1; i < argv.length; i++) if (c.db.get(argv[i]) !== undefined) n++
  return n
}

const type: Handler = (c, argv) => {
  const v = c.db.get(argv[1])
  return new SimpleString(v === undefined ? 'none' : typeName(v))
}

function expireCommand(name: string, unit: 'ex' | 'px' | 'exat' | 'pxat'): Handler {
  return (c, argv) => {
    const n = parseInteger(argv[2])
    if (n === null) return NOT_INTEGER
    let nx = false
    let xx = false
    let gt = false
    let lt = false
    for (let i = 3; i < argv.length; i++) {
      const opt = argv[i].toLowerCase()
      if (opt === 'nx') nx = true
      else if (opt === 'xx') xx = true
      else if (opt === 'gt') gt = true
      else if (opt === 'lt') lt = true
      else return new ErrorReply(`ERR Unsupported option ${argv[i]}`)
    }
    if (nx && (xx || gt || lt)) return new ErrorReply('ERR NX and XX, GT or LT options at the same time are not compatible')
    if (gt && lt) return new ErrorReply('ERR GT and LT options at the same time are not compatible')
    const now = Date.now()
    let at = unit === 'ex' ? now + n * 1000 : unit === 'px' ? now + n : unit === 'exat' ? n * 1000 : n
    // 2 ** 63: INT64_MAX as the double it rounds to.
    if (!Number.isSafeInteger(at) || Math.abs(n) > 2 ** 63 / 1000) {
      return new ErrorReply(`ERR invalid expire time in '${name}' command`)
    }
    const db = c.db
    if (db.get(argv[1]) === undefined) return 0
    const current = db.expiryOf(argv[1])
    if (nx && current !== undefined) return 0
    if (xx && current === undefined) return 0
    // A key without TTL counts as an infinite TTL for GT/LT.
    if (gt && (current === undefined || at <= current)) return 0
    if (lt && current !== undefined && at >= current) return 0
    if (at <= now) {
      db.delete(argv[1])
      return 1
    }
    if (at < 0) at = 0
    db.expireAt(argv[1], at)
    return 1
  }
}

function ttlCommand(ms: boolean, absolute: boolean): Handler {
  return (c, argv) => {
    const db = c.db
    if (db.get(argv[1]) === undefined) return -2
    const at = db.expiryOf(argv[1])
    if (at === undefined) return -1
    if (absolute) return ms ? at : Math.floor(at / 1000)
    const left = Math.max(0, at - Date.now())
    return ms ? left : Math.floor((left + 500) / 1000)
  }
}

const persist: Handler = (c, argv) => {
  if (c.db.get(argv[1]) === undefined) return 0
  return c.db.persist(argv[1]) ? 1 : 0
}

function renameCommand(nx: boolean): Handler {
  return (c, argv) => {
    const db = c.db
    const value = db.get(argv[1])
    if (value === undefined) return NO_SUCH_KEY
    if (argv[1] === argv[2]) return nx ? 0 : OK
    if (nx && db.get(argv[2]) !== undefined) return 0
    const at = db.expiryOf(argv[1])
    db.delete(argv[1])
    db.set(argv[2], value)
    if (at !== undefined) db.expireAt(argv[2], at)
    c.node.touchKey(db, argv[1])
    return nx ? 1 : OK
  }
}

const keys: Handler = (c, argv) => {
  const out: string[] = []
  const pattern = argv[1]
  const db = c.db
  const now = Date.now()
  for (const key of db.keys.keys()) {
    if (!globMatch(pattern, key)) continue
    const at = db.expires.size === 0 ? undefined : db.expires.get(key)
    if (at !== undefined && at <= now) continue
    out.push(key)
  }
  return out
}

const randomkey: Handler = (c) => {
  const db = c.db
  for (let attempt = 0; attempt < 100 && db.size > 0; attempt++) {
    let skip = Math.floor(Math.random() * db.size)
    for (const key of db.keys.keys()) {
      if (skip-- > 0) continue
      if (db.get(key) !== undefined) return key
      break
    }
  }
  return null
}

const dbsize: Handler = (c) => c.db.size

const select: Handler = (c, argv) => {
  const index = parseDbIndex(c, argv[1])
  if (index instanceof ErrorReply) return index
  c.db = c.node.keyspace.db(index)
  return OK
}

const move: Handler = (c, argv) => {
  const index = parseDbIndex(c, argv[2])
  if (index instanceof ErrorReply) return index
  const src = c.db
  if (index === src.index) return SAME_OBJECT
  const value = src.get(argv[1])
  if (value === undefined) return 0
  const dst = c.node.keyspace.db(index)
  if (dst.get(argv[1]) !== undefined) return 0
  const at = src.expiryOf(argv[1])
  dst.set(argv[1], value)
  if (at !== undefined) dst.expireAt(argv[1], at)
  src.delete(argv[1])
  c.node.touchKey(dst, argv[1])
  return 1
}

const copy: Handler = (c, argv) => {
  const src = c.db
  let dst = src
  let replace = false
  for (let i = 3; i < argv.length; i++) {
    const opt = argv[i].toLowerCase()
    if (opt === 'replace') replace = true
    else if (opt === 'db' && i + 1 < argv.length) {
      const index = parseDbIndex(c, argv[++i])
      if (index instanceof ErrorReply) return index
      dst = c.node.keyspace.db(index)
    } else return SYNTAX
  }
  if (src === dst && argv[1] === argv[2]) return SAME_OBJECT
  const value = src.get(argv[1])
  if (value === undefined) return 0
  if (dst.get(argv[2]) !== undefined) {
    if (!replace) return 0
    dst.delete(argv[2])
  }
  const at = src.expiryOf(argv[1])
  dst.set(argv[2], cloneValue(value))
  if (at !== undefined) dst.expireAt(argv[2], at)
  c.node.touchKey(dst, argv[2])
  return 1
}

const swapdb: Handler = (c, argv) => {
  if (c.node.cluster) return new ErrorReply('ERR SWAPDB is not allowed in cluster mode')
  const first = parseDbIndex(c, argv[1], 'ERR invalid first DB index')
  if (first instanceof ErrorReply) return first
  const second = parseDbIndex(c, argv[2], 'ERR invalid second DB index')
  if (second instanceof ErrorReply) return second
  if (first === second) return OK
  const a = c.node.keyspace.db(first)
  const b = c.node.keyspace.db(second)
  c.node.touchDb(a, b)
  c.node.touchDb(b, a)
  a.swapWith(b)
  return OK
}

function flushMode(argv: string[]): ErrorReply | null {
  if (argv.length > 2) return SYNTAX
  if (argv.length === 2 && !['sync', 'async'].includes(argv[1].toLowerCase())) return SYNTAX
  return null
}

const flushdb: Handler = (c, argv) => {
  const problem = flushMode(argv)
  if (problem) return problem
  c.node.touchDb(c.db)
  c.db.clear()
  return OK
}

const flushall: Handler = (c, argv) => {
  const problem = flushMode(argv)
  if (problem) return problem
  for (const db of c.node.keyspace.existing()) c.node.touchDb(db)
  c.node.keyspace.flushAll()
  return OK
}

const touch: Handler = exists

const memoryUsage: Handler = (c, argv) => {
  if (argv.length > 3) {
    if (argv.length !== 5 || argv[3].toLowerCase() !== 'samples') return SYNTAX
    if (parseInteger(argv[4]) === null) return NOT_INTEGER
  }
  const v = c.db.get(argv[2])
  return v === undefined ? null : approximateSize(argv[2], v)
}

const memoryHelp: Handler = () => helpReply([
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Print this help.',
])

const scan: Handler = (c, argv) => scanKeys(c, argv)

export const keyspaceHandlers: Record<string, Handler> = {
  del,
  unlink: del,
  exists,
  touch,
  type,
  expire: expireCommand('expire', 'ex'),
  pexpire: expireCommand('pexpire', 'px'),
  expireat: expireCommand('expireat', 'exat'),
  pexpireat: expireCommand('pexpireat', 'pxat'),
  ttl: ttlCommand(false, false),
  pttl: ttlCommand(true, false),
  expiretime: ttlCommand(false, true),
  pexpiretime: ttlCommand(true, true),
  persist,
  rename: renameCommand(false),
  renamenx: renameCommand(true),
  keys,
  randomkey,
  dbsize,
  select,
  move,
  copy,
  swapdb,
  flushdb,
  flushall,
  scan,
  'memory|usage': memoryUsage,
  'memory|help': memoryHelp,
}

