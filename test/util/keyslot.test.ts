import {describe, expect, it} from 'vitest'
import {keySlot, splitSlots} from '../../src/util/keyslot.js'

describe('key slots, as Valkey computes them', () => {
  it('hashes whole keys with CRC16 modulo 16384 (slots from the shared Valkey notes)', () => {
    expect(keySlot('b')).toBe(3300)
    expect(keySlot('k2')).toBe(449)
    expect(keySlot('k3')).toBe(4576)
    expect(keySlot('price:1')).toBe(1444)
    expect(keySlot('c')).toBe(7365)
    expect(keySlot('a')).toBe(15495)
    expect(keySlot('123456789')).toBe(0x31c3 & 16383)
  })

  it('hashes only the first non-empty {hash tag}', () => {
    expect(keySlot('{cat}:a')).toBe(1075)
    expect(keySlot('{cat}:a')).toBe(keySlot('cat'))
    expect(keySlot('x{cat}y{dog}')).toBe(keySlot('cat'))
    expect(keySlot('{}cat')).toBe(keySlot('{}cat'))
    expect(keySlot('{}cat')).not.toBe(keySlot('cat'))
    expect(keySlot('{cat')).not.toBe(keySlot('cat'))
  })

  it('is binary safe', () => {
    expect(keySlot(Buffer.from([0xff, 0x00, 0x7b]))).toBeGreaterThanOrEqual(0)
  })

  it('splits slots as valkey-cli --cluster create does', () => {
    expect(splitSlots(3)).toEqual([[0, 5460], [5461, 10922], [10923, 16383]])
    expect(splitSlots(1)).toEqual([[0, 16383]])
    expect(splitSlots(2)).toEqual([[0, 8191], [8192, 16383]])
  })
})
