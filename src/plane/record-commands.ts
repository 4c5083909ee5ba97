// Records ↔ commands. Writing: the commands that store one DatasetRecord (big collections are
// split so no single command carries more than a few hundred elements; a TTL is set with the
// value for strings and by EXPIRE/PEXPIRE right after it otherwise). Reading: turning the replies
// of the type-aware reads back into DatasetValues.
import type {DatasetRecord, DatasetValue, ValueType} from '../dataset/record.js'
import {describeKey} from '../util/key-text.js'
import {CommandError, RespError, UsageError} from './errors.js'
import type {Arg, Reply} from './resp.js'

/** Elements per HSET/SADD/ZADD/RPUSH command: keeps each command small enough to never stall a server. */
export const ELEMENTS_PER_COMMAND = 512

/** The commands that store a record in an empty db, in the order they must run. */
export function recordCommands(record: DatasetRecord): Arg[][] {
  const {key, value, ttl} = record
  const expiry = ttl === undefined ? undefined : expiryArgs(record, ttl)
  if (value.type === 'string') {
    return [expiry === undefined ? ['SET', key, value.value] : ['SET', key, value.value, expiry[0] === 'EXPIRE' ? 'EX' : 'PX', expiry[1]]]
  }
  const commands: Arg[][] = []
  switch (value.type) {
    case 'hash':
      chunked(value.value, (part) => commands.push(['HSET', key, ...part.flat()]))
      break
    case 'set':
      chunked(value.value, (part) => commands.push(['SADD', key, ...part]))
      break
    case 'zset':
      chunked(value.value, (part) => commands.push(['ZADD', key, ...part.flatMap(([member, score]) => [score, member])]))
      break
    case 'list':
      chunked(value.value, (part) => commands.push(['RPUSH', key, ...part]))
      break
  }
  if (commands.length === 0) throw new UsageError(`${where(record)}: key ${describeKey(key)}: an empty ${value.type} cannot be stored`)
  if (expiry !== undefined) commands.push([expiry[0], key, expiry[1]])
  return commands
}

function expiryArgs(record: DatasetRecord, ttl: number): ['EXPIRE' | 'PEXPIRE', number] {
  if (!Number.isFinite(ttl) || ttl <= 0) throw new UsageError(`${where(record)}: key ${describeKey(record.key)}: ttl must be a positive number of seconds`)
  return Number.isInteger(ttl) ? ['EXPIRE', ttl] : ['PEXPIRE', Math.max(1, Math.round(ttl * 1000))]
}

function chunked<T>(items: readonly T[], each: (part: readonly T[]) => void): void {
  for (let start = 0; start < items.length; start += ELEMENTS_PER_COMMAND) each(items.slice(start, start + ELEMENTS_PER_COMMAND))
}

export function where(record: DatasetRecord): string {
  return `${record.origin.file}:${record.origin.line}`
}

/** The full-value read for a non-string type (strings are read with GET). */
export function readCommand(type: ValueType, key: Buffer): Arg[] {
  switch (type) {
    case 'string':
      return ['GET', key]
    case 'hash':
      return ['HGETALL', key]
    case 'set':
      return ['SMEMBERS', key]
    case 'zset':
      return ['ZRANGE', key, 0, -1, 'WITHSCORES']
    case 'list':
      return ['LRANGE', key, 0, -1]
  }
}

/** The DatasetValue from a read reply; null when the key is gone (empty reply). */
export function decodeValue(type: ValueType, reply: Reply): DatasetValue | null {
  if (reply instanceof RespError) throw new CommandError(`unexpected error reply: ${reply.message}`, reply.message)
  if (reply === null) return null
  if (type === 'string') return Buffer.isBuffer(reply) ? {type, value: reply} : null
  if (!Array.isArray(reply) || reply.length === 0) return null
  switch (type) {
    case 'hash': {
      const fields = new Array<[Buffer, Buffer]>(reply.length >>> 1)
      for (let i = 0; i + 1 < reply.length; i += 2) fields[i >>> 1] = [reply[i] as Buffer, reply[i + 1] as Buffer]
      return {type, value: fields}
    }
    case 'zset': {
      const members: Array<[Buffer, number]> = []
      for (let i = 0; i + 1 < reply.length; i += 2) members.push([reply[i] as Buffer, parseScore(reply[i + 1] as Buffer)])
      return {type, value: members}
    }
    case 'set':
    case 'list':
      return {type, value: reply as Buffer[]}
  }
}

/** Scores as Valkey prints them ("1.5", "inf", "-inf", "1e+300"). */
export function parseScore(raw: Buffer | string): number {
  const text = raw.toString()
  if (text === 'inf' || text === '+inf') return Infinity
  if (text === '-inf') return -Infinity
  return Number(text)
}

export function isValueType(type: string): type is ValueType {
  return type === 'string' || type === 'hash' || type === 'set' || type === 'zset' || type === 'list'
}
