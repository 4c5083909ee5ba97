// Key → hash slot exactly as Valkey computes it (src/cluster.c keyHashSlot):
// CRC16-CCITT (XMODEM) of the key, or of the first non-empty {hash tag}, modulo 16384.
// Shared by the engine and the client-side data plane so both always agree.

export const SLOT_COUNT = 16384

const TABLE = (() => {
  const table = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[i] = crc
  }
  return table
})()

function crc16Range(buf: Uint8Array, start: number, end: number): number {
  let crc = 0
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ buf[i]) & 0xff]
  return crc
}

/** Slot of a key given as bytes (Buffer) or as a JS string (encoded UTF-8). */
export function keySlot(key: Uint8Array | string): number {
  const buf = typeof key === 'string' ? Buffer.from(key) : key
  return keySlotOfBytes(buf, 0, buf.length)
}

/** Slot of key bytes buf[start, end): avoids a copy on the engine's hot path. */
export function keySlotOfBytes(buf: Uint8Array, start: number, end: number): number {
  let open = -1
  for (let i = start; i < end; i++) {
    if (buf[i] === 0x7b /* { */) {
      open = i
      break
    }
  }
  if (open >= 0) {
    for (let close = open + 1; close < end; close++) {
      if (buf[close] === 0x7d /* } */) {
        // "{}" (empty tag) hashes the whole key, as in Valkey.
        if (close > open + 1) return crc16Range(buf, open + 1, close) & (SLOT_COUNT - 1)
        break
      }
    }
  }
  return crc16Range(buf, start, end) & (SLOT_COUNT - 1)
}

/**
 * Slot ranges for N primaries as `valkey-cli --cluster create` assigns them
 * (clusterManagerCommandCreate: slotsPerNode = 16384 / N, the fractional part carried over).
 */
export function splitSlots(primaries: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  const slotsPerNode = SLOT_COUNT / primaries
  let first = 0
  let cursor = 0
  for (let i = 0; i < primaries; i++) {
    let last = Math.round(cursor + slotsPerNode - 1)
    if (last > SLOT_COUNT - 1 || i === primaries - 1) last = SLOT_COUNT - 1
    if (last < first) last = first
    ranges.push([first, last])
    first = last + 1
    cursor += slotsPerNode
  }
  return ranges
}
