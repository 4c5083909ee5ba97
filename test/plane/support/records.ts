// A small dataset covering all five types, and a way to compare what a server returns with it.
import type {DatasetRecord, DatasetValue, StoredKey} from '../../../src/dataset/record.js'

const origin = (line: number) => ({file: 'sample.ndjson', line})
const b = (text: string) => Buffer.from(text)

/** Five keys, one per type, named with a prefix; string and list carry a TTL. */
export function sampleRecords(prefix = ''): DatasetRecord[] {
  return [
    {key: b(`${prefix}price:1`), value: {type: 'string', value: b('19.99')}, ttl: 3600, origin: origin(1)},
    {key: b(`${prefix}product:1`), value: {type: 'hash', value: [[b('name'), b('Lamp')], [b('price'), b('19.99')]]}, origin: origin(2)},
    {key: b(`${prefix}tags:1`), value: {type: 'set', value: [b('sale'), b('home')]}, origin: origin(3)},
    {key: b(`${prefix}rank`), value: {type: 'zset', value: [[b('lamp'), 2.5], [b('chair'), -1], [b('sofa'), Infinity]]}, origin: origin(4)},
    {key: b(`${prefix}history:1`), value: {type: 'list', value: [b('21.99'), b('19.99'), b('19.99')]}, ttl: 1.5e6, origin: origin(5)},
  ]
}

/** Many string keys spread over every slot: key:<n> → value-<n>. */
export function stringRecords(count: number, prefix = 'key:'): DatasetRecord[] {
  return Array.from({length: count}, (_, n) => ({key: b(`${prefix}${n}`), value: {type: 'string', value: b(`value-${n}`)}, origin: origin(n + 1)}))
}

/** A comparable, order-insensitive form of a value (sets and hashes are unordered on the server). */
export function normalize(value: DatasetValue | null): unknown {
  if (value === null) return null
  switch (value.type) {
    case 'string':
      return {type: 'string', value: value.value.toString()}
    case 'hash':
      return {type: 'hash', value: value.value.map(([f, v]) => `${f}=${v}`).sort()}
    case 'set':
      return {type: 'set', value: value.value.map(String).sort()}
    case 'zset':
      return {type: 'zset', value: [...value.value].sort((x, y) => x[1] - y[1]).map(([m, s]) => [m.toString(), s])}
    case 'list':
      return {type: 'list', value: value.value.map(String)}
  }
}

/** What a record should read back as. */
export function expectedStored(record: DatasetRecord): {key: string; value: unknown; hasTtl: boolean} {
  return {key: record.key.toString(), value: normalize(record.value), hasTtl: record.ttl !== undefined}
}

export function comparable(stored: StoredKey): {key: string; value: unknown; hasTtl: boolean} {
  return {key: stored.key.toString(), value: normalize(stored.value), hasTtl: stored.hasTtl}
}

export const byKey = (a: {key: string}, b: {key: string}) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
