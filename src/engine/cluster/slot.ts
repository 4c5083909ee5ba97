// Hash slot of a key held as a latin1 string, via the project's one CRC16 (src/util/keyslot.ts).
import {keySlotOfBytes} from '../../util/keyslot.js'

let scratch = Buffer.allocUnsafe(1024)

export function slotOf(key: string): number {
  if (key.length > scratch.length) scratch = Buffer.allocUnsafe(key.length * 2)
  const n = scratch.latin1Write(key, 0, key.length)
  return keySlotOfBytes(scratch, 0, n)
}
