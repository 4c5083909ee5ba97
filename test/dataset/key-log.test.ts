// Duplicate keys of re-readable inputs: logged as 64-bit hashes, found by sorting at the end.
import {describe, expect, it} from 'vitest'
import {KeyLog} from '../../src/dataset/key-log.js'
import {hashKey, KEY_HASH} from '../../src/dataset/key-set.js'

const key = (n: number) => Buffer.from(`sku:${n}`)
const hashOf = (n: number) => {
  hashKey(key(n))
  return `${KEY_HASH[0]}:${KEY_HASH[1]}`
}

describe('KeyLog', () => {
  it('finds nothing among distinct keys, in one chunk or merged across many', () => {
    for (const chunkKeys of [1 << 20, 7, 1000]) {
      const log = new KeyLog({chunkKeys})
      for (let n = 0; n < 30_000; n++) log.add(key(n))
      expect(log.size).toBe(30_000)
      expect(log.duplicates()).toEqual(new Set())
    }
  })

  it("names every repeated key's hash, whether the copies share a chunk or not", () => {
    for (const chunkKeys of [1 << 20, 1000, 3]) {
      const log = new KeyLog({chunkKeys})
      // 20 repeats 10 (same chunk when chunks are big), 29,999 repeats 5 (first and last chunk).
      for (let n = 0; n < 30_000; n++) log.add(key(n === 20 ? 10 : n === 29_999 ? 5 : n))
      expect(log.duplicates()).toEqual(new Set([hashOf(10), hashOf(5)]))
    }
  })

  it('a key added three times is one duplicated hash; an empty log has none', () => {
    const log = new KeyLog({chunkKeys: 2})
    for (const n of [1, 2, 1, 3, 1]) log.add(key(n))
    expect(log.duplicates()).toEqual(new Set([hashOf(1)]))
    expect(new KeyLog().duplicates()).toEqual(new Set())
  })
})
