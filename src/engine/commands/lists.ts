// List commands (Valkey t_list.c), the subset flip and its tests use.
import {List} from '../keyspace/values.js'
import {ErrorReply, NULL_ARRAY} from '../resp/reply.js'
import type {Handler} from './command.js'
import {NOT_INTEGER, NOT_POSITIVE, clampRange, dropIfEmpty, isError, lookupList, parseInteger} from './util.js'

function push(left: boolean): Handler {
  return (c, argv) => {
    const found = lookupList(c.db, argv[1])
    if (isError(found)) return found
    let list = found
    if (list === undefined) {
      list = new List()
      c.db.set(argv[1], list)
    }
    if (left) for (let i = 2; i < argv.length; i++) list.items.unshift(argv[i])
    else for (let i = 2; i < argv.length; i++) list.items.push(argv[i])
    return list.items.length
  }
}

function pop(left: boolean): Handler {
  return (c, argv) => {
    let count = -1
    if (argv.length > 3) return new ErrorReply(`ERR wrong number of arguments for '${left ? 'lpop' : 'rpop'}' command`)
    if (argv.length === 3) {
      const n = parseInteger(argv[2])
      if (n === null || n < 0) return NOT_POSITIVE
      count = n
    }
    const list = lookupList(c.db, argv[1])
    if (isError(list)) return list
    if (list === undefined) return count >= 0 ? NULL_ARRAY : null
    if (count === 0) return []
    if (count < 0) {
      const item = left ? list.items.shift()! : list.items.pop()!
      dropIfEmpty(c.db, argv[1], list)
      return item
    }
    const n = Math.min(count, list.items.length)
    const taken = left ? list.items.splice(0, n) : list.items.splice(list.items.length - n, n).reverse()
    dropIfEmpty(c.db, argv[1], list)
    return taken
  }
}

const lrange: Handler = (c, argv) => {
  const start = parseInteger(argv[2])
  const stop = parseInteger(argv[3])
  if (start === null || stop === null) return NOT_INTEGER
  const list = lookupList(c.db, argv[1])
  if (isError(list)) return list
  if (list === undefined) return []
  const range = clampRange(start, stop, list.items.length)
  return range ? list.items.slice(range[0], range[1] + 1) : []
}

const llen: Handler = (c, argv) => {
  const list = lookupList(c.db, argv[1])
  if (isError(list)) return list
  return list?.items.length ?? 0
}

const lindex: Handler = (c, argv) => {
  const index = parseInteger(argv[2])
  if (index === null) return NOT_INTEGER
  const list = lookupList(c.db, argv[1])
  if (isError(list)) return list
  if (list === undefined) return null
  const at = index < 0 ? list.items.length + index : index
  return at >= 0 && at < list.items.length ? list.items[at] : null
}

export const listHandlers: Record<string, Handler> = {
  lpush: push(true),
  rpush: push(false),
  lpop: pop(true),
  rpop: pop(false),
  lrange,
  llen,
  lindex,
}
