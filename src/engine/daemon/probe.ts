// A tiny one-shot RESP client for the daemon's own checks (PING until ready, INFO for status).
// Deliberately minimal: one connection, commands in order, replies parsed whole.
import {createConnection, type Socket} from 'node:net'

export type ProbeReply = string | number | null | ProbeError | ProbeReply[]

export class ProbeError extends Error {}

export class Probe {
  private buffer = Buffer.alloc(0)
  private waiting: Array<{resolve: (r: ProbeReply) => void; reject: (e: Error) => void}> = []
  private failure: Error | null = null

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
      this.drain()
    })
    const fail = (error: Error) => {
      this.failure = error
      for (const w of this.waiting.splice(0)) w.reject(error)
    }
    socket.on('error', fail)
    socket.on('close', () => fail(new Error('connection closed')))
  }

  /** Connects (and AUTHs when a password is given); rejects on refusal or timeout. */
  static async connect(host: string, port: number, options: {password?: string; timeoutMs?: number} = {}): Promise<Probe> {
    const socket = createConnection({host, port})
    socket.setTimeout(options.timeoutMs ?? 2000, () => socket.destroy(new Error(`timed out talking to ${host}:${port}`)))
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const probe = new Probe(socket)
    if (options.password !== undefined) {
      const reply = await probe.command('AUTH', options.password)
      if (reply instanceof ProbeError) {
        probe.close()
        throw reply
      }
    }
    return probe
  }

  command(...args: string[]): Promise<ProbeReply> {
    if (this.failure) return Promise.reject(this.failure)
    let out = `*${args.length}\r\n`
    for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`
    this.socket.write(out)
    return new Promise((resolve, reject) => this.waiting.push({resolve, reject}))
  }

  close(): void {
    this.socket.destroy()
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const parsed = parse(this.buffer, 0)
      if (parsed === null) return
      this.buffer = this.buffer.subarray(parsed.end)
      this.waiting.shift()!.resolve(parsed.value)
    }
  }
}

function parse(buf: Buffer, at: number): {value: ProbeReply; end: number} | null {
  const lineEnd = buf.indexOf('\r\n', at)
  if (lineEnd < 0) return null
  const type = String.fromCharCode(buf[at])
  const line = buf.toString('utf8', at + 1, lineEnd)
  const next = lineEnd + 2
  switch (type) {
    case '+':
      return {value: line, end: next}
    case '-':
      return {value: new ProbeError(line), end: next}
    case ':':
      return {value: Number(line), end: next}
    case '$': {
      const n = Number(line)
      if (n < 0) return {value: null, end: next}
      if (buf.length < next + n + 2) return null
      return {value: buf.toString('utf8', next, next + n), end: next + n + 2}
    }
    case '*': {
      const n = Number(line)
      if (n < 0) return {value: null, end: next}
      const items: ProbeReply[] = []
      let pos = next
      for (let i = 0; i < n; i++) {
        const item = parse(buf, pos)
        if (item === null) return null
        items.push(item.value)
        pos = item.end
      }
      return {value: items, end: pos}
    }
    default:
      throw new Error(`unexpected reply type '${type}'`)
  }
}

/** INFO text → {field: value} (section headers and blank lines dropped). */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1)
  }
  return fields
}
