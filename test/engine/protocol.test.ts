// The engine over the wire: RESP3, inline commands, pipelining, protocol errors closing only the
// faulty client, AUTH/requirepass, QUIT, and active expiry.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {RespClient, encodeCommand} from './support/resp-client.js'
import {until} from '../support/wait.js'

describe('engine protocol (standalone node)', () => {
  let engine: TestEngine
  let port: number
  beforeAll(async () => {
    engine = await startTestEngine({mode: 'standalone'})
    port = engine.nodes[0].port
  })
  afterAll(() => engine?.stop())

  it('speaks RESP3 after HELLO 3: maps, doubles, nulls', async () => {
    const c = await RespClient.connect(port)
    const hello = (await c.call('HELLO', '3')) as {map: Array<[unknown, unknown]>}
    expect(Object.fromEntries(hello.map)).toMatchObject({$server: '$valkey', $proto: ':3', $mode: '$standalone', $role: '$master'})
    await c.call('HSET', 'h', 'f', 'v')
    expect(await c.call('HGETALL', 'h')).toEqual({map: [['$f', '$v']]})
    await c.call('ZADD', 'z', '1.5', 'm')
    expect(await c.call('ZSCORE', 'z', 'm')).toBe(',1.5')
    expect(await c.call('GET', 'missing')).toBeNull()
    expect(await c.call('SMEMBERS', 'nothing')).toEqual({set: []})
    c.close()
  })

  it('answers inline commands (as typed in telnet)', async () => {
    const c = await RespClient.connect(port)
    c.write('SET inline "two words"\r\n')
    expect(await c.next()).toBe('+OK')
    c.write('GET inline\n')
    expect(await c.next()).toBe('$two words')
    c.close()
  })

  it('answers a pipeline of 1000 commands in order', async () => {
    const c = await RespClient.connect(port)
    const batch = Buffer.concat(Array.from({length: 1000}, () => encodeCommand(['INCR', 'counter'])))
    c.write(batch)
    const replies = []
    for (let i = 0; i < 1000; i++) replies.push(await c.next())
    expect(replies[0]).toBe(':1')
    expect(replies[999]).toBe(':1000')
    c.close()
  })

  it('closes only the client that sent a malformed stream', async () => {
    const good = await RespClient.connect(port)
    const bad = await RespClient.connect(port)
    bad.write('*1\r\n$x\r\n')
    expect(await bad.next()).toBe('-ERR Protocol error: invalid bulk length')
    await bad.untilClosed()
    expect(await good.call('PING')).toBe('+PONG')
    good.close()
  })

  it('QUIT answers OK and closes', async () => {
    const c = await RespClient.connect(port)
    expect(await c.call('QUIT')).toBe('+OK')
    await c.untilClosed()
  })

  it('active expiry removes keys nobody reads', async () => {
    const c = await RespClient.connect(port)
    await c.call('SELECT', '3')
    // The TTLs come after the count: 50 round trips may take longer than 20 ms on a busy machine.
    for (let i = 0; i < 50; i++) await c.call('SET', `tmp${i}`, 'v')
    await c.call('SET', 'keeper', 'v')
    expect(await c.call('DBSIZE')).toBe(':51')
    for (let i = 0; i < 50; i++) expect(await c.call('PEXPIRE', `tmp${i}`, '20')).toBe(':1')
    let size = ':51'
    // The expiry cycle runs on a timer: poll (a busy machine delays it), no timing assertion.
    await until(async () => (size = (await c.call('DBSIZE')) as string) === ':1', 30_000, 50)
    expect(size).toBe(':1')
    c.close()
  })
})

describe('engine with a password (requirepass)', () => {
  let engine: TestEngine
  let port: number
  beforeAll(async () => {
    engine = await startTestEngine({mode: 'cluster', nodes: 1, password: 's3cret'})
    port = engine.nodes[0].port
  })
  afterAll(() => engine?.stop())

  it('refuses commands before AUTH, as Valkey words it', async () => {
    const c = await RespClient.connect(port)
    expect(await c.call('GET', 'k')).toBe('-NOAUTH Authentication required.')
    expect(await c.call('AUTH', 'wrong')).toBe('-WRONGPASS invalid username-password pair or user is disabled.')
    expect(await c.call('AUTH', 'default', 's3cret')).toBe('+OK')
    expect(await c.call('GET', 'k')).toBeNull()
    c.close()
  })

  it('HELLO needs authentication or HELLO ... AUTH', async () => {
    const c = await RespClient.connect(port)
    expect(await c.call('HELLO', '3')).toMatch(/^-NOAUTH HELLO must be called with the client already authenticated/)
    const hello = (await c.call('HELLO', '3', 'AUTH', 'default', 's3cret', 'SETNAME', 'me')) as {map: unknown[]}
    expect(hello.map.length).toBe(7)
    expect(await c.call('CLIENT', 'GETNAME')).toBe('$me')
    c.close()
  })

  it('unauthenticated clients get the tighter protocol limits', async () => {
    const c = await RespClient.connect(port)
    c.write('*100\r\n')
    expect(await c.next()).toBe('-ERR Protocol error: unauthenticated multibulk length')
    await c.untilClosed()
  })
})
