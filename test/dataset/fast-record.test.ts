// The NDJSON fast path (records read straight from bytes) gives exactly the record JSON.parse +
// recordFromJson give, and declines every line it cannot read that way.
import {describe, expect, it} from 'vitest'
import {fastRecord} from '../../src/dataset/fast-record.js'
import {recordFromJson} from '../../src/dataset/parse-record.js'
import type {DatasetRecord} from '../../src/dataset/record.js'

function viaFastPath(line: string): DatasetRecord | undefined {
  const bytes = Buffer.from(`garbage\n${line}\nmore`, 'utf8') // a line in the middle of a chunk
  const start = 8
  return fastRecord(bytes, start, start + Buffer.byteLength(line), 'f.ndjson', 7)
}

function viaJson(line: string): DatasetRecord {
  return recordFromJson(JSON.parse(line), {file: 'f.ndjson', line: 7})
}

const plain = (record: DatasetRecord | undefined) => record && JSON.parse(JSON.stringify(record))

describe('NDJSON fast path', () => {
  it.each([
    '{"key":"price:1","value":"19.90"}',
    '{"value":"19.90","key":"price:1"}',
    '  { "key" : "price:1" ,\t"value": "a b c" }\r',
    '{"key":"price:1","type":"string","value":""}',
    '{"key":"product:1","value":{"name":"Mug","price":"19.90","stock":"3"}}',
    '{"type":"hash","key":"product:1","value":{ "name" : "Mug" }}',
    '{"key":"h","value":{"__proto__":"x","-1":"y"}}',
  ])('reads %s as JSON.parse does', (line) => {
    const fast = viaFastPath(line)
    expect(fast).toBeDefined()
    expect(plain(fast)).toEqual(plain(viaJson(line)))
    expect(fast!.origin).toEqual({file: 'f.ndjson', line: 7})
  })

  it.each([
    ['an escape', '{"key":"a\\"b","value":"v"}'],
    ['a non-ASCII key', '{"key":"caf\u00e9","value":"v"}'],
    ['a number value', '{"key":"k","value":19.90}'],
    ['a TTL', '{"key":"k","value":"v","ttl":5}'],
    ['another type', '{"key":"k","type":"set","value":["a"]}'],
    ['a type that does not fit the value', '{"key":"k","type":"hash","value":"v"}'],
    ['a repeated field', '{"key":"k","value":"v","key":"j"}'],
    ['a repeated hash field', '{"key":"k","value":{"a":"1","a":"2"}}'],
    ['a hash field JavaScript orders first', '{"key":"k","value":{"b":"1","2":"x"}}'],
    ['an empty hash', '{"key":"k","value":{}}'],
    ['an empty key', '{"key":"","value":"v"}'],
    ['an unknown field', '{"key":"k","value":"v","tll":5}'],
    ['malformed JSON', '{"key":"k","value":}'],
    ['trailing text', '{"key":"k","value":"v"} x'],
    ['a blank line', '   '],
    ['a cut-off line', '{"key":"k","value":"v"'],
  ])('leaves %s to the general path', (_, line) => {
    expect(viaFastPath(line)).toBeUndefined()
  })
})
