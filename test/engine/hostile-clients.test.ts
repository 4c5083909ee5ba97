// Clients that never read their replies, and more clients than maxclients: Valkey's
// client-output-buffer-limit (normal class: hard, soft + seconds) closes the first kind, and without
// a limit the engine holds them (their pipeline waits unparsed) so memory stays bounded; maxclients
// refuses connections past the limit with Valkey's error line while the others keep being served.
import {createConnection, type Socket} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {until} from '../support/wait.js'
import {RespClient, encodeCommand} from './support/resp-client.js'
import {exchange, infoField} from './support/wire.js'

const VALUE_BYTES = 1024 * 1024

interface Reader {
  socket: Socket
  closed: () => boolean
  /** Commands written so far. */
  sent: () => number
  stop: () => void
}

/** A client that never reads: it writes `GET big` in batches until the server drops it (or stop()). */
function neverReader(port: number): Reader {
  const socket = createConnection({port, host: '127.0.0.1'})
  socket.pause()
  let closed = false
  let sent = 0
  let stopped = false
  socket.on('close', () => (closed = true))
  socket.on('error', () => {})
  const batch = Buffer.concat(Array.from({length: 64}, () => encodeCommand(['GET', 'big'])))
  const pump = () => {
    if (closed || stopped) return
    sent += 64
    // Small pauses between batches: the socket's own send buffer must not hold gigabytes.
    if (socket.write(batch)) setTimeout(pump, 1)
    else socket.once('drain', pump)
  }
  socket.once('connect', pump)
  return {socket, closed: () => closed, sent: () => sent, stop: () => {
    stopped = true
    socket.destroy()
  }}
}

async function memory(admin: RespClient): Promise<{clients: number; rss: number}> {
  const info = await admin.call('INFO', 'memory')
  return {clients: infoField(info, 'mem_clients_normal'), rss: infoField(info, 'used_memory_rss')}
}

describe('hostile clients (standalone node)', () => {
  let engine: TestEngine
  let port: number
  let admin: RespClient
  beforeAll(async () => {
    engine = await startTestEngine({mode: 'standalone', maxclients: 50})
    port = engine.nodes[0].port
    admin = await RespClient.connect(port)
    expect(await admin.call('SET', 'big', 'x'.repeat(VALUE_BYTES))).toBe('+OK')
  })
  afterAll(async () => {
    admin?.close()
    await engine?.stop()
  })

  it('client-output-buffer-limit: CONFIG GET/SET in Valkey format, with its error texts', async () => {
    expect(await admin.call('CONFIG', 'GET', 'client-output-buffer-limit')).toEqual([
      '$client-output-buffer-limit',
      '$normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60',
    ])
    const fail = (text: string) => `-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - ${text}`
    expect(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb')).toBe(fail('Wrong number of arguments in buffer limit configuration.'))
    expect(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'bogus 1 2 3')).toBe(fail('Invalid client class specified in buffer limit configuration.'))
    expect(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1xb 0 0')).toBe(fail('Error in hard, soft or soft_seconds setting in buffer limit configuration.'))
    expect(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1 0 -1')).toBe(fail('Error in hard, soft or soft_seconds setting in buffer limit configuration.'))
    expect(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'replica 1 2 3 normal 1mb 512kb 2')).toBe('+OK')
    expect(await admin.call('CONFIG', 'GET', 'client-output-buffer-limit')).toEqual([
      '$client-output-buffer-limit',
      '$normal 1048576 524288 2 slave 1 2 3 pubsub 33554432 8388608 60',
    ])
    expect(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60')).toBe('+OK')
  })

  it('hard limit: a client that never reads GETs of 1 MB is dropped, and its buffers are freed', async () => {
    const before = await memory(admin)
    const disconnectsBefore = infoField(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections')
    expect(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 8mb 0 0')).toBe('+OK')
    try {
      const reader = neverReader(port)
      let peak = before
      await until(async () => {
        const now = await memory(admin)
        if (now.clients > peak.clients) peak = {...peak, clients: now.clients}
        if (now.rss > peak.rss) peak = {...peak, rss: now.rss}
        return infoField(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections') > disconnectsBefore
      }, 60_000, 50)
      expect(infoField(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections')).toBe(disconnectsBefore + 1)
      await until(() => reader.closed(), 30_000)
      expect(reader.closed()).toBe(true)
      // Unbounded, these GETs would have asked for sent × 1 MB of replies.
      expect(reader.sent()).toBeGreaterThan(20)
      expect(peak.clients).toBeLessThan(8 * VALUE_BYTES + 4 * VALUE_BYTES)
      expect(peak.rss - before.rss).toBeLessThan(300 * 1024 * 1024)
      await until(async () => (await memory(admin)).clients <= before.clients + 64 * 1024, 10_000)
      expect((await memory(admin)).clients).toBeLessThanOrEqual(before.clients + 64 * 1024)
      expect(await admin.call('PING')).toBe('+PONG')
    } finally {
      await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0')
    }
  })

  it('soft limit: a client above it for longer than its seconds is dropped', async () => {
    const disconnectsBefore = infoField(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections')
    expect(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 4mb 1')).toBe('+OK')
    try {
      const reader = neverReader(port)
      const started = Date.now()
      await until(() => reader.closed(), 60_000)
      expect(reader.closed()).toBe(true)
      // Dropped only after the soft limit held for more than a second.
      expect(Date.now() - started).toBeGreaterThan(1000)
      expect(infoField(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections')).toBe(disconnectsBefore + 1)
    } finally {
      await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0')
    }
  })

  it('no limit (Valkey default): never-reading clients are held with bounded memory, others served', async () => {
    const before = await memory(admin)
    const readers = Array.from({length: 5}, () => neverReader(port))
    try {
      // Let them push: each wrote far more GETs than its replies could fit in memory.
      await until(() => readers.every((r) => r.sent() > 200), 30_000)
      expect(readers.every((r) => r.sent() > 200)).toBe(true)
      const during = await memory(admin)
      // Each held client keeps about 1 MB of replies plus one reply and its unparsed input.
      expect(during.clients - before.clients).toBeLessThan(5 * 4 * VALUE_BYTES)
      expect(during.rss - before.rss).toBeLessThan(300 * 1024 * 1024)
      expect(readers.some((r) => r.closed())).toBe(false)
      const other = await RespClient.connect(port)
      expect(await other.call('GET', 'missing')).toBeNull()
      other.close()
    } finally {
      for (const r of readers) r.stop()
    }
    await until(async () => (await memory(admin)).clients <= before.clients + 64 * 1024, 10_000)
    expect((await memory(admin)).clients).toBeLessThanOrEqual(before.clients + 64 * 1024)
  })

  it('maxclients: the connection past the limit gets Valkey\'s error and is closed; the rest keep working', async () => {
    expect(await admin.call('CONFIG', 'GET', 'maxclients')).toEqual(['$maxclients', '$50'])
    expect(await admin.call('CONFIG', 'SET', 'maxclients', '0')).toBe(
      "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive",
    )
    expect(await admin.call('CONFIG', 'SET', 'maxclients', 'abc')).toBe(
      "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer",
    )
    await until(async () => infoField(await admin.call('INFO', 'clients'), 'connected_clients') === 1, 10_000)
    expect(await admin.call('CONFIG', 'SET', 'maxclients', '3')).toBe('+OK')
    try {
      const rejectedBefore = infoField(await admin.call('INFO', 'stats'), 'rejected_connections')
      const a = await RespClient.connect(port)
      const b = await RespClient.connect(port)
      expect(await a.call('PING')).toBe('+PONG')
      expect(await b.call('PING')).toBe('+PONG')
      const refused = await exchange(port, '*1\r\n$4\r\nPING\r\n', '-ERR max number of clients reached\r\n', true)
      expect(refused).toEqual({reply: '-ERR max number of clients reached\r\n', closed: true})
      expect(infoField(await admin.call('INFO', 'stats'), 'rejected_connections')).toBe(rejectedBefore + 1)
      expect(await a.call('PING')).toBe('+PONG')
      b.close()
      await until(async () => infoField(await admin.call('INFO', 'clients'), 'connected_clients') === 2, 10_000)
      const c = await RespClient.connect(port)
      expect(await c.call('PING')).toBe('+PONG')
      a.close()
      c.close()
    } finally {
      await admin.call('CONFIG', 'SET', 'maxclients', '50')
    }
  })
})

describe('maxclients on a cluster node', () => {
  let engine: TestEngine
  beforeAll(async () => {
    engine = await startTestEngine({nodes: 3, maxclients: 1})
  })
  afterAll(() => engine?.stop())

  it('says "+ cluster connections" as a Valkey cluster node does', async () => {
    const port = engine.nodes[0].port
    const first = await RespClient.connect(port)
    expect(await first.call('PING')).toBe('+PONG')
    const text = '-ERR max number of clients + cluster connections reached\r\n'
    expect(await exchange(port, 'PING\r\n', text, true)).toEqual({reply: text, closed: true})
    expect(await first.call('PING')).toBe('+PONG')
    first.close()
  })
})
