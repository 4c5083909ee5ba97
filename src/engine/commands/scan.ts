// SCAN, HSCAN, SSCAN and ZSCAN. A cursor names a live Map/Set iterator kept by the node, so a
// full iteration returns every element present from start to end exactly once, as Valkey
// guarantees, whatever is inserted or deleted meanwhile. Small collections answer in one call
// with cursor 0, like Valkey's listpack encodings.
import type {Client} from '../client.js'
import {globMatch} from '../keyspace/glob.js'
import {typeName, type ZSet} from '../keyspace/values.js'
import {ErrorReply, type Reply} from '../resp/reply.js'
import {formatDouble} from '../resp/encoder.js'
import {NOT_INTEGER, SYNTAX} from './util.js'

const INVALID_CURSOR = new ErrorReply('ERR invalid cursor')
const TYPE_NAMES = new Set(['string', 'list', 'set', 'zset', 'hash', 'stream'])

interface ScanOptions {
  cursor: number
  count: number
  pattern: string | null
  type: string | null
  noValues: boolean
}

function parseOptions(argv: string[], first: number, kind: 'keys' | 'hash' | 'set' | 'zset'): ScanOptions | ErrorReply {
  const cursorText = argv[first - 1]
  if (!/^\d{1,20}$/.test(cursorText) || (cursorText.length === 20 && BigInt(cursorText) > 18446744073709551615n)) return INVALID_CURSOR
  const options: ScanOptions = {cursor: Number(cursorText), count: 10, pattern: null, type: null, noValues: false}
  for (let i = first; i < argv.length; ) {
    const opt = argv[i].toLowerCase()
    const more = argv.length - i - 1
    if (opt === 'count' && more >= 1) {
      if (!/^-?\d+$/.test(argv[i + 1])) return NOT_INTEGER
      const count = Number(argv[i + 1])
      if (count < 1) return SYNTAX
      options.count = count
      i += 2
    } else if (opt === 'match' && more >= 1) {
      options.pattern = argv[i + 1] === '*' ? null : argv[i + 1]
      i += 2
    } else if (opt === 'type' && kind === 'keys' && more >= 1) {
      const name = argv[i + 1].toLowerCase()
      if (!TYPE_NAMES.has(name)) return new ErrorReply(`ERR unknown type name '${argv[i + 1]}'`)
      options.type = name
      i += 2
    } else if (opt === 'novalues') {
      if (kind !== 'hash') return new ErrorReply('ERR NOVALUES option can only be used in HSCAN')
      options.noValues = true
      i++
    } else if (opt === 'noscores') {
      if (kind !== 'zset') return new ErrorReply('ERR NOSCORES option can only be used in ZSCAN')
      options.noValues = true
      i++
    } else return SYNTAX
  }
  return options
}

/** Resumes (or starts) an iterator; an unknown non-zero cursor ends the scan. */
function resume(c: Client, cursor: number, start: () => Iterator<string>): Iterator<string> | null {
  if (cursor === 0) return start()
  return c.node.takeCursor(cursor) ?? null
}

export function scanKeys(c: Client, argv: string[]): Reply {
  const options = parseOptions(argv, 2, 'keys')
  if (options instanceof ErrorReply) return options
  const db = c.db
  const it = resume(c, options.cursor, () => db.keys.keys())
  if (it === null) return ['0', []]
  const out: string[] = []
  let visited = 0
  let done = false
  while (visited < options.count) {
    const next = it.next()
    if (next.done) {
      done = true
      break
    }
    visited++
    const key = next.value
    // The iterator only yields keys present now: without TTLs in the db and without TYPE there is
    // nothing to check, so skip the lookup (the atomic cutover SCANs whole dbs inside a script).
    if (options.type !== null || db.expires.size !== 0) {
      const value = db.get(key)
      if (value === undefined) continue
      if (options.type !== null && typeName(value) !== options.type) continue
    }
    if (options.pattern !== null && !globMatch(options.pattern, key)) continue
    out.push(key)
  }
  if (!done) {
    const cursor = c.node.saveCursor(it)
    return [String(cursor), out]
  }
  return ['0', out]
}

type Collection = Map<string, string> | Set<string> | ZSet

export function scanCollection(c: Client, argv: string[], value: Collection | undefined, kind: 'hash' | 'set' | 'zset'): Reply {
  const options = parseOptions(argv, 3, kind)
  if (options instanceof ErrorReply) return options
  if (value === undefined) return ['0', []]
  const members = value instanceof Set ? value : value instanceof Map ? value : value.scores
  const small = members.size <= 128 && options.cursor === 0
  // A small sorted set answers in score order, as Valkey's listpack encoding does.
  const start =
    small && !(value instanceof Set) && !(value instanceof Map)
      ? () => value.entries().map((e) => e.member)[Symbol.iterator]()
      : () => members.keys()
  const it = resume(c, options.cursor, start)
  if (it === null) return ['0', []]
  const out: Reply[] = []
  let visited = 0
  let done = false
  while (small || visited < options.count) {
    const next = it.next()
    if (next.done) {
      done = true
      break
    }
    visited++
    const member = next.value
    if (!members.has(member)) continue
    if (options.pattern !== null && !globMatch(options.pattern, member)) continue
    out.push(member)
    if (options.noValues) continue
    if (value instanceof Map) out.push(value.get(member)!)
    else if (!(value instanceof Set)) out.push(formatDouble(value.scores.get(member)!))
  }
  if (!done) return [String(c.node.saveCursor(it)), out]
  return ['0', out]
}

