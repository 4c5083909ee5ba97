// The dataset checksum: order-independent, covers key, type, every element and TTL presence.
import {describe, expect, it} from 'vitest'
import {DatasetChecksum, KeySet, canonicalEncoding, canonicalScore, keyDigest, parseScoreText, type DatasetValue} from '../../src/dataset/index.js'
import {murmur3x86_128} from '../../src/dataset/murmur3.js'
import {keySlot} from '../../src/util/keyslot.js'

const b = (s: string) => Buffer.from(s)
type Entry = [key: string, value: DatasetValue, hasTtl: boolean]

function checksumOf(entries: Entry[]): DatasetChecksum {
  const sum = new DatasetChecksum()
  for (const [key, value, ttl] of entries) sum.add(b(key), value, ttl)
  return sum
}

const dataset: Entry[] = [
  ['price:1', {type: 'string', value: b('19.90')}, false],
  ['product:1', {type: 'hash', value: [[b('name'), b('Mug')], [b('price'), b('19.90')]]}, false],
  ['tags', {type: 'set', value: [b('a'), b('b')]}, true],
  ['rank', {type: 'zset', value: [[b('x'), 1.5], [b('y'), -Infinity]]}, false],
  ['recent', {type: 'list', value: [b('x'), b('y'), b('x')]}, false],
]

describe('key digest', () => {
  it('is MurmurHash3_x86_128 (seed 0) of the documented canonical encoding, h1..h4 big-endian', () => {
    const encoding = canonicalEncoding(b('k'), {type: 'zset', value: [[b('m'), 2], [b('a'), Infinity]]}, true)
    const expected = Buffer.concat([
      Buffer.from([4, 1]), // zset, has TTL
      Buffer.from([0, 0, 0, 1]), b('k'),
      Buffer.from([0, 0, 0, 2]), // two members, sorted bytewise
      Buffer.from([0, 0, 0, 1]), b('a'), Buffer.from([0, 0, 0, 3]), b('inf'),
      Buffer.from([0, 0, 0, 1]), b('m'), Buffer.from([0, 0, 0, 1]), b('2'),
    ])
    expect(Buffer.from(encoding)).toEqual(expected)
    const words = new Uint32Array(4)
    murmur3x86_128(expected, 0, expected.length, 0, words)
    const digest = Buffer.alloc(16)
    words.forEach((word, i) => digest.writeUInt32BE(word, 4 * i))
    expect(keyDigest(b('k'), {type: 'zset', value: [[b('m'), 2], [b('a'), Infinity]]}, true)).toEqual(digest)
  })

  it('does not depend on the order of hash fields, set members or zset members', () => {
    const a = keyDigest(b('h'), {type: 'hash', value: [[b('x'), b('1')], [b('y'), b('2')]]}, false)
    const c = keyDigest(b('h'), {type: 'hash', value: [[b('y'), b('2')], [b('x'), b('1')]]}, false)
    expect(a).toEqual(c)
    expect(keyDigest(b('s'), {type: 'set', value: [b('1'), b('2')]}, false)).toEqual(keyDigest(b('s'), {type: 'set', value: [b('2'), b('1')]}, false))
  })

  it('depends on list order, type, TTL presence, and every byte', () => {
    const base = keyDigest(b('l'), {type: 'list', value: [b('1'), b('2')]}, false)
    expect(keyDigest(b('l'), {type: 'list', value: [b('2'), b('1')]}, false)).not.toEqual(base)
    expect(keyDigest(b('l'), {type: 'set', value: [b('1'), b('2')]}, false)).not.toEqual(base)
    expect(keyDigest(b('l'), {type: 'list', value: [b('1'), b('2')]}, true)).not.toEqual(base)
    expect(keyDigest(b('l'), {type: 'list', value: [b('12')]}, false)).not.toEqual(keyDigest(b('l'), {type: 'list', value: [b('1'), b('2')]}, false))
  })

  it('writes scores canonically, so server text like "1.5000" or "+inf" gives the same digest', () => {
    expect(['1.5', '1.50', '15e-1', '+inf', '-inf', '-0', '1e+21', '0.1'].map((t) => canonicalScore(parseScoreText(t)))).toEqual([
      '1.5', '1.5', '1.5', 'inf', '-inf', '0', '1e+21', '0.1',
    ])
    expect(Number.isNaN(parseScoreText('nan'))).toBe(true)
  })
})

describe('dataset checksum', () => {
  it('is 32 hex digits, zero for an empty dataset', () => {
    expect(new DatasetChecksum().checksum).toBe('0'.repeat(32))
    expect(checksumOf(dataset).checksum).toMatch(/^[0-9a-f]{32}$/)
  })

  it('is the sum of key digests modulo 2^128, in any order', () => {
    let sum = 0n
    for (const [key, value, ttl] of dataset) sum += BigInt('0x' + keyDigest(b(key), value, ttl).toString('hex'))
    const expected = (sum % (1n << 128n)).toString(16).padStart(32, '0')
    expect(checksumOf(dataset).checksum).toBe(expected)
    expect(checksumOf([...dataset].reverse()).checksum).toBe(expected)
  })

  it('does not cancel equal digests (a sum, not XOR)', () => {
    const once = new DatasetChecksum()
    const twice = new DatasetChecksum()
    const [key, value] = dataset[0]
    once.add(b(key), value, false)
    twice.add(b(key), value, false)
    twice.add(b(key), value, false)
    expect(twice.checksum).not.toBe('0'.repeat(32))
    expect(twice.checksum).not.toBe(once.checksum)
  })

  it('keeps counts per type and per slot, and merges per-node accumulators into the same totals', () => {
    const whole = checksumOf(dataset)
    expect(whole.types).toEqual({string: 1, hash: 1, set: 1, zset: 1, list: 1})
    const slots = whole.slots()
    expect(slots.reduce((n, s) => n + s.keys, 0)).toBe(5)
    expect(slots.map((s) => s.slot)).toEqual([...new Set(dataset.map(([k]) => keySlot(k)))].sort((x, y) => x - y))
    const nodeA = checksumOf(dataset.slice(0, 2))
    const nodeB = checksumOf(dataset.slice(2))
    nodeA.merge(nodeB)
    expect(nodeA.checksum).toBe(whole.checksum)
    expect(nodeA.slots()).toEqual(slots)
    expect(nodeA.types).toEqual(whole.types)
  })

  it('carries across 32-bit limbs correctly', () => {
    const sum = new DatasetChecksum()
    const ones = Buffer.alloc(16, 0xff)
    sum.addDigest(0, ones, 'string')
    sum.addDigest(0, Buffer.from('00000000000000000000000000000002', 'hex'), 'string')
    expect(sum.checksum).toBe('00000000000000000000000000000001')
  })
})

describe('key set (duplicate detection)', () => {
  it('says whether a key was seen, across growth', () => {
    const seen = new KeySet()
    for (let i = 0; i < 200_000; i++) expect(seen.add(b(`key:${i}`))).toBe(true)
    expect(seen.size).toBe(200_000)
    expect(seen.add(b('key:123456'))).toBe(false)
    expect(seen.add(b('key:200000'))).toBe(true)
  })

  it('holds a million keys in 9-13.4 bytes each (its tables stay 60-90% full)', () => {
    const seen = new KeySet()
    const key = Buffer.alloc(16)
    for (let i = 0; i < 1_000_000; i++) {
      key.write(`sku:${i}`.padEnd(16, '.'), 'latin1')
      seen.add(key)
    }
    expect(seen.size).toBe(1_000_000)
    expect(seen.byteLength / seen.size).toBeGreaterThan(8.8)
    expect(seen.byteLength / seen.size).toBeLessThan(13.4)
    expect(seen.add(Buffer.from('sku:999999'.padEnd(16, '.')))).toBe(false)
  })
})
