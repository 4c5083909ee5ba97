// Turns one parsed JSON record ({"key", "type", "value", "ttl"}) into a DatasetRecord, or throws
// a DatasetError naming the file and line. Shared by the NDJSON and JSON-array sources.
//
// Normalisation (so that what we checksum is exactly what a server stores):
// - numbers become their shortest decimal text (String(n)): 19.90 is stored as "19.9".
//   Quote values ("19.90") to keep them verbatim.
// - set members are de-duplicated (first occurrence kept), zset members keep their last score
//   (as ZADD does), hash fields are unique by construction (a JSON object).
// - empty collections are refused: a server cannot store an empty hash, set, zset or list.
import {DatasetError, quoteForError} from './errors.js'
import {VALUE_TYPES, type DatasetRecord, type DatasetValue, type RecordOrigin, type ValueType} from './record.js'

const KNOWN_FIELDS = new Set(['key', 'type', 'value', 'ttl'])
const TYPE_LIST = 'string, hash, set, zset or list'

export function recordFromJson(json: unknown, origin: RecordOrigin): DatasetRecord {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    fail(origin, `expected a JSON object like {"key": "...", "value": ...}, got ${describe(json)}`)
  }
  const record = json as Record<string, unknown>
  const key = record.key
  const value = record.value
  const type = record.type
  const ttl = record.ttl
  // Count the fields instead of listing them: allocation-free on the hot path.
  let fields = 0
  for (const _ in record) fields++
  if (fields !== (key !== undefined ? 1 : 0) + ('value' in record ? 1 : 0) + (type !== undefined ? 1 : 0) + (ttl !== undefined ? 1 : 0)) {
    for (const field of Object.keys(record)) {
      if (!KNOWN_FIELDS.has(field)) fail(origin, `unknown field ${quoteForError(field)} (expected key, type, value, ttl)`)
    }
  }

  if (typeof key !== 'string') fail(origin, key === undefined ? 'missing "key"' : `"key" must be a string, got ${describe(key)}`)
  if (key.length === 0) fail(origin, 'empty key')
  const keyBytes = Buffer.from(key, 'utf8')
  const expiry = ttl === undefined || ttl === null ? undefined : ttlFromJson(ttl, origin)

  // The common case first: a string key.
  if ((type === undefined || type === 'string') && typeof value === 'string') {
    return {key: keyBytes, value: {type: 'string', value: Buffer.from(value, 'utf8')}, ttl: expiry, origin}
  }

  if (!('value' in record)) fail(origin, `missing "value" for key ${quoteForError(key)}`)
  const valueType = type === undefined ? impliedType(value) : type
  if (valueType === undefined) {
    fail(origin, `"type" is required for key ${quoteForError(key)}: an array value may be a set, zset or list`)
  }
  if (typeof valueType !== 'string' || !VALUE_TYPES.includes(valueType as ValueType)) {
    fail(origin, `unknown type ${typeof valueType === 'string' ? quoteForError(valueType) : describe(valueType)} (expected ${TYPE_LIST})`)
  }
  return {key: keyBytes, value: valueFromJson(valueType as ValueType, value, key, origin), ttl: expiry, origin}
}

function fail(origin: RecordOrigin, reason: string): never {
  throw new DatasetError(origin.file, origin.line, reason)
}

function impliedType(value: unknown): ValueType | undefined {
  if (typeof value === 'string' || typeof value === 'number') return 'string'
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return 'hash'
  if (Array.isArray(value)) return undefined
  return 'string' // reported as a wrong shape below
}

function ttlFromJson(ttl: unknown, origin: RecordOrigin): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
    fail(origin, `"ttl" must be a positive number of seconds, got ${describe(ttl)}`)
  }
  return ttl
}

/** The value of a record of the given type; errors name the key. */
export function valueFromJson(type: ValueType, value: unknown, key: string, origin: RecordOrigin): DatasetValue {
  const fail = (reason: string): never => {
    throw new DatasetError(origin.file, origin.line, `key ${quoteForError(key)}: ${reason}`)
  }
  switch (type) {
    case 'string': {
      if (!isScalar(value)) fail(`a string value must be a string or a number, got ${describe(value)}`)
      return {type, value: scalarBytes(value as string | number)}
    }
    case 'hash': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        fail(`a hash value must be an object of field: value, got ${describe(value)}`)
      }
      const fields: Array<[Buffer, Buffer]> = []
      for (const [field, fieldValue] of Object.entries(value as Record<string, unknown>)) {
        if (!isScalar(fieldValue)) fail(`hash field ${quoteForError(field)} must be a string or a number, got ${describe(fieldValue)}`)
        fields.push([Buffer.from(field, 'utf8'), scalarBytes(fieldValue as string | number)])
      }
      if (fields.length === 0) fail('empty hash (a server cannot store an empty hash)')
      return {type, value: fields}
    }
    case 'set':
    case 'list': {
      if (!Array.isArray(value)) fail(`a ${type} value must be an array of strings or numbers, got ${describe(value)}`)
      const items = value as unknown[]
      if (items.length === 0) fail(`empty ${type} (a server cannot store an empty ${type})`)
      const elements: Buffer[] = []
      const seen = type === 'set' ? new Set<string | number>() : undefined
      for (const item of items) {
        if (!isScalar(item)) fail(`${type} elements must be strings or numbers, got ${describe(item)}`)
        const text = typeof item === 'number' ? String(item) : (item as string)
        if (seen) {
          if (seen.has(text)) continue
          seen.add(text)
        }
        elements.push(Buffer.from(text, 'utf8'))
      }
      return type === 'set' ? {type, value: elements} : {type, value: elements}
    }
    case 'zset': {
      const pairs = zsetPairs(value, fail)
      if (pairs.length === 0) fail('empty zset (a server cannot store an empty zset)')
      // ZADD semantics: a repeated member keeps its last score.
      const scores = new Map<string, number>()
      for (const [member, score] of pairs) scores.set(member, score)
      const members: Array<[Buffer, number]> = []
      for (const [member, score] of scores) members.push([Buffer.from(member, 'utf8'), score])
      return {type, value: members}
    }
  }
}

function zsetPairs(value: unknown, fail: (reason: string) => never): Array<[string, number]> {
  const shape = 'a zset value must be [[member, score], …] or {"member": score, …}'
  if (Array.isArray(value)) {
    return value.map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2 || !isScalar(pair[0])) fail(`${shape}, got ${describe(pair)}`)
      const member = typeof pair[0] === 'number' ? String(pair[0]) : (pair[0] as string)
      return [member, parseScore(pair[1], member, fail)]
    })
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).map(([member, score]) => [member, parseScore(score, member, fail)])
  }
  return fail(`${shape}, got ${describe(value)}`)
}

/** A score as JSON: a number, or a numeric string including "inf", "+inf", "-inf". */
export function parseScore(score: unknown, member: string, fail: (reason: string) => never): number {
  const parsed = typeof score === 'number' ? score : typeof score === 'string' ? parseScoreText(score) : NaN
  if (Number.isNaN(parsed)) fail(`score of member ${quoteForError(member)} must be a number, got ${describe(score)}`)
  return parsed
}

/** Parses a score as servers print it ("1.5", "inf", "-inf", "1e+21"); NaN when it is not one. */
export function parseScoreText(text: string): number {
  const lower = text.trim().toLowerCase()
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity
  if (lower === '-inf' || lower === '-infinity') return -Infinity
  if (lower === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(lower)) return NaN
  return Number(lower)
}

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

function scalarBytes(value: string | number): Buffer {
  return Buffer.from(typeof value === 'number' ? String(value) : value, 'utf8')
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') return quoteForError(value, 30)
  if (typeof value === 'boolean') return String(value)
  return String(value)
}
