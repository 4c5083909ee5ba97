// The data plane against a real standalone server (Debian redis-server 7): detection, db binding,
// writing and reading back all five types, db-wide operations, and the errors users see.
import {createServer, type AddressInfo} from 'node:net'
import {Valkey} from 'iovalkey'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ConnectionError, DbNotAvailableError, CommandError, connectPlane, type Plane} from '../../src/plane/index.js'
import {dedicatedClient} from '../support/dedicated-client.js'
import {closedPort, startRedisServer, type RedisServer} from '../support/redis-server.js'
import {byKey, comparable, expectedStored, sampleRecords, stringRecords} from './support/records.js'

let server: RedisServer
let plane: Plane
let observer: Valkey // an independent client (iovalkey) to check where data really landed

beforeAll(async () => {
  server = await startRedisServer()
  plane = await connectPlane({url: server.url, db: 3, env: {}})
  observer = new Valkey({port: server.port, host: '127.0.0.1', db: 3, lazyConnect: true})
  observer.on('error', () => undefined)
  await observer.connect()
})

afterAll(async () => {
  await plane?.close()
  await observer?.quit()
  await server?.stop()
})

describe('a standalone server', () => {
  it('is detected as standalone, with one primary serving every slot', async () => {
    expect(plane.mode).toBe('standalone')
    expect(plane.identity()).toEqual({mode: 'standalone', nodes: [{id: `127.0.0.1:${server.port}`, address: `127.0.0.1:${server.port}`, slots: [[0, 16383]]}]})
    expect(plane.nodeForKey('anything')).toBe(plane.primaries[0])
    expect(await plane.databases()).toBe(16)
    expect(await plane.health()).toEqual({ok: true, problems: []})
  })

  it('writes into its own db only, and reads every type back with TTL presence', async () => {
    const records = sampleRecords()
    await plane.writeRecords(records)

    expect(await observer.dbsize()).toBe(5)
    expect(await observer.call('SELECT', '0')).toBe('OK')
    expect(await observer.dbsize()).toBe(0)
    await observer.select(3)
    expect(await observer.ttl('price:1')).toBeGreaterThan(3500)
    expect(await observer.type('rank')).toBe('zset')

    const read = await plane.readValues([...records.map((r) => r.key), Buffer.from('missing')])
    expect(read.map(comparable)).toEqual([...records.map(expectedStored), {key: 'missing', value: null, hasTtl: false}])

    const scanned = []
    for await (const batch of plane.scanValues()) scanned.push(...batch.map(comparable))
    expect(scanned.sort(byKey)).toEqual(records.map(expectedStored).sort(byKey))

    await plane.flushdb()
  })

  it('scans TTL presence exactly, with or without expiring keys in the db', async () => {
    await plane.writeRecords(stringRecords(20))
    const ttlFlags = async () => {
      const flags: Record<string, boolean> = {}
      for await (const batch of plane.scanValues()) for (const stored of batch) flags[stored.key.toString()] = stored.hasTtl
      return flags
    }
    expect(Object.values(await ttlFlags()).every((hasTtl) => !hasTtl)).toBe(true)
    await observer.expire('key:7', 600)
    const flags = await ttlFlags()
    expect(Object.keys(flags).filter((key) => flags[key])).toEqual(['key:7'])
    await plane.flushdb()
  })

  it('reads back mixed types correctly whatever type it read most recently', async () => {
    const hashes = Array.from({length: 50}, (_, n) => ({
      key: Buffer.from(`h:${n}`),
      value: {type: 'hash' as const, value: [[Buffer.from('n'), Buffer.from(String(n))] as [Buffer, Buffer]]},
      origin: {file: 'mixed.ndjson', line: n + 1},
    }))
    const all = [...hashes, ...stringRecords(50), ...sampleRecords()]
    await plane.writeRecords(all)
    const keys = all.map((record) => record.key)
    const expected = all.map(expectedStored)
    // Mostly hashes first (the plane then tries HGETALL first), then everything, then strings.
    expect((await plane.readValues(keys.slice(0, 60))).map(comparable)).toEqual(expected.slice(0, 60))
    expect((await plane.readValues([...keys, Buffer.from('missing')])).map(comparable)).toEqual([...expected, {key: 'missing', value: null, hasTtl: false}])
    expect((await plane.readValues(keys.slice(50))).map(comparable)).toEqual(expected.slice(50))
    expect((await plane.readValues(keys)).map(comparable)).toEqual(expected)
    await plane.flushdb()
  })

  it('scans a db of hashes with one read per key once the first batch has shown the type', async () => {
    const fresh = await connectPlane({url: server.url, db: 4, env: {}}) // its reader still guesses string
    try {
      await fresh.writeRecords(
        Array.from({length: 1000}, (_, n) => ({
          key: Buffer.from(`p:${n}`),
          value: {type: 'hash' as const, value: [[Buffer.from('name'), Buffer.from(`P${n}`)] as [Buffer, Buffer]]},
          origin: {file: 'hashes.ndjson', line: n + 1},
        })),
      )
      await observer.call('CONFIG', 'RESETSTAT')
      const batches: number[] = []
      for await (const batch of fresh.scanValues({count: 100})) batches.push(batch.length)
      expect(batches.reduce((sum, n) => sum + n, 0)).toBe(1000)
      const stats = String(await observer.call('INFO', 'commandstats'))
      const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
      // Only the first batch is read as strings (GET, WRONGTYPE), typed (TYPE) and read again.
      expect(calls('get')).toBe(batches[0])
      expect(calls('type')).toBe(batches[0])
      expect(calls('hgetall')).toBe(1000)

      // Told the type to expect (verify takes it from the manifest): not one wasted read.
      const hinted = await connectPlane({url: server.url, db: 4, env: {}})
      try {
        await observer.call('CONFIG', 'RESETSTAT')
        let keys = 0
        for await (const batch of hinted.scanValues({count: 100, typeHint: 'hash'})) keys += batch.length
        expect(keys).toBe(1000)
        const hintedStats = String(await observer.call('INFO', 'commandstats'))
        expect(/cmdstat_get:/.test(hintedStats) || /cmdstat_type:/.test(hintedStats)).toBe(false)
        expect(Number(/cmdstat_hgetall:calls=(\d+)/.exec(hintedStats)?.[1])).toBe(1000)
      } finally {
        await hinted.close()
      }
      await fresh.flushdb()
    } finally {
      await fresh.close()
    }
  })

  it('splits big collections over several commands and keeps list order', async () => {
    const list = Array.from({length: 2000}, (_, i) => Buffer.from(`e${i}`))
    const fields = Array.from({length: 1500}, (_, i): [Buffer, Buffer] => [Buffer.from(`f${i}`), Buffer.from(`v${i}`)])
    await plane.writeRecords([
      {key: Buffer.from('long'), value: {type: 'list', value: list}, ttl: 60, origin: {file: 'big.ndjson', line: 1}},
      {key: Buffer.from('wide'), value: {type: 'hash', value: fields}, origin: {file: 'big.ndjson', line: 2}},
    ])
    const [long, wide] = await plane.readValues([Buffer.from('long'), Buffer.from('wide')])
    expect(long.value).toEqual({type: 'list', value: list})
    expect(long.hasTtl).toBe(true)
    expect(wide.value?.type === 'hash' && wide.value.value.length).toBe(1500)
    await plane.flushdb()
  })

  it('scans with MATCH, counts per node and empties only its own db', async () => {
    await plane.writeRecords(stringRecords(300))
    await observer.select(0)
    await observer.set('live-key', 'stays')
    await observer.select(3)

    const matched: string[] = []
    for await (const keys of plane.scanKeys({match: 'key:1*', count: 50})) matched.push(...keys.map(String))
    expect(matched.sort()).toEqual(
      Array.from({length: 300}, (_, n) => `key:${n}`)
        .filter((key) => key.startsWith('key:1'))
        .sort(),
    )

    expect(await plane.dbsize()).toEqual({total: 300, perNode: [{id: `127.0.0.1:${server.port}`, address: `127.0.0.1:${server.port}`, keys: 300}]})
    await plane.flushdb()
    expect((await plane.dbsize()).total).toBe(0)
    await observer.select(0)
    expect(await observer.get('live-key')).toBe('stays')
    await observer.del('live-key')
    await observer.select(3)
  })

  it('reconnects into the same db after the server dropped its connections', async () => {
    await plane.writeRecords(stringRecords(10))
    await observer.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await plane.dbsize()).total).toBe(10)
    expect((await plane.readValues([Buffer.from('key:3')]))[0].value).toEqual({type: 'string', value: Buffer.from('value-3')})
    await plane.flushdb()
  })

  it('names the file, line and key when the server refuses a write', async () => {
    await observer.set('history:1', 'a string already')
    const error = await plane.writeRecords(sampleRecords()).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(CommandError)
    expect((error as Error).message).toBe(
      'sample.ndjson:5: writing key "history:1" failed: WRONGTYPE Operation against a key holding the wrong kind of value',
    )
    await plane.flushdb()
  })

  it('runs single commands and pipelines on a primary, and hands out connections bound to another db', async () => {
    const [node] = plane.primaries
    expect(await plane.command(node, ['SET', 'k', 'v'])).toBe('OK')
    await expect(plane.command(node, ['LPUSH', 'k', 'x'])).rejects.toThrow(/WRONGTYPE/)
    const replies = await plane.pipeline(node, [['GET', 'k'], ['INCR', 'k']])
    expect(String(replies[0])).toBe('v')
    expect(replies[1]).toMatchObject({message: 'ERR value is not an integer or out of range'})

    const raw = await plane.dedicated(node, {db: 7})
    expect(await raw.call(['SET', 'seven', '7'])).toBe('OK')
    await raw.close()
    const client = await dedicatedClient(plane, node, {db: 7})
    expect(await client.get('seven')).toBe('7')
    expect(await client.get('k')).toBeNull()
    await client.quit()
    await plane.flushdb()
  })
})

describe('errors a user sees', () => {
  it('an unreachable server: exit 3, naming host:port', async () => {
    const port = await closedPort()
    const error = await connectPlane({url: `valkey://127.0.0.1:${port}`, db: 0, env: {}}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).exitCode).toBe(3)
    expect((error as Error).message).toBe(`cannot connect to 127.0.0.1:${port}: connection refused (is the server running?)`)
  })

  it('a port that accepts connections but never answers', async () => {
    const silent = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const {port} = silent.address() as AddressInfo
    try {
      const error = await connectPlane({url: `valkey://127.0.0.1:${port}`, db: 0, connectTimeoutMs: 200, env: {}}).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toBe(`127.0.0.1:${port} accepted the connection but did not answer within 200 ms`)
    } finally {
      silent.close()
    }
  })

  it('a db the server does not have', async () => {
    const error = await connectPlane({url: server.url, db: 16, env: {}}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DbNotAvailableError)
    expect((error as Error).message).toBe(
      `database 16 is not available on 127.0.0.1:${server.port} (ERR DB index is out of range): raise "databases" in the server config`,
    )
  })

  it('no URL at all', async () => {
    await expect(connectPlane({db: 0, env: {}})).rejects.toThrow(/no server given: pass --url, set FLIP_URL or VALKEY_URL/)
  })

  describe('a server with a password', () => {
    let secured: RedisServer
    beforeAll(async () => {
      secured = await startRedisServer(['--requirepass', 's3cret-pw'])
    })
    afterAll(async () => secured?.stop())

    it('a wrong password: one line, exit 3, password not shown', async () => {
      const error = await connectPlane({url: `redis://:wrong-pw@127.0.0.1:${secured.port}`, db: 1, env: {}}).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toMatch(new RegExp(`^authentication failed at 127.0.0.1:${secured.port}: WRONGPASS`))
      expect((error as Error).message).not.toContain('wrong-pw')
    })

    it('no password: NOAUTH says how to give one', async () => {
      await expect(connectPlane({url: secured.url, db: 1, env: {}})).rejects.toThrow(
        `127.0.0.1:${secured.port} requires a password (NOAUTH): put it in the URL or set FLIP_PASSWORD`,
      )
    })

    it('the password from FLIP_PASSWORD', async () => {
      const securedPlane = await connectPlane({url: secured.url, db: 1, env: {FLIP_PASSWORD: 's3cret-pw'}})
      expect((await securedPlane.dbsize()).total).toBe(0)
      expect(JSON.stringify(securedPlane.identity())).not.toContain('s3cret')
      await securedPlane.close()
    })
  })
})
