// A tiny raw RESP client for tests: sends commands exactly as given and returns replies in a
// readable notation, so expected replies in tests look like the wire:
//   +OK (status)   -ERR ... (error)   :1 (integer)   $text (bulk)   null (nil bulk)
//   *-1 (null array)   [...] (array)   ,1.5 (RESP3 double)   {map: [[k, v], ...]}   {set: [...]}
import {createConnection, type Socket} from 'node:net'

export type Wire = string | null | Wire[] | {map: Array<[Wire, Wire]>} | {set: Wire[]}

export class RespClient {
  private buffer = Buffer.alloc(0)
  private waiting: Array<(reply: Wire) => void> = []
  private closedResolvers: Array<() => void> = []
  closed = false

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.drain()
    })
    socket.on('close', () => {
      this.closed = true
      for (const resolve of this.closedResolvers) resolve()
    })
    socket.on('error', () => {})
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({port, host}, () => resolve(new RespClient(socket)))
      socket.once('error', reject)
    })
  }

  /** Sends one command (strings or Buffers) and waits for its reply. */
  call(...argv: Array<string | Buffer>): Promise<Wire> {
    this.socket.write(encodeCommand(argv))
    return this.next()
  }

  /** Sends raw bytes (e.g. a malformed or inline request). */
  write(bytes: string | Buffer): void {
    this.socket.write(bytes)
  }

  next(): Promise<Wire> {
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.drain()
    })
  }

  /** Resolves when the server closes the connection. */
  untilClosed(): Promise<void> {
    if (this.closed) return Promise.resolve()
    return new Promise((resolve) => this.closedResolvers.push(resolve))
  }

  close(): void {
    this.socket.destroy()
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const parsed = parseReply(this.buffer, 0)
      if (parsed === null) return
      this.buffer = this.buffer.subarray(parsed.end)
      this.waiting.shift()!(parsed.value)
    }
  }
}

export function encodeCommand(argv: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)]
  for (const arg of argv) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

/** Parses one reply at `start`; null when incomplete. */
export function parseReply(buf: Buffer, start: number): {value: Wire; end: number} | null {
  const nl = buf.indexOf('\r\n', start)
  if (nl < 0) return null
  const type = String.fromCharCode(buf[start])
  const line = buf.toString('utf8', start + 1, nl)
  const after = nl + 2
  switch (type) {
    case '+':
      return {value: '+' + line, end: after}
    case '-':
      return {value: '-' + line, end: after}
    case ':':
      return {value: ':' + line, end: after}
    case ',':
      return {value: ',' + line, end: after}
    case '_':
      return {value: null, end: after}
    case '#':
      return {value: ':' + (line === 't' ? 1 : 0), end: after}
    case '$':
    case '=': {
      const len = Number(line)
      if (len < 0) return {value: null, end: after}
      if (buf.length < after + len + 2) return null
      return {value: '$' + buf.toString('utf8', after, after + len), end: after + len + 2}
    }
    case '*':
    case '~':
    case '>':
    case '%': {
      const count = Number(line)
      if (count < 0) return {value: '*-1', end: after}
      const n = type === '%' ? count * 2 : count
      const items: Wire[] = []
      let at = after
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, at)
        if (item === null) return null
        items.push(item.value)
        at = item.end
      }
      if (type === '%') {
        const map: Array<[Wire, Wire]> = []
        for (let i = 0; i < items.length; i += 2) map.push([items[i], items[i + 1]])
        return {value: {map}, end: at}
      }
      if (type === '~') return {value: {set: items}, end: at}
      return {value: items, end: at}
    }
    default:
      throw new Error(`unexpected reply type ${JSON.stringify(type)}`)
  }
}
