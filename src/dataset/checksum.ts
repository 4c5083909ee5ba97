/**
 * Dataset checksum, version 2: order-independent and engine-independent.
 *
 * Per key, a 128-bit digest: MurmurHash3_x86_128 (seed 0) over this canonical encoding, its
 * h1, h2, h3, h4 read as one big-endian 128-bit number (h1 most significant). u8/u32 are
 * unsigned big-endian integers and lp(x) = u32 byte length of x, then the bytes of x:
 *
 *     u8 type (1 string, 2 hash, 3 set, 4 zset, 5 list)
 *     u8 ttl  (1 if the key has an expiry, 0 if not; the TTL value itself is not covered)
 *     lp(key)
 *     u32 element count (1 for a string)
 *     string: lp(value)
 *     hash:   lp(field) lp(value) for each field, fields sorted bytewise
 *     set:    lp(member) for each member, sorted bytewise
 *     zset:   lp(member) lp(score) for each member, sorted bytewise; score is the double the
 *             server holds, written as "inf", "-inf", or the shortest decimal that round-trips
 *             (ECMAScript Number.prototype.toString; -0 is written "0")
 *     list:   lp(element) for each element, in list order
 *
 * The dataset checksum is the sum of all key digests modulo 2^128 (a sum, not XOR, so two
 * equal digests cannot cancel out), printed as 32 lowercase hex digits. The same sum is kept
 * per hash slot (CRC16 slot, 0..16383) with a key count, so a mismatch can be narrowed to slots.
 * Keys are bytes; server scores are parsed from their text to a double before encoding, so any
 * server (the bundled engine, Valkey, Redis) and any db give the same checksum for the same data.
 *
 * Why MurmurHash3 and not SHA-256 (version 1): the digest is computed once per key on the hot
 * path of stage and verify, where SHA-256 through node:crypto costs many times more per key
 * (mostly the native call) than this hash in plain JavaScript. The checksum guards against
 * lost, extra and changed keys, not against someone crafting collisions.
 */
import {SLOT_COUNT, keySlot} from '../util/keyslot.js'
import {murmur3x86_128} from './murmur3.js'
import {VALUE_TYPES, type DatasetValue, type ValueType} from './record.js'

const TYPE_CODES: Record<ValueType, number> = {string: 1, hash: 2, set: 3, zset: 4, list: 5}

export const CHECKSUM_VERSION = 2
export const EMPTY_CHECKSUM = '0'.repeat(32)

/** Canonical text of a zset score (see the definition above). */
export function canonicalScore(score: number): string {
  if (score === Infinity) return 'inf'
  if (score === -Infinity) return '-inf'
  if (Object.is(score, -0)) return '0'
  return String(score)
}

// One growing scratch buffer for the canonical encoding: no allocation per key.
let scratch = Buffer.allocUnsafe(64 * 1024)
let position = 0

function ensure(extra: number): void {
  if (position + extra <= scratch.length) return
  let size = scratch.length * 2
  while (size < position + extra) size *= 2
  const bigger = Buffer.allocUnsafe(size)
  scratch.copy(bigger, 0, 0, position)
  scratch = bigger
}

function putU32(n: number): void {
  ensure(4)
  scratch.writeUInt32BE(n, position)
  position += 4
}

function putBytes(bytes: Uint8Array): void {
  const length = bytes.length
  ensure(4 + length)
  const at = position
  scratch[at] = length >>> 24
  scratch[at + 1] = (length >>> 16) & 0xff
  scratch[at + 2] = (length >>> 8) & 0xff
  scratch[at + 3] = length & 0xff
  // A plain loop beats a native copy for the short keys and values that dominate datasets.
  if (length <= 64) for (let i = 0; i < length; i++) scratch[at + 4 + i] = bytes[i]
  else scratch.set(bytes, at + 4)
  position = at + 4 + length
}

function putText(text: string): void {
  const length = Buffer.byteLength(text)
  ensure(4 + length)
  scratch.writeUInt32BE(length, position)
  scratch.write(text, position + 4)
  position += 4 + length
}

const byBytes = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b)

/** Bytewise order of two short byte strings in JS (cheaper than a native compare call per pair). */
function compareShort(a: Uint8Array, b: Uint8Array): number {
  const length = a.length < b.length ? a.length : b.length
  for (let i = 0; i < length; i++) {
    const diff = a[i] - b[i]
    if (diff !== 0) return diff
  }
  return a.length - b.length
}

// Reused for sorting the few fields of a typical hash: no copy of the field array per key.
const pairScratch: Array<readonly [Uint8Array, Uint8Array]> = []

/** Pairs sorted bytewise by their first element; small arrays by insertion sort into a reused array. */
function sortedPairs<T extends readonly [Uint8Array, unknown]>(pairs: readonly T[]): readonly T[] {
  if (pairs.length > 16) return [...pairs].sort((a, b) => byBytes(a[0], b[0]))
  const out = pairScratch as unknown as T[]
  out.length = 0
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]
    let j = i
    while (j > 0 && compareShort(out[j - 1][0], pair[0]) > 0) {
      out[j] = out[j - 1]
      j--
    }
    out[j] = pair
  }
  return out
}

/** The canonical encoding of one key (a view into a shared buffer: use it before the next call). */
export function canonicalEncoding(key: Uint8Array, value: DatasetValue, hasTtl: boolean): Buffer {
  return scratch.subarray(0, encodeCanonical(key, value, hasTtl))
}

/**
 * canonicalEncoding without a Buffer view per key: writes the encoding at the start of the
 * shared scratch buffer and returns its length (valid until the next call).
 */
function encodeCanonical(key: Uint8Array, value: DatasetValue, hasTtl: boolean): number {
  position = 0
  ensure(2)
  scratch[position++] = TYPE_CODES[value.type]
  scratch[position++] = hasTtl ? 1 : 0
  putBytes(key)
  switch (value.type) {
    case 'string':
      putU32(1)
      putBytes(value.value)
      break
    case 'hash': {
      const fields = value.value.length > 1 ? sortedPairs(value.value) : value.value
      putU32(fields.length)
      for (const [field, fieldValue] of fields) {
        putBytes(field)
        putBytes(fieldValue)
      }
      break
    }
    case 'set': {
      const members = value.value.length > 1 ? [...value.value].sort(byBytes) : value.value
      putU32(members.length)
      for (const member of members) putBytes(member)
      break
    }
    case 'zset': {
      const members = value.value.length > 1 ? [...value.value].sort((a, b) => byBytes(a[0], b[0])) : value.value
      putU32(members.length)
      for (const [member, score] of members) {
        putBytes(member)
        putText(canonicalScore(score))
      }
      break
    }
    case 'list':
      putU32(value.value.length)
      for (const element of value.value) putBytes(element)
      break
  }
  return position
}

// The four 32-bit words of the last digest (reused: no allocation per key).
const digestWords = new Uint32Array(4)

/** Digest of the encoding encodeCanonical() just wrote, into digestWords. */
function digestScratch(length: number): Uint32Array {
  murmur3x86_128(scratch, 0, length, 0, digestWords)
  return digestWords
}

/** The 16-byte digest of one key, big-endian (see the definition above). */
export function keyDigest(key: Uint8Array, value: DatasetValue, hasTtl: boolean): Buffer {
  const words = digestScratch(encodeCanonical(key, value, hasTtl))
  const digest = Buffer.allocUnsafe(16)
  for (let i = 0; i < 4; i++) digest.writeUInt32BE(words[i], 4 * i)
  return digest
}

export interface SlotSummary {
  slot: number
  keys: number
  checksum: string
}

/** Running counts and checksums of a dataset, in total, per type and per slot. */
export class DatasetChecksum {
  keys = 0
  readonly types: Record<ValueType, number> = {string: 0, hash: 0, set: 0, zset: 0, list: 0}
  // 128-bit sums as four 32-bit limbs, most significant first.
  private readonly total = new Uint32Array(4)
  private readonly slotKeys = new Uint32Array(SLOT_COUNT)
  private readonly slotSums = new Uint32Array(SLOT_COUNT * 4)

  /** Adds one key. */
  add(key: Uint8Array, value: DatasetValue, hasTtl: boolean, slot = keySlot(key)): void {
    const words = digestScratch(encodeCanonical(key, value, hasTtl))
    this.addWords(slot, words[0], words[1], words[2], words[3], value.type)
  }

  /** Adds a key by its 16-byte big-endian digest. */
  addDigest(slot: number, digest: Uint8Array, type: ValueType): void {
    this.addWords(slot, readU32(digest, 0), readU32(digest, 4), readU32(digest, 8), readU32(digest, 12), type)
  }

  private addWords(slot: number, d0: number, d1: number, d2: number, d3: number, type: ValueType): void {
    addLimbs(this.total, 0, d0, d1, d2, d3)
    addLimbs(this.slotSums, slot * 4, d0, d1, d2, d3)
    this.slotKeys[slot]++
    this.keys++
    this.types[type]++
  }

  /** Adds everything another accumulator counted (e.g. one per node, merged at the end). */
  merge(other: DatasetChecksum): void {
    addLimbs(this.total, 0, other.total[0], other.total[1], other.total[2], other.total[3])
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (other.slotKeys[slot] === 0) continue
      const at = slot * 4
      addLimbs(this.slotSums, at, other.slotSums[at], other.slotSums[at + 1], other.slotSums[at + 2], other.slotSums[at + 3])
      this.slotKeys[slot] += other.slotKeys[slot]
    }
    this.keys += other.keys
    for (const type of VALUE_TYPES) this.types[type] += other.types[type]
  }

  get checksum(): string {
    return limbsHex(this.total, 0)
  }

  slotKeyCount(slot: number): number {
    return this.slotKeys[slot]
  }

  slotChecksum(slot: number): string {
    return limbsHex(this.slotSums, slot * 4)
  }

  /** Non-empty slots only, in slot order. */
  slots(): SlotSummary[] {
    const result: SlotSummary[] = []
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (this.slotKeys[slot] > 0) result.push({slot, keys: this.slotKeys[slot], checksum: this.slotChecksum(slot)})
    }
    return result
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0
}

function addLimbs(target: Uint32Array, at: number, d0: number, d1: number, d2: number, d3: number): void {
  let sum = target[at + 3] + d3
  target[at + 3] = sum >>> 0
  let carry = sum > 0xffffffff ? 1 : 0
  sum = target[at + 2] + d2 + carry
  target[at + 2] = sum >>> 0
  carry = sum > 0xffffffff ? 1 : 0
  sum = target[at + 1] + d1 + carry
  target[at + 1] = sum >>> 0
  carry = sum > 0xffffffff ? 1 : 0
  target[at] = (target[at] + d0 + carry) >>> 0 // the carry out of 2^128 is dropped: mod 2^128
}

// Two lowercase hex digits per byte value: one lookup per byte instead of toString + padStart per limb.
const HEX_BYTES = Array.from({length: 256}, (_, byte) => byte.toString(16).padStart(2, '0'))

function limbsHex(limbs: Uint32Array, at: number): string {
  let hex = ''
  for (let i = 0; i < 4; i++) {
    const limb = limbs[at + i]
    hex += HEX_BYTES[limb >>> 24] + HEX_BYTES[(limb >>> 16) & 0xff] + HEX_BYTES[(limb >>> 8) & 0xff] + HEX_BYTES[limb & 0xff]
  }
  return hex
}
