// Protocol limits and error replies, byte for byte as Valkey 9.1 (networking.c): malformed lengths,
// oversized declared bulks and multibulks (never allocated up front), too long lines, bad CRLFs,
// proto-max-bulk-len and client-query-buffer-limit through CONFIG SET. The wire table also runs
// against a real Valkey when FLIP_TEST_VALKEY_SERVER names a valkey-server binary.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {spawnServer, type SpawnedServer} from '../support/redis-server.js'
import {RespClient} from './support/resp-client.js'
import {exchange, infoField} from './support/wire.js'

const ERR = (text: string) => `-ERR Protocol error: ${text}\r\n`

/** [name, bytes sent, exact reply, connection closed afterwards]. Checked on Valkey 9.1.0. */
const WIRE_CASES: Array<[string, string, string, boolean]> = [
  ['multibulk count over INT_MAX', '*2147483648\r\n', ERR('invalid multibulk length'), true],
  ['multibulk count "-0"', '*-0\r\nPING\r\n', ERR('invalid multibulk length'), true],
  ['multibulk count beyond 64 bits', '*-99999999999999999999\r\nPING\r\n', ERR('invalid multibulk length'), true],
  ['multibulk count just beyond LLONG_MIN', '*-9223372036854775809\r\nPING\r\n', ERR('invalid multibulk length'), true],
  ['multibulk count with a plus sign', '*+1\r\n', ERR('invalid multibulk length'), true],
  ['empty multibulk count', '*\r\nPING\r\n', ERR('invalid multibulk length'), true],
  ['multibulk count with a trailing letter', '*1x\r\n', ERR('invalid multibulk length'), true],
  ['multibulk count line without LF', '*1\rx\n$4\r\nPING\r\n', ERR('invalid CRLF in request'), true],
  ['bulk of 2147483647 bytes', '*1\r\n$2147483647\r\n', ERR('invalid bulk length'), true],
  ['bulk one byte over proto-max-bulk-len', '*1\r\n$536870913\r\n', ERR('invalid bulk length'), true],
  ['bulk length "-0"', '*1\r\n$-0\r\n', ERR('invalid bulk length'), true],
  ['bulk length -1', '*1\r\n$-1\r\n', ERR('invalid bulk length'), true],
  ['bulk length with a leading zero', '*1\r\n$04\r\nPING\r\n', ERR('invalid bulk length'), true],
  ['bulk length with a space', '*1\r\n$ 4\r\nPING\r\n', ERR('invalid bulk length'), true],
  ['bulk length line without LF', '*1\r\n$4\rxPING\r\n', ERR('invalid CRLF in request'), true],
  ['bad bytes after a bulk', '*1\r\n$4\r\nPINGxyPING\r\n', ERR('invalid CRLF in request'), true],
  ['LF only after a bulk', '*1\r\n$4\r\nPING\n\n', ERR('invalid CRLF in request'), true],
  ['a non-$ where a bulk starts, after a good command', 'PING\r\n*1\r\nx4\r\n', "+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n", true],
  ['commands before the error still run', '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*1 \r\n', '+OK\r\n' + ERR('invalid multibulk length'), true],
  ['inline request of 70,000 bytes without a newline', 'x'.repeat(70_000), ERR('too big inline request'), true],
  ['multibulk count of 70,000 digits', '*' + '1'.repeat(70_000), ERR('too big mbulk count string'), true],
  ['bulk count of 70,000 digits', '*1\r\n$' + '1'.repeat(70_000), ERR('too big bulk count string'), true],
  ['unbalanced quotes inline', 'PING "a\r\n', ERR('unbalanced quotes in request'), true],
  ['*0 and *-1 are skipped', '*0\r\n*-1\r\nPING\r\n', '+PONG\r\n', false],
  ['empty inline lines are skipped', '\r\n\r\nPING\r\n', '+PONG\r\n', false],
]

function defineWireCases(port: () => number): void {
  for (const [name, bytes, reply, closes] of WIRE_CASES) {
    it(name, async () => {
      expect(await exchange(port(), bytes, reply, closes)).toEqual({reply, closed: closes})
    })
  }
}

describe('protocol limits: bundled engine (standalone node)', () => {
  let engine: TestEngine
  let port: number
  beforeAll(async () => {
    engine = await startTestEngine({mode: 'standalone'})
    port = engine.nodes[0].port
  })
  afterAll(() => engine?.stop())

  defineWireCases(() => port)

  it('a declared *2147483647 multibulk or 512 MB bulk allocates nothing up front', async () => {
    const admin = await RespClient.connect(port)
    const before = infoField(await admin.call('INFO', 'memory'), 'used_memory_rss')
    const hostile: RespClient[] = []
    for (let i = 0; i < 20; i++) {
      const c = await RespClient.connect(port)
      c.write(i % 2 === 0 ? '*2147483647\r\n$4\r\nPING\r\n' : '*2\r\n$3\r\nGET\r\n$536870912\r\nxyz')
      hostile.push(c)
    }
    // Every hostile client is registered and waiting; the node still answers.
    expect(await admin.call('PING')).toBe('+PONG')
    const info = await admin.call('INFO', 'memory')
    // 20 × 512 MB would be 10 GB: a few MB at most were buffered.
    expect(infoField(info, 'mem_clients_normal')).toBeLessThan(2 * 1024 * 1024)
    expect(infoField(info, 'used_memory_rss') - before).toBeLessThan(200 * 1024 * 1024)
    for (const c of hostile) c.close()
    admin.close()
  })

  it('accepts a *1048577 multibulk, as Valkey 9 does (no 1M-element limit since Redis 7)', async () => {
    const c = await RespClient.connect(port)
    const args = Buffer.from('$1\r\nx\r\n'.repeat(1_048_576))
    c.write(Buffer.concat([Buffer.from('*1048577\r\n$4\r\nECHO\r\n'), args]))
    expect(await c.next()).toBe("-ERR wrong number of arguments for 'echo' command")
    expect(await c.call('PING')).toBe('+PONG')
    c.close()
  })

  it('proto-max-bulk-len: CONFIG GET/SET with Valkey range and units; a longer bulk is refused', async () => {
    const c = await RespClient.connect(port)
    try {
      expect(await c.call('CONFIG', 'GET', 'proto-max-bulk-len')).toEqual(['$proto-max-bulk-len', '$536870912'])
      expect(await c.call('CONFIG', 'SET', 'proto-max-bulk-len', '1000')).toBe(
        "-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive",
      )
      expect(await c.call('CONFIG', 'SET', 'proto-max-bulk-len', 'abc')).toBe(
        "-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value",
      )
      expect(await c.call('CONFIG', 'SET', 'proto-max-bulk-len', '1mb')).toBe('+OK')
      expect(await c.call('CONFIG', 'GET', 'proto-max-bulk-len')).toEqual(['$proto-max-bulk-len', '$1048576'])
      const over = await exchange(port, '*1\r\n$1048577\r\n', ERR('invalid bulk length'), true)
      expect(over).toEqual({reply: ERR('invalid bulk length'), closed: true})
      const at = Buffer.concat([Buffer.from('*2\r\n$4\r\nECHO\r\n$1048576\r\n'), Buffer.alloc(1_048_576, 'a'), Buffer.from('\r\n')])
      const echoed = '$1048576\r\n' + 'a'.repeat(1_048_576) + '\r\n'
      const reply = await exchange(port, at, echoed, false)
      expect(reply.reply === echoed).toBe(true)
    } finally {
      await c.call('CONFIG', 'SET', 'proto-max-bulk-len', '512mb')
      c.close()
    }
  })

  it('client-query-buffer-limit: a client whose unparsed input passes it is closed without a reply', async () => {
    const c = await RespClient.connect(port)
    try {
      expect(await c.call('CONFIG', 'SET', 'client-query-buffer-limit', '1mb')).toBe('+OK')
      const big = Buffer.concat([Buffer.from('*2\r\n$4\r\nECHO\r\n$3000000\r\n'), Buffer.alloc(1_200_000, 'a')])
      expect(await exchange(port, big, '', true)).toEqual({reply: '', closed: true})
      expect(infoField(await c.call('INFO', 'stats'), 'client_query_buffer_limit_disconnections')).toBeGreaterThanOrEqual(1)
    } finally {
      await c.call('CONFIG', 'SET', 'client-query-buffer-limit', '1gb')
      c.close()
    }
  })
})

const valkeyServer = process.env.FLIP_TEST_VALKEY_SERVER
describe.skipIf(!valkeyServer)('protocol limits: real Valkey (FLIP_TEST_VALKEY_SERVER)', () => {
  let server: SpawnedServer
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flip-valkey-limits-'))
    server = await spawnServer(valkeyServer!, 1, ([port]) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir])
  })
  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGKILL')
      await server.exited
    }
    if (dir) rmSync(dir, {recursive: true, force: true})
  })
  defineWireCases(() => server.ports[0])
})
