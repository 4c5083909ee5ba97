// MurmurHash3_x86_128 as in the reference: SMHasher's verification value and known digests.
import {describe, expect, it} from 'vitest'
import {murmur3x86_128} from '../../src/dataset/murmur3.js'

/** The 16 bytes the reference writes: h1..h4, each little-endian. */
function referenceBytes(bytes: Uint8Array, seed: number): Buffer {
  const out = new Uint32Array(4)
  murmur3x86_128(bytes, 0, bytes.length, seed, out)
  const result = Buffer.alloc(16)
  out.forEach((h, i) => result.writeUInt32LE(h, 4 * i))
  return result
}

describe('murmur3x86_128', () => {
  it("passes SMHasher's verification test (0xB3ECE62A for MurmurHash3_x86_128)", () => {
    // Hash keys {}, {0}, {0,1}, … {0..254} with seed 256-n; hash the concatenated digests with seed 0.
    const key = Uint8Array.from({length: 256}, (_, i) => i)
    const digests = Buffer.concat(Array.from({length: 256}, (_, n) => referenceBytes(key.subarray(0, n), 256 - n)))
    expect(referenceBytes(digests, 0).readUInt32LE(0)).toBe(0xb3ece62a)
  })

  it('hashes the empty input with seed 0 to zero, and every tail length 0-15 (and whole blocks) its own way', () => {
    expect(referenceBytes(new Uint8Array(0), 0).toString('hex')).toBe('00000000000000000000000000000000')
        const seen = new Set<string>()
    for (let n = 0; n <= 33; n++) seen.add(referenceBytes(Buffer.alloc(n, 0x61), 0).toString('hex'))
    expect(seen.size).toBe(34)
  })

  it('reads only the given range of a larger buffer', () => {
    const whole = Buffer.from('xxhello worldyy')
    expect(referenceBytes(whole.subarray(2, 13), 0)).toEqual(referenceBytes(Buffer.from('hello world'), 0))
  })
})
