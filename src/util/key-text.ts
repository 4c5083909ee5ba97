// The one way flip shows a key (or any byte string) to people: UTF-8 text when the bytes are
// text without control characters, otherwise "0x" + hex. Binary keys stay unambiguous in JSON,
// and a key holding "\n" or ESC can neither split a log line nor drive a terminal.

export function keyText(key: Uint8Array): string {
  const bytes = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength)
  const text = bytes.toString('utf8')
  const printable = Buffer.from(text, 'utf8').equals(bytes) && !/\p{Cc}/u.test(text)
  return printable ? text : `0x${bytes.toString('hex')}`
}

/** A key inside an error message: keyText, shortened to `max` characters, quoted. */
export function describeKey(key: Uint8Array, max = 60): string {
  const shown = keyText(key)
  return JSON.stringify(shown.length > max ? `${shown.slice(0, max)}…` : shown)
}

/** A short preview of a string value for a "changed" sample: keyText of its first `max` bytes, quoted. */
export function valuePreview(value: Buffer, max = 40): string {
  const text = keyText(value.length > max ? value.subarray(0, max) : value)
  return JSON.stringify(text) + (value.length > max ? '…' : '')
}
