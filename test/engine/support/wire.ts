// Raw byte exchanges for protocol-limit tests: send bytes on a fresh connection, collect what comes
// back until the expected reply arrived (and, for closing cases, until the server closed).
import {createConnection} from 'node:net'

export interface Exchange {
  reply: string
  closed: boolean
}

/**
 * Sends `bytes` and resolves once `expected.length` reply bytes arrived and, when `closes`, the
 * server closed; or after timeoutMs with what it has (the test's assertion then names the gap).
 */
export function exchange(port: number, bytes: string | Buffer, expected: string, closes: boolean, timeoutMs = 15_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = createConnection({port, host: '127.0.0.1'})
    let reply = ''
    let closed = false
    const timer = setTimeout(finish, timeoutMs)
    function finish() {
      clearTimeout(timer)
      socket.destroy()
      resolve({reply, closed})
    }
    const check = () => {
      if (reply.length >= expected.length && (closed || !closes)) finish()
    }
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      check()
    })
    socket.on('close', () => {
      closed = true
      finish()
    })
    socket.on('error', () => {})
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes)
  })
}

/** Reads one INFO field (as a number) from an INFO reply text. */
export function infoField(info: unknown, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(String(info))
  if (!match) throw new Error(`INFO has no ${field}`)
  return Number(match[1])
}
