// Encodes Reply values as RESP2 or RESP3 into one growable output buffer per client, so a whole
// pipeline of replies leaves in a single socket write.
// Inside the engine a JS `string` bulk is a latin1 byte string (see parser.ts): written 1:1.
import {DoubleReply, ErrorReply, MapReply, NULL_ARRAY, OK, SetReply, SimpleString, type Reply} from './reply.js'

const CRLF = '\r\n'

/**
 * A verbatim text reply (INFO, CLUSTER INFO/NODES, CLIENT LIST/INFO): RESP3 `=len\r\ntxt:...`,
 * RESP2 a bulk string. Not part of the shared Reply union: handlers return it cast, and the
 * scripting boundary hands it to Lua as a bulk string.
 */
export class VerbatimReply {
  constructor(readonly text: string) {}
}

/** Wraps text as a verbatim reply (typed as Reply for handlers). */
export function verbatim(text: string): Reply {
  return new VerbatimReply(text) as unknown as Reply
}
const OK_BYTES = Buffer.from('+OK\r\n')
/** Texts up to this length are copied by a JS loop: cheaper than a latin1Write call. */
const SHORT_TEXT = 32

/** buf.latin1Write(text, at) for text that fits; returns the bytes written. */
function writeLatin1(buf: Buffer, text: string, at: number): number {
  const n = text.length
  if (n > SHORT_TEXT) return buf.latin1Write(text, at, n)
  for (let i = 0; i < n; i++) buf[at + i] = text.charCodeAt(i)
  return n
}

export class ReplyWriter {
  buf: Buffer
  length = 0

  constructor(initialSize = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize)
  }

  /** Hands out the encoded bytes (a copy when small, so the buffer can be reused) and resets. */
  take(): Buffer {
    let out: Buffer
    if (this.length > 64 * 1024) {
      // Big output: hand over the buffer itself instead of copying it.
      out = this.buf.subarray(0, this.length)
      this.buf = Buffer.allocUnsafe(16 * 1024)
    } else {
      out = Buffer.from(this.buf.subarray(0, this.length))
    }
    this.length = 0
    return out
  }

  /** Drops everything not yet handed out, and a buffer grown big (a client being closed). */
  discard(): void {
    this.length = 0
    if (this.buf.length > 16 * 1024) this.buf = Buffer.allocUnsafe(16 * 1024)
  }

  private ensure(extra: number): void {
    const need = this.length + extra
    if (need <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < need) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }

  /** Writes ASCII/latin1 text as is. */
  raw(text: string): void {
    this.ensure(text.length)
    this.length += writeLatin1(this.buf, text, this.length)
  }

  rawBytes(bytes: Buffer): void {
    this.ensure(bytes.length)
    bytes.copy(this.buf, this.length)
    this.length += bytes.length
  }

  bulk(value: string): void {
    const header = '$' + value.length + CRLF
    this.ensure(header.length + value.length + 2)
    let at = this.length
    at += writeLatin1(this.buf, header, at)
    at += writeLatin1(this.buf, value, at)
    this.buf[at++] = 13
    this.buf[at++] = 10
    this.length = at
  }

  bulkBytes(value: Buffer): void {
    const header = '$' + value.length + CRLF
    this.ensure(header.length + value.length + 2)
    let at = this.length
    at += writeLatin1(this.buf, header, at)
    value.copy(this.buf, at)
    at += value.length
    this.buf[at++] = 13
    this.buf[at++] = 10
    this.length = at
  }

  integer(n: number): void {
    this.raw(':' + n + CRLF)
  }

  error(message: string): void {
    // Replies must stay one line whatever the user typed.
    this.raw('-' + (message.includes('\n') || message.includes('\r') ? message.replace(/[\r\n]/g, ' ') : message) + CRLF)
  }

  reply(r: Reply, resp: number): void {
    if (typeof r === 'string') return this.bulk(r)
    if (r === OK) return this.rawBytes(OK_BYTES)
    if (typeof r === 'number') return this.integer(r)
    // Integers beyond 2^53 (INCR near the int64 limits) travel as bigint.
    if (typeof r === 'bigint') return this.raw(':' + r + CRLF)
    if (r === null) return this.raw(resp === 3 ? '_\r\n' : '$-1\r\n')
    if (Buffer.isBuffer(r)) return this.bulkBytes(r)
    if (Array.isArray(r)) {
      this.raw('*' + r.length + CRLF)
      for (let i = 0; i < r.length; i++) this.reply(r[i], resp)
      return
    }
    if (r === NULL_ARRAY) return this.raw(resp === 3 ? '_\r\n' : '*-1\r\n')
    if (r instanceof SimpleString) return this.raw('+' + r.value + CRLF)
    if (r instanceof VerbatimReply) {
      if (resp !== 3) return this.bulk(r.text)
      return this.raw('=' + (r.text.length + 4) + CRLF + 'txt:' + r.text + CRLF)
    }
    if (r instanceof ErrorReply) return this.error(r.message)
    if (r instanceof DoubleReply) {
      const text = formatDouble(r.value)
      return resp === 3 ? this.raw(',' + text + CRLF) : this.bulk(text)
    }
    if (r instanceof MapReply) {
      this.raw((resp === 3 ? '%' + r.entries.length : '*' + r.entries.length * 2) + CRLF)
      for (const [k, v] of r.entries) {
        this.reply(k, resp)
        this.reply(v, resp)
      }
      return
    }
    if (r instanceof SetReply) {
      this.raw((resp === 3 ? '~' : '*') + r.items.length + CRLF)
      for (const item of r.items) this.reply(item, resp)
      return
    }
    throw new Error(`cannot encode reply ${String(r)}`)
  }
}

/**
 * Formats a double as Valkey does for replies (fpconv_dtoa: the shortest repr that round-trips,
 * laid out like %.17g): "1.5", "3", "1e+21", "inf", "-inf".
 */
export function formatDouble(value: number): string {
  if (value === Infinity) return 'inf'
  if (value === -Infinity) return '-inf'
  if (Number.isNaN(value)) return 'nan'
  if (value === 0) return Object.is(value, -0) ? '-0' : '0'
  const exp = Math.floor(Math.log10(Math.abs(value)))
  if (exp < -4 || exp >= 17) {
    // %g style exponent: at least two digits.
    const [mantissa, e] = value.toExponential().split('e')
    const sign = e[0] === '-' ? '-' : '+'
    const digits = e.replace(/^[+-]/, '')
    return `${mantissa}e${sign}${digits.length < 2 ? '0' + digits : digits}`
  }
  const text = String(value)
  // JS switches to exponent notation at 1e21 and below 1e-6; within %g's range it never does here.
  return text
}
