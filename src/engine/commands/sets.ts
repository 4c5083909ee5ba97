// Set commands (Valkey t_set.c). A set is a JS Set of latin1 members.
import {SetReply} from '../resp/reply.js'
import type {Handler} from './command.js'
import {scanCollection} from './scan.js'
import {dropIfEmpty, isError, lookupSet} from './util.js'

const sadd: Handler = (c, argv) => {
  const found = lookupSet(c.db, argv[1])
  if (isError(found)) return found
  let set = found
  if (set === undefined) {
    set = new Set()
    c.db.set(argv[1], set)
  }
  const before = set.size
  for (let i = 2; i < argv.length; i++) set.add(argv[i])
  return set.size - before
}

const srem: Handler = (c, argv) => {
  const set = lookupSet(c.db, argv[1])
  if (isError(set)) return set
  if (set === undefined) return 0
  let removed = 0
  for (let i = 2; i < argv.length; i++) if (set.delete(argv[i])) removed++
  dropIfEmpty(c.db, argv[1], set)
  return removed
}

const smembers: Handler = (c, argv) => {
  const set = lookupSet(c.db, argv[1])
  if (isError(set)) return set
  return new SetReply(set ? [...set] : [])
}

const sismember: Handler = (c, argv) => {
  const set = lookupSet(c.db, argv[1])
  if (isError(set)) return set
  return set?.has(argv[2]) ? 1 : 0
}

const smismember: Handler = (c, argv) => {
  const set = lookupSet(c.db, argv[1])
  if (isError(set)) return set
  const out: number[] = []
  for (let i = 2; i < argv.length; i++) out.push(set?.has(argv[i]) ? 1 : 0)
  return out
}

const scard: Handler = (c, argv) => {
  const set = lookupSet(c.db, argv[1])
  if (isError(set)) return set
  return set?.size ?? 0
}

const sscan: Handler = (c, argv) => {
  const set = lookupSet(c.db, argv[1])
  if (isError(set)) return set
  return scanCollection(c, argv, set, 'set')
}

export const setHandlers: Record<string, Handler> = {sadd, srem, smembers, sismember, smismember, scard, sscan}
