// Reads the most common NDJSON records straight from their bytes:
//
//   {"key": "…", "value": "…"}                      a string (optionally "type": "string")
//   {"key": "…", "value": {"f": "v", …}}            a hash   (optionally "type": "hash")
//
// in any field order, with JSON whitespace anywhere between tokens. Every text must be "plain":
// printable ASCII (0x20-0x7e) without '"' or '\', so its bytes are exactly what JSON.parse plus
// a UTF-8 encode would give. Anything else — an escape, a non-ASCII byte, a number, a TTL,
// another type, a repeated field, a hash field name starting with a digit (JavaScript orders
// integer-like names first), an empty key or hash, malformed JSON — returns undefined and the
// caller takes the general path (JSON.parse + recordFromJson), which also words every error.
// Keys, values and field names are views into `bytes` (no copy).
import type {DatasetRecord} from './record.js'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const OPEN = 0x7b
const CLOSE = 0x7d

/** Hash fields beyond which the fast path does not bother checking for repeated names. */
const MAX_FAST_FIELDS = 32

const TYPE_NONE = 0
const TYPE_STRING = 1
const TYPE_HASH = 2

function skipSpace(bytes: Buffer, at: number, end: number): number {
  while (at < end) {
    const c = bytes[at]
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) at++
    else break
  }
  return at
}

/** Index of the closing quote of a plain text starting at `at` (after its opening quote), or -1. */
function plainTextEnd(bytes: Buffer, at: number, end: number): number {
  for (; at < end; at++) {
    const c = bytes[at]
    if (c === QUOTE) return at
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1
  }
  return -1
}

function equalBytes(bytes: Buffer, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false
  return true
}

/** The record of line `line` (bytes[start, end)), or undefined when it needs the general path. */
export function fastRecord(bytes: Buffer, start: number, end: number, file: string, line: number): DatasetRecord | undefined {
  let at = skipSpace(bytes, start, end)
  if (bytes[at] !== OPEN || at >= end) return undefined
  at++
  let keyStart = -1
  let keyEnd = -1
  let valueType = TYPE_NONE
  let valueStart = -1
  let valueEnd = -1
  let fields: Array<[Buffer, Buffer]> | undefined
  let declared = TYPE_NONE
  let sawType = false
  for (;;) {
    at = skipSpace(bytes, at, end)
    if (bytes[at] !== QUOTE) return undefined
    const nameStart = at + 1
    const nameEnd = plainTextEnd(bytes, nameStart, end)
    if (nameEnd < 0) return undefined
    at = skipSpace(bytes, nameEnd + 1, end)
    if (bytes[at] !== COLON) return undefined
    at = skipSpace(bytes, at + 1, end)
    if (at >= end) return undefined
    const nameLength = nameEnd - nameStart
    const first = bytes[nameStart]
    if (nameLength === 3 && first === 0x6b && bytes[nameStart + 1] === 0x65 && bytes[nameStart + 2] === 0x79) {
      // "key"
      if (keyStart >= 0 || bytes[at] !== QUOTE) return undefined
      keyStart = at + 1
      keyEnd = plainTextEnd(bytes, keyStart, end)
      if (keyEnd <= keyStart) return undefined // not plain, or empty (an error, worded by the general path)
      at = keyEnd + 1
    } else if (nameLength === 5 && first === 0x76 && matches(bytes, nameStart, VALUE)) {
      // "value"
      if (valueType !== TYPE_NONE) return undefined
      const c = bytes[at]
      if (c === QUOTE) {
        valueStart = at + 1
        valueEnd = plainTextEnd(bytes, valueStart, end)
        if (valueEnd < 0) return undefined
        at = valueEnd + 1
        valueType = TYPE_STRING
      } else if (c === OPEN) {
        fields = []
        at = hashFields(bytes, at + 1, end, fields)
        if (at < 0) return undefined
        valueType = TYPE_HASH
      } else {
        return undefined
      }
    } else if (nameLength === 4 && first === 0x74 && matches(bytes, nameStart, TYPE)) {
      // "type"
      if (sawType || bytes[at] !== QUOTE) return undefined
      sawType = true
      const typeStart = at + 1
      const typeEnd = plainTextEnd(bytes, typeStart, end)
      if (typeEnd < 0) return undefined
      const typeLength = typeEnd - typeStart
      if (typeLength === 6 && matches(bytes, typeStart, STRING)) declared = TYPE_STRING
      else if (typeLength === 4 && matches(bytes, typeStart, HASH)) declared = TYPE_HASH
      else return undefined
      at = typeEnd + 1
    } else {
      return undefined
    }
    at = skipSpace(bytes, at, end)
    const c = bytes[at]
    if (at >= end) return undefined
    at++
    if (c === COMMA) continue
    if (c === CLOSE) break
    return undefined
  }
  if (skipSpace(bytes, at, end) !== end) return undefined
  if (keyStart < 0 || valueType === TYPE_NONE || (sawType && declared !== valueType)) return undefined
  const key = bytes.subarray(keyStart, keyEnd)
  if (valueType === TYPE_STRING) {
    return {key, value: {type: 'string', value: bytes.subarray(valueStart, valueEnd)}, ttl: undefined, origin: {file, line}}
  }
  return {key, value: {type: 'hash', value: fields!}, ttl: undefined, origin: {file, line}}
}

/**
 * Reads `"f": "v", …}` (after the opening brace) into fields; returns the index after the
 * closing brace, or -1 when the object is not a non-empty flat object of plain texts with
 * distinct names that do not start with a digit.
 */
function hashFields(bytes: Buffer, at: number, end: number, fields: Array<[Buffer, Buffer]>): number {
  for (;;) {
    at = skipSpace(bytes, at, end)
    if (bytes[at] !== QUOTE || at >= end) return -1
    const nameStart = at + 1
    const nameEnd = plainTextEnd(bytes, nameStart, end)
    if (nameEnd < 0) return -1
    const first = bytes[nameStart]
    if (first >= 0x30 && first <= 0x39) return -1
    at = skipSpace(bytes, nameEnd + 1, end)
    if (bytes[at] !== COLON) return -1
    at = skipSpace(bytes, at + 1, end)
    if (bytes[at] !== QUOTE || at >= end) return -1
    const valueStart = at + 1
    const valueEnd = plainTextEnd(bytes, valueStart, end)
    if (valueEnd < 0) return -1
    if (fields.length >= MAX_FAST_FIELDS) return -1
    const nameLength = nameEnd - nameStart
    for (let i = 0; i < fields.length; i++) {
      const other = fields[i][0]
      if (other.length === nameLength && equalBytes(bytes, other.byteOffset - bytes.byteOffset, nameStart, nameLength)) return -1
    }
    fields.push([bytes.subarray(nameStart, nameEnd), bytes.subarray(valueStart, valueEnd)])
    at = skipSpace(bytes, valueEnd + 1, end)
    if (at >= end) return -1
    const c = bytes[at++]
    if (c === COMMA) continue
    if (c === CLOSE) return at
    return -1
  }
}

// The field and type names compared against.
const VALUE = Buffer.from('value', 'latin1')
const TYPE = Buffer.from('type', 'latin1')
const STRING = Buffer.from('string', 'latin1')
const HASH = Buffer.from('hash', 'latin1')

function matches(bytes: Buffer, at: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) if (bytes[at + i] !== name[i]) return false
  return true
}
