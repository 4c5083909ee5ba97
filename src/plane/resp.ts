// RESP2 for the data plane's own sockets: an encoder that writes commands straight into one
// large Buffer (the bulk path sends thousands of commands per write) and a resumable reply
// reader that copes with replies split anywhere across TCP chunks.
//
// Replies come out as: string (+simple), RespError (-error), number (:integer),
// Buffer | null ($bulk), Reply[] | null (*array). Bulk Buffers own their bytes (copied out of the
// socket chunk), so callers may keep them.
import {RespError} from './errors.js'

export type Arg = string | Buffer | number
export type Reply = string | number | Buffer | null | RespError | Reply[]

const EMPTY = Buffer.alloc(0)
const CR = 13
const LF = 10

/** Appends RESP-encoded commands to a growing Buffer; take() hands the bytes out and starts afresh. */
export class CommandEncoder {
  private buf: Buffer
  private pos = 0
  /** Commands appended since the last take(). */
  count = 0

  /** Size of the next buffer: the initial size, or what the last take() needed (up to 4 MiB). */
  private nextSize: number

  constructor(initialSize = 64 * 1024) {
    this.nextSize = initialSize
    this.buf = EMPTY
  }

  get byteLength(): number {
    return this.pos
  }

  append(argv: readonly Arg[]): void {
    // Upper bound of the encoded size: headers ≤ 16 bytes each, UTF-8 ≤ 3 bytes per UTF-16 unit.
    let need = 16
    for (const arg of argv) need += 16 + (typeof arg === 'string' ? arg.length * 3 : typeof arg === 'number' ? 24 : arg.length)
    this.ensure(need)
    this.buf[this.pos++] = 0x2a // *
    this.writeUint(argv.length)
    for (const arg of argv) {
      if (typeof arg === 'string') this.writeBulkString(arg)
      else if (typeof arg === 'number') this.writeBulkNumber(arg)
      else this.writeBulk(arg)
    }
    this.count++
  }

  /** append([a, b]) for two Buffers without building an array: the read path's GET/PTTL/TYPE. */
  append2(a: Buffer, b: Buffer): void {
    this.ensure(48 + a.length + b.length)
    const buf = this.buf
    buf[this.pos++] = 0x2a
    buf[this.pos++] = 0x32 // 2
    buf[this.pos++] = CR
    buf[this.pos++] = LF
    this.writeBulk(a)
    this.writeBulk(b)
    this.count++
  }

  /** append([a, b, c]) for three Buffers without building an array: the bulk path's SET. */
  append3(a: Buffer, b: Buffer, c: Buffer): void {
    this.ensure(64 + a.length + b.length + c.length)
    const buf = this.buf
    buf[this.pos++] = 0x2a
    buf[this.pos++] = 0x33 // 3
    buf[this.pos++] = CR
    buf[this.pos++] = LF
    this.writeBulk(a)
    this.writeBulk(b)
    this.writeBulk(c)
    this.count++
  }

  /**
   * append([name, key, ...pairs.flat()]) for pairs[start, end) without building an argv: the bulk
   * path's HSET (field value ...).
   */
  appendPairs(name: Buffer, key: Buffer, pairs: ReadonlyArray<readonly [Buffer, Buffer]>, start: number, end: number): void {
    let need = 48 + name.length + key.length
    for (let i = start; i < end; i++) need += 32 + pairs[i][0].length + pairs[i][1].length
    this.ensure(need)
    this.buf[this.pos++] = 0x2a // *
    this.writeUint(2 + 2 * (end - start))
    this.writeBulk(name)
    this.writeBulk(key)
    for (let i = start; i < end; i++) {
      const pair = pairs[i]
      this.writeBulk(pair[0])
      this.writeBulk(pair[1])
    }
    this.count++
  }

  private writeBulk(arg: Buffer): void {
    const buf = this.buf
    const length = arg.length
    buf[this.pos++] = 0x24 // $
    this.writeUint(length)
    // Short values are copied byte by byte: cheaper than a native copy call.
    if (length < 48) {
      let pos = this.pos
      for (let i = 0; i < length; i++) buf[pos++] = arg[i]
    } else arg.copy(buf, this.pos)
    this.pos += length
    buf[this.pos++] = CR
    buf[this.pos++] = LF
  }

  private writeBulkString(arg: string): void {
    const buf = this.buf
    buf[this.pos++] = 0x24 // $
    if (isShortAscii(arg)) {
      this.writeUint(arg.length)
      for (let i = 0; i < arg.length; i++) buf[this.pos++] = arg.charCodeAt(i)
    } else {
      const length = Buffer.byteLength(arg)
      this.writeUint(length)
      buf.write(arg, this.pos, length, 'utf8')
      this.pos += length
    }
    buf[this.pos++] = CR
    buf[this.pos++] = LF
  }

  private writeBulkNumber(arg: number): void {
    const buf = this.buf
    buf[this.pos++] = 0x24 // $
    if (Number.isSafeInteger(arg) && arg >= 0) {
      // Non-negative integer (TTLs, counts): digits written directly, no string allocated.
      this.writeUint(digitCount(arg))
      this.writeUintRaw(arg)
    } else {
      const text = formatNumber(arg)
      this.writeUint(text.length)
      buf.write(text, this.pos, 'latin1')
      this.pos += text.length
    }
    buf[this.pos++] = CR
    buf[this.pos++] = LF
  }

  /** The encoded bytes so far (a Buffer the caller now owns); the encoder starts a new buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos)
    // The next buffer is allocated on the next append: one-shot encoders never pay for it.
    this.nextSize = Math.max(this.nextSize, Math.min(this.pos, 4 * 1024 * 1024))
    this.buf = EMPTY
    this.pos = 0
    this.count = 0
    return out
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.nextSize, this.pos + extra))
    this.buf.copy(grown, 0, 0, this.pos)
    this.buf = grown
  }

  /** Writes n and CRLF. */
  private writeUint(n: number): void {
    this.writeUintRaw(n)
    this.buf[this.pos++] = CR
    this.buf[this.pos++] = LF
  }

  private writeUintRaw(n: number): void {
    const digits = digitCount(n)
    let at = this.pos + digits - 1
    do {
      this.buf[at--] = 48 + (n % 10)
      n = Math.floor(n / 10)
    } while (n > 0)
    this.pos += digits
  }
}

function isShortAscii(text: string): boolean {
  if (text.length > 32) return false
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}

function digitCount(n: number): number {
  let digits = 1
  while (n >= 10) {
    n = Math.floor(n / 10)
    digits++
  }
  return digits
}

/** Numbers as Valkey parses them: integers in full, floats round-trip exactly, ±inf spelled out. */
export function formatNumber(n: number): string {
  if (n === Infinity) return 'inf'
  if (n === -Infinity) return '-inf'
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString()
  return String(n)
}

/** Encodes one command (for tests and one-off writes). */
export function encodeCommand(argv: readonly Arg[]): Buffer {
  const encoder = new CommandEncoder(256)
  encoder.append(argv)
  return encoder.take()
}

interface OpenArray {
  items: Reply[]
  remaining: number
}

/**
 * Resumable RESP2 reply reader. feed() each chunk as it arrives; onReply fires once per
 * complete top-level reply, in order. Partial lines are kept; partial bulk bodies are
 * collected chunk by chunk (no re-parsing), so huge replies cost O(size).
 */
export class ReplyReader {
  private leftover: Buffer | null = null
  private bulkParts: Buffer[] = []
  private bulkRemaining = 0 // bytes of the current bulk body + CRLF still to come
  private readonly stack: OpenArray[] = []

  constructor(private readonly onReply: (reply: Reply) => void) {}

  feed(chunk: Buffer): void {
    if (this.leftover !== null) {
      chunk = Buffer.concat([this.leftover, chunk])
      this.leftover = null
    }
    let pos = 0
    const end = chunk.length

    if (this.bulkRemaining > 0) {
      const take = Math.min(this.bulkRemaining, end)
      this.bulkParts.push(chunk.subarray(0, take))
      this.bulkRemaining -= take
      pos = take
      if (this.bulkRemaining > 0) return
      const whole = Buffer.concat(this.bulkParts)
      this.bulkParts = []
      this.emit(whole.subarray(0, whole.length - 2))
    }

    while (pos < end) {
      const type = chunk[pos]
      const lf = chunk.indexOf(LF, pos)
      if (lf < 0) {
        this.leftover = chunk.subarray(pos)
        return
      }
      const lineEnd = lf - 1 // index of CR
      if (type === 0x2b /* + */) {
        // "+OK" is by far the most common reply of the bulk path: no string allocation for it.
        const text = lineEnd - pos === 3 && chunk[pos + 1] === 0x4f && chunk[pos + 2] === 0x4b ? 'OK' : chunk.toString('utf8', pos + 1, lineEnd)
        pos = lf + 1
        this.emit(text)
      } else if (type === 0x3a /* : */) {
        const value = parseInteger(chunk, pos + 1, lineEnd)
        pos = lf + 1
        this.emit(value)
      } else if (type === 0x24 /* $ */) {
        const length = parseInteger(chunk, pos + 1, lineEnd)
        pos = lf + 1
        if (length < 0) {
          this.emit(null)
          continue
        }
        if (pos + length + 2 <= end) {
          const body = copyOut(chunk, pos, length)
          pos += length + 2
          this.emit(body)
        } else {
          // Body continues in later chunks.
          this.bulkParts = [chunk.subarray(pos)]
          this.bulkRemaining = length + 2 - (end - pos)
          return
        }
      } else if (type === 0x2a /* * */) {
        const count = parseInteger(chunk, pos + 1, lineEnd)
        pos = lf + 1
        if (count < 0) this.emit(null)
        else if (count === 0) this.emit([])
        else this.stack.push({items: new Array(count), remaining: count})
      } else if (type === 0x2d /* - */) {
        const message = chunk.toString('utf8', pos + 1, lineEnd)
        pos = lf + 1
        this.emit(new RespError(message))
      } else {
        throw new Error(`unexpected RESP reply type byte 0x${type.toString(16)}`)
      }
    }
  }

  private emit(reply: Reply): void {
    if (this.stack.length === 0) {
      this.onReply(reply)
      return
    }
    // Fill open arrays from the innermost outwards; a completed array is itself an element.
    for (;;) {
      const top = this.stack[this.stack.length - 1]
      if (top === undefined) {
        this.onReply(reply)
        return
      }
      top.items[top.items.length - top.remaining] = reply
      top.remaining--
      if (top.remaining > 0) return
      this.stack.pop()
      reply = top.items
    }
  }
}

/** A new Buffer holding buf[start, start+length): small ones come from Node's pool. */
function copyOut(buf: Buffer, start: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  if (length < 48) for (let i = 0; i < length; i++) out[i] = buf[start + i]
  else buf.copy(out, 0, start, start + length)
  return out
}

function parseInteger(buf: Buffer, start: number, end: number): number {
  let negative = false
  let i = start
  if (buf[i] === 0x2d) {
    negative = true
    i++
  }
  let value = 0
  for (; i < end; i++) value = value * 10 + (buf[i] - 48)
  return negative ? -value : value
}
