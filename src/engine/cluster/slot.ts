// Hash slot of a key held as a latin1 string, via the project's one CRC16 (src/util/keyslot.ts).
import {keySlotOfBytes} from '../../util/keyslot.js'

let scratch = Buffer.allocUnsafe(1024)
/** Keys up to this length are copied into scratch by a JS loop: cheaper than a latin1Write call. */
const SHORT_KEY = 64

export function slotOf(key: string): number {
  const length = key.length
  if (length <= SHORT_KEY) {
    // latin1 strings hold one byte per char: copying the char codes is what latin1Write does.
    for (let i = 0; i < length; i++) scratch[i] = key.charCodeAt(i)
    return keySlotOfBytes(scratch, 0, length)
  }
  if (length > scratch.length) scratch = Buffer.allocUnsafe(length * 2)
  const n = scratch.latin1Write(key, 0, length)
  return keySlotOfBytes(scratch, 0, n)
}
