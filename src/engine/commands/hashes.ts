// Hash commands (Valkey t_hash.c). A hash is a Map of latin1 field → latin1 value.
import {ErrorReply, MapReply, OK, type Reply} from '../resp/reply.js'
import type {Handler} from './command.js'
import {scanCollection} from './scan.js'
import {NOT_FLOAT, NOT_INTEGER, OVERFLOW, dropIfEmpty, formatStoredDouble, isError, lookupHash, parseDouble, parseInt64} from './util.js'

const hset: Handler = (c, argv) => {
  if (argv.length % 2 !== 0) return new ErrorReply(`ERR wrong number of arguments for '${argv[0].toLowerCase() === 'hmset' ? 'hmset' : 'hset'}' command`)
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  let hash = h
  if (hash === undefined) {
    hash = new Map()
    c.db.set(argv[1], hash)
  }
  let added = 0
  for (let i = 2; i < argv.length; i += 2) {
    if (!hash.has(argv[i])) added++
    hash.set(argv[i], argv[i + 1])
  }
  return argv[0].toLowerCase() === 'hmset' ? OK : added
}

const hsetnx: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  if (h?.has(argv[2])) return 0
  if (h === undefined) c.db.set(argv[1], new Map([[argv[2], argv[3]]]))
  else h.set(argv[2], argv[3])
  return 1
}

const hget: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  return h?.get(argv[2]) ?? null
}

const hmget: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  const out: Reply[] = []
  for (let i = 2; i < argv.length; i++) out.push(h?.get(argv[i]) ?? null)
  return out
}

const hgetall: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  return mapReply(h)
}

function mapReply(h: Map<string, string> | undefined): MapReply {
  const entries: Array<[Reply, Reply]> = []
  if (h) for (const [f, v] of h) entries.push([f, v])
  return new MapReply(entries)
}

const hdel: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  if (h === undefined) return 0
  let removed = 0
  for (let i = 2; i < argv.length; i++) if (h.delete(argv[i])) removed++
  dropIfEmpty(c.db, argv[1], h)
  return removed
}

const hlen: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  return h?.size ?? 0
}

const hstrlen: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  return h?.get(argv[2])?.length ?? 0
}

const hexists: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  return h?.has(argv[2]) ? 1 : 0
}

const hkeys: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  return h ? [...h.keys()] : []
}

const hvals: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  return h ? [...h.values()] : []
}

const hincrby: Handler = (c, argv) => {
  const by = parseInt64(argv[3])
  if (by === null) return NOT_INTEGER
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  const old = h?.get(argv[2])
  let current: number | bigint = 0
  if (old !== undefined) {
    const parsed = parseInt64(old)
    if (parsed === null) return new ErrorReply('ERR hash value is not an integer')
    current = parsed
  }
  const next = BigInt(current) + BigInt(by)
  if (next > 9223372036854775807n || next < -9223372036854775808n) return OVERFLOW
  const hash = h ?? new Map<string, string>()
  if (h === undefined) c.db.set(argv[1], hash)
  hash.set(argv[2], String(next))
  return (next >= -9007199254740991n && next <= 9007199254740991n ? Number(next) : next) as number
}

const hincrbyfloat: Handler = (c, argv) => {
  const by = parseDouble(argv[3])
  if (by === null) return NOT_FLOAT
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  const old = h?.get(argv[2])
  let current = 0
  if (old !== undefined) {
    const parsed = parseDouble(old)
    if (parsed === null) return new ErrorReply('ERR hash value is not a float')
    current = parsed
  }
  const next = current + by
  if (!Number.isFinite(next)) return new ErrorReply('ERR increment would produce NaN or Infinity')
  const hash = h ?? new Map<string, string>()
  if (h === undefined) c.db.set(argv[1], hash)
  const text = formatStoredDouble(next)
  hash.set(argv[2], text)
  return text
}

const hscan: Handler = (c, argv) => {
  const h = lookupHash(c.db, argv[1])
  if (isError(h)) return h
  return scanCollection(c, argv, h, 'hash')
}

export const hashHandlers: Record<string, Handler> = {
  hset,
  hmset: hset,
  hsetnx,
  hget,
  hmget,
  hgetall,
  hdel,
  hlen,
  hstrlen,
  hexists,
  hkeys,
  hvals,
  hincrby,
  hincrbyfloat,
  hscan,
}
