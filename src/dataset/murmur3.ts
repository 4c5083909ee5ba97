// MurmurHash3_x86_128 (Austin Appleby's public-domain reference, SMHasher), over a byte range.
//
// Written out here rather than taken from a package because the checksum calls it once per key
// on the hot path of stage and verify: it must read a range of an existing buffer and write four
// limbs into a reused array, with no allocation per call (the npm ports take a whole array or
// string and return a new hex string). Its correctness is pinned by SMHasher's verification value
// in test/dataset/murmur3.test.ts.

const C1 = 0x239b961b
const C2 = 0xab0e9789
const C3 = 0x38b34ae5
const C4 = 0xa1e38b93

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

function u32le(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)
}

/**
 * The hash of bytes[start, end) with `seed`, as the reference's h1, h2, h3, h4 (unsigned), into
 * out[0..3]. (The reference writes them as 16 bytes: h1..h4, each little-endian.)
 */
export function murmur3x86_128(bytes: Uint8Array, start: number, end: number, seed: number, out: Uint32Array): void {
  const length = end - start
  let h1 = seed | 0
  let h2 = h1
  let h3 = h1
  let h4 = h1
  const blocksEnd = start + (length & ~15)
  let at = start
  for (; at < blocksEnd; at += 16) {
    let k1 = u32le(bytes, at)
    let k2 = u32le(bytes, at + 4)
    let k3 = u32le(bytes, at + 8)
    let k4 = u32le(bytes, at + 12)

    k1 = Math.imul(k1, C1)
    k1 = (k1 << 15) | (k1 >>> 17)
    h1 ^= Math.imul(k1, C2)
    h1 = (h1 << 19) | (h1 >>> 13)
    h1 = (h1 + h2) | 0
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0

    k2 = Math.imul(k2, C2)
    k2 = (k2 << 16) | (k2 >>> 16)
    h2 ^= Math.imul(k2, C3)
    h2 = (h2 << 17) | (h2 >>> 15)
    h2 = (h2 + h3) | 0
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0

    k3 = Math.imul(k3, C3)
    k3 = (k3 << 17) | (k3 >>> 15)
    h3 ^= Math.imul(k3, C4)
    h3 = (h3 << 15) | (h3 >>> 17)
    h3 = (h3 + h4) | 0
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0

    k4 = Math.imul(k4, C4)
    k4 = (k4 << 18) | (k4 >>> 14)
    h4 ^= Math.imul(k4, C1)
    h4 = (h4 << 13) | (h4 >>> 19)
    h4 = (h4 + h1) | 0
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0
  }

  // The tail: up to 15 bytes, little-endian into k1..k4; a lane is mixed when any of its bytes exist.
  const tail = length & 15
  if (tail > 0) {
    let k1 = 0
    let k2 = 0
    let k3 = 0
    let k4 = 0
    for (let i = tail - 1; i >= 0; i--) {
      const byte = bytes[at + i]
      if (i >= 12) k4 |= byte << ((i - 12) * 8)
      else if (i >= 8) k3 |= byte << ((i - 8) * 8)
      else if (i >= 4) k2 |= byte << ((i - 4) * 8)
      else k1 |= byte << (i * 8)
    }
    if (tail > 12) {
      k4 = Math.imul(k4, C4)
      k4 = (k4 << 18) | (k4 >>> 14)
      h4 ^= Math.imul(k4, C1)
    }
    if (tail > 8) {
      k3 = Math.imul(k3, C3)
      k3 = (k3 << 17) | (k3 >>> 15)
      h3 ^= Math.imul(k3, C4)
    }
    if (tail > 4) {
      k2 = Math.imul(k2, C2)
      k2 = (k2 << 16) | (k2 >>> 16)
      h2 ^= Math.imul(k2, C3)
    }
    k1 = Math.imul(k1, C1)
    k1 = (k1 << 15) | (k1 >>> 17)
    h1 ^= Math.imul(k1, C2)
  }

  h1 ^= length
  h2 ^= length
  h3 ^= length
  h4 ^= length
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  h1 = fmix32(h1)
  h2 = fmix32(h2)
  h3 = fmix32(h3)
  h4 = fmix32(h4)
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  out[0] = h1
  out[1] = h2
  out[2] = h3
  out[3] = h4
}
