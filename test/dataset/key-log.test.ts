// Duplicate keys of re-readable inputs: logged as 64-bit hashes, found by sorting at the end.
import {describe, expect, it} from 'vitest'
import {KeyLog} from '../../src/dataset/key-log.js'
import {hashKey, KEY_HASH} from '../../src/dataset/key-set.js'

const key = (n: number) => Buffer.from(`sku:${n}`)

describe('KeyLog', () => {
  it('finds nothing among distinct keys, across several chunks', () => {
    const log = new KeyLog()
    for (let n = 0; n < 300_000; n++) log.add(key(n)) // chunks of 64k, 128k, then more
    expect(log.size).toBe(300_000)
    expect(log.findDuplicate()).toBeUndefined()
  })

  it("names a repeated key's hash, whether both copies sit in one chunk or in two", () => {
    for (const [first, again] of [
      [10, 20], // both in the first chunk
      [5, 250_000], // first chunk and a later one
      [200_000, 299_999], // both in later chunks
    ]) {
      const log = new KeyLog()
      for (let n = 0; n < 300_000; n++) log.add(key(n === again ? first : n))
      hashKey(key(first))
      expect(log.findDuplicate()).toEqual([KEY_HASH[0], KEY_HASH[1]])
    }
  })

  it('an empty log has no duplicate', () => {
    expect(new KeyLog().findDuplicate()).toBeUndefined()
  })
})
