// Incremental RESP request parser: multibulk (`*N` of `$len` bulks) and inline commands, fed with
// TCP chunks of any size. Arguments come out as latin1 strings: a 1:1 byte map, so keys and values
// stay binary-safe while costing one flat JS string each (no Buffer objects on the hot path).
// Limits and error texts follow Valkey's networking.c (processMultibulkBuffer/processInlineBuffer).

const CR = 13
const LF = 10

/** Valkey's PROTO_INLINE_MAX_SIZE: longest line without a newline. */
export const INLINE_MAX_SIZE = 64 * 1024
/** Valkey's proto-max-bulk-len default (512 MB). */
export const MAX_BULK_LEN = 512 * 1024 * 1024
/** Valkey accepts any multibulk count up to INT_MAX and grows argv as bulks arrive (never `count` up front). */
const MAX_MULTIBULK = 2147483647
/** Valkey's client-query-buffer-limit default (1 GB); unauthenticated clients get 1 MB. */
export const QUERY_BUFFER_LIMIT = 1024 * 1024 * 1024
const UNAUTHENTICATED_QUERY_BUFFER_LIMIT = 1024 * 1024
/** Bulks at least this big are gathered chunk by chunk instead of re-concatenating the buffer. */
const BIG_ARG = 32 * 1024

/** How far a header line is searched in JS before handing over to Buffer#indexOf. */
const SHORT_SCAN = 32

/**
 * buf.indexOf(CR, pos) for the `*3` / `$4` header lines of a request: they end within a few
 * bytes, and a JS loop finds that far cheaper than a call into Buffer#indexOf.
 */
function indexOfCR(buf: Buffer, pos: number, end: number): number {
  const stop = pos + SHORT_SCAN < end ? pos + SHORT_SCAN : end
  for (let i = pos; i < stop; i++) if (buf[i] === CR) return i
  return stop === end ? -1 : buf.indexOf(CR, stop)
}

export interface ParserLimits {
  protoMaxBulkLen: number
  queryBufferLimit: number
}

export interface ParserSink {
  /** Called once per complete command. Returning false stops parsing (e.g. the client is closing). */
  command(argv: string[]): boolean
  /** A protocol error: reply with `ERR <message>` then close the connection. */
  protocolError(message: string): void
  /** The unparsed input passed client-query-buffer-limit: close without a reply (as Valkey). */
  queryBufferLimit?(): void
}

export class RequestParser {
  /** Unauthenticated clients get the tighter limits Valkey applies (10 args, 16 KB bulks). */
  authRequired = false
  /**
   * Set by the sink between two commands when the client's unsent replies are too big: parsing
   * stops there and the rest of the input waits in `pending` until release().
   */
  held = false
  private pending: Buffer | null = null
  /** Chunks gathered while waiting for a big bulk, and their total length. */
  private gathered: Buffer[] | null = null
  private gatheredLength = 0
  private args: string[] | null = null
  private remaining = 0
  private bulkLen = -1
  /** proto-max-bulk-len and client-query-buffer-limit, read live (CONFIG SET changes them). */
  constructor(private readonly limits: ParserLimits = {protoMaxBulkLen: MAX_BULK_LEN, queryBufferLimit: QUERY_BUFFER_LIMIT}) {}

  /** Bytes of the arguments of the command being read. */
  private argsBytes = 0
  private failed = false

  /** Input bytes held by the parser (unparsed input plus the arguments read so far). */
  get bufferedBytes(): number {
    return (this.pending?.length ?? 0) + this.gatheredLength + this.argsBytes
  }

  /** Stops parsing at the next command boundary (see `held`). */
  hold(): void {
    this.held = true
  }

  /** Parses what waited while held. */
  release(sink: ParserSink): void {
    this.held = false
    if (this.failed || this.pending === null) return
    const buf = this.pending
    this.pending = null
    this.run(buf, sink)
  }

  feed(chunk: Buffer, sink: ParserSink): void {
    if (this.failed) return
    if (this.held) {
      // Normally the socket is paused while held; bytes already on their way wait here.
      this.pending = this.pending === null ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk])
      this.checkQueryBuffer(sink)
      return
    }
    let buf: Buffer
    if (this.gathered !== null) {
      this.gathered.push(chunk)
      this.gatheredLength += chunk.length
      if (this.gatheredLength < this.bulkLen + 2) {
        this.checkQueryBuffer(sink)
        return
      }
      buf = Buffer.concat(this.gathered, this.gatheredLength)
      this.gathered = null
      this.gatheredLength = 0
    } else if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk])
      this.pending = null
    } else {
      buf = chunk
    }
    this.run(buf, sink)
  }

  private run(buf: Buffer, sink: ParserSink): void {
    const consumed = this.parse(buf, sink)
    if (this.failed || consumed >= buf.length) return
    const rest = buf.subarray(consumed)
    if (this.bulkLen >= BIG_ARG && rest.length < this.bulkLen + 2) {
      this.gathered = [Buffer.from(rest)]
      this.gatheredLength = rest.length
    } else {
      // Copy so a small leftover does not pin a big socket chunk.
      this.pending = Buffer.from(rest)
    }
    this.checkQueryBuffer(sink)
  }

  private checkQueryBuffer(sink: ParserSink): void {
    const limit = this.authRequired ? Math.min(UNAUTHENTICATED_QUERY_BUFFER_LIMIT, this.limits.queryBufferLimit) : this.limits.queryBufferLimit
    if (this.bufferedBytes <= limit) return
    this.stop()
    sink.queryBufferLimit?.()
  }

  /** After a protocol error or a limit: the connection is closing, so nothing more is read or kept. */
  private stop(): void {
    this.failed = true
    this.pending = null
    this.gathered = null
    this.gatheredLength = 0
    this.args = null
    this.argsBytes = 0
  }

  /** Parses as many commands as `buf` holds; returns the offset of the first unconsumed byte. */
  private parse(buf: Buffer, sink: ParserSink): number {
    let pos = 0
    const end = buf.length
    while (pos < end && !this.held) {
      if (this.args === null) {
        if (buf[pos] !== 0x2a /* * */) {
          const next = this.parseInline(buf, pos, sink)
          if (next < 0) return end
          if (next === pos) return pos
          pos = next
          continue
        }
        const nl = indexOfCR(buf, pos, end)
        if (nl < 0 || nl + 1 >= end) {
          if (end - pos > INLINE_MAX_SIZE) return this.fail(sink, 'Protocol error: too big mbulk count string')
          return pos
        }
        if (buf[nl + 1] !== LF) return this.fail(sink, 'Protocol error: invalid CRLF in request')
        const count = parseLength(buf, pos + 1, nl)
        if (count === null || count > MAX_MULTIBULK) return this.fail(sink, 'Protocol error: invalid multibulk length')
        if (count > 10 && this.authRequired) return this.fail(sink, 'Protocol error: unauthenticated multibulk length')
        pos = nl + 2
        if (count <= 0) continue
        this.args = []
        this.argsBytes = 0
        this.remaining = count
        this.bulkLen = -1
      }
      // Read bulks of the current multibulk.
      while (this.remaining > 0) {
        if (this.bulkLen < 0) {
          if (pos >= end) return pos
          const nl = indexOfCR(buf, pos, end)
          if (nl < 0 || nl + 1 >= end) {
            if (end - pos > INLINE_MAX_SIZE) return this.fail(sink, 'Protocol error: too big bulk count string')
            return pos
          }
          if (buf[pos] !== 0x24 /* $ */) {
            return this.fail(sink, `Protocol error: expected '$', got '${String.fromCharCode(buf[pos])}'`)
          }
          if (buf[nl + 1] !== LF) return this.fail(sink, 'Protocol error: invalid CRLF in request')
          const len = parseLength(buf, pos + 1, nl)
          if (len === null || len < 0 || len > this.limits.protoMaxBulkLen) return this.fail(sink, 'Protocol error: invalid bulk length')
          if (len > 16384 && this.authRequired) return this.fail(sink, 'Protocol error: unauthenticated bulk length')
          this.bulkLen = len
          pos = nl + 2
        }
        if (end - pos < this.bulkLen + 2) return pos
        // Valkey 9.1 (as its 7.2/8.0/9.0 patch releases) checks the two bytes after the payload.
        if (buf[pos + this.bulkLen] !== CR || buf[pos + this.bulkLen + 1] !== LF) {
          return this.fail(sink, 'Protocol error: invalid CRLF in request')
        }
        this.args!.push(buf.latin1Slice(pos, pos + this.bulkLen))
        this.argsBytes += this.bulkLen
        pos += this.bulkLen + 2
        this.bulkLen = -1
        this.remaining--
      }
      const argv = this.args!
      this.args = null
      this.argsBytes = 0
      if (!sink.command(argv)) {
        this.failed = true
        return end
      }
    }
    return pos
  }

  /** Returns the next offset, `pos` when the line is incomplete, or -1 after an error/stop. */
  private parseInline(buf: Buffer, pos: number, sink: ParserSink): number {
    const nl = buf.indexOf(LF, pos)
    if (nl < 0) {
      if (buf.length - pos > INLINE_MAX_SIZE) {
        this.fail(sink, 'Protocol error: too big inline request')
        return -1
      }
      return pos
    }
    const lineEnd = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl
    const argv = splitInlineArgs(buf.latin1Slice(pos, lineEnd))
    if (argv === null) {
      this.fail(sink, 'Protocol error: unbalanced quotes in request')
      return -1
    }
    if (argv.length > 0 && !sink.command(argv)) {
      this.failed = true
      return -1
    }
    return nl + 1
  }

  private fail(sink: ParserSink, message: string): number {
    this.stop()
    sink.protocolError(message)
    return Number.MAX_SAFE_INTEGER
  }
}

/**
 * Parses a signed decimal in buf[start, end) exactly as Valkey's string2ll accepts it: no sign but
 * '-', no leading zero, no "-0", within a signed 64-bit integer. null if malformed.
 */
function parseLength(buf: Buffer, start: number, end: number): number | null {
  if (start >= end || end - start > 20) return null
  let i = start
  let negative = false
  if (buf[i] === 0x2d /* - */) {
    negative = true
    i++
  }
  if (i === end) return null
  if (buf[i] === 0x30 /* 0 */) return end - i === 1 && !negative ? 0 : null
  const digits = end - i
  let n = 0
  for (; i < end; i++) {
    const d = buf[i] - 0x30
    if (d < 0 || d > 9) return null
    n = n * 10 + d
  }
  // Beyond 64 bits string2ll fails; 19 digits may still overflow, compare them as text.
  if (digits > 19) return null
  if (digits === 19 && buf.latin1Slice(end - 19, end) > (negative ? '9223372036854775808' : '9223372036854775807')) return null
  return negative ? -n : n
}

const HEX = '0123456789abcdefABCDEF'

/**
 * Splits an inline command line as Valkey's sdssplitargs does: whitespace separated, "double quotes"
 * with \n \r \t \b \a \\ \" \xHH escapes, 'single quotes' with \' only. null on unbalanced quotes
 * (or a closing quote not followed by a space).
 */
export function splitInlineArgs(line: string): string[] | null {
  const args: string[] = []
  let i = 0
  const n = line.length
  const isSpace = (c: string) => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f'
  while (true) {
    while (i < n && isSpace(line[i])) i++
    if (i >= n) return args
    let current = ''
    let inDouble = false
    let inSingle = false
    let done = false
    while (!done) {
      if (inDouble) {
        if (i >= n) return null
        const c = line[i]
        if (c === '\\' && line[i + 1] === 'x' && i + 3 < n + 0 && HEX.includes(line[i + 2] ?? '-') && HEX.includes(line[i + 3] ?? '-')) {
          current += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16))
          i += 3
        } else if (c === '\\' && i + 1 < n) {
          i++
          const e = line[i]
          current += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1])) return null
          done = true
        } else {
          current += c
        }
      } else if (inSingle) {
        if (i >= n) return null
        const c = line[i]
        if (c === '\\' && line[i + 1] === "'") {
          i++
          current += "'"
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) return null
          done = true
        } else {
          current += c
        }
      } else {
        if (i >= n) {
          done = true
          break
        }
        const c = line[i]
        if (isSpace(c)) done = true
        else if (c === '"') inDouble = true
        else if (c === "'") inSingle = true
        else current += c
      }
      if (i < n) i++
    }
    args.push(current)
  }
}
