// The data plane against the bundled engine: a 3-node cluster with numbered databases, used in
// db 5 as flip uses a shadow db.
import {Cluster} from 'iovalkey'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startEngine, type EngineHandle} from '../../src/engine/index.js'
import {ConnectionError, DbNotAvailableError, connectPlane, type Plane} from '../../src/plane/index.js'
import {byKey, comparable, expectedStored, sampleRecords, stringRecords} from './support/records.js'

let engine: EngineHandle
let plane: Plane

beforeAll(async () => {
  engine = await startEngine({nodes: 3, databases: 16})
  plane = await connectPlane({url: engine.seedUrl, db: 5, env: {}})
})

afterAll(async () => {
  await plane?.close()
  await engine?.stop()
})

describe('the bundled engine cluster, db 5', () => {
  it('is a cluster of the engine nodes with their slot ranges', async () => {
    expect(plane.identity()).toEqual({
      mode: 'cluster',
      nodes: engine.nodes.map((node) => ({id: node.id, address: `${node.host}:${node.port}`, slots: node.slots})),
    })
    expect(await plane.databases()).toBe(16)
    expect(await plane.health()).toEqual({ok: true, problems: []})
  })

  it('writes all five types into db 5 of every node and reads them back', async () => {
    const records = [...sampleRecords(), ...stringRecords(2000)]
    await plane.writeRecords(records)

    // An independent cluster client in db 5 sees them; db 0 stays empty.
    const observer = new Cluster(engine.nodes.map(({host, port}) => ({host, port})), {redisOptions: {db: 5}})
    observer.on('error', () => undefined)
    expect(await observer.get('price:1')).toBe('19.99')
    expect(await observer.zrange('rank', 0, -1, 'WITHSCORES')).toEqual(['chair', '-1', 'lamp', '2.5', 'sofa', 'inf'])
    await observer.quit()
    const live = await connectPlane({url: engine.seedUrl, db: 0, env: {}})
    expect((await live.dbsize()).total).toBe(0)
    await live.close()

    const size = await plane.dbsize()
    expect(size.total).toBe(2005)
    expect(size.perNode.map((node) => node.id)).toEqual(engine.nodes.map((node) => node.id))
    expect(size.perNode.every((node) => node.keys > 500)).toBe(true)

    expect((await plane.readValues(sampleRecords().map((r) => r.key))).map(comparable)).toEqual(sampleRecords().map(expectedStored))
    const scanned = []
    for await (const batch of plane.scanValues()) scanned.push(...batch.map(comparable))
    expect(scanned.sort(byKey)).toEqual(records.map(expectedStored).sort(byKey))

    await plane.flushdb()
    expect((await plane.dbsize()).total).toBe(0)
  })

  it('refuses a db beyond its databases, saying how to get more from the engine (not valkey.conf)', async () => {
    const error = await connectPlane({url: engine.seedUrl, db: 16, env: {}}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DbNotAvailableError)
    expect((error as Error).message).toMatch(
      /^database 16 is not available on cluster node 127\.0\.0\.1:\d+ \(ERR DB index is out of range\): the bundled engine serves fewer databases; restart it with more: flip engine stop && flip engine start --databases 17$/,
    )
  })
})

describe('the bundled engine with a password', () => {
  let secured: EngineHandle
  beforeAll(async () => {
    secured = await startEngine({nodes: 1, databases: 4, password: 'engine-pw'})
  })
  afterAll(async () => secured?.stop())

  it('wrong password and missing password give one-line errors without the password', async () => {
    const wrong = await connectPlane({url: secured.seedUrl, db: 1, password: 'nope-pw', env: {}}).catch((caught: unknown) => caught)
    expect(wrong).toBeInstanceOf(ConnectionError)
    expect((wrong as Error).message).toMatch(/^authentication failed at 127\.0\.0\.1:\d+: WRONGPASS/)
    expect((wrong as Error).message).not.toContain('nope-pw')
    await expect(connectPlane({url: secured.seedUrl, db: 1, env: {}})).rejects.toThrow(/requires a password \(NOAUTH\): put it in the URL or set FLIP_PASSWORD/)
    const ok = await connectPlane({url: secured.seedUrl, db: 1, env: {FLIP_PASSWORD: 'engine-pw'}})
    expect((await ok.dbsize()).total).toBe(0)
    await ok.close()
  })
})

describe('a node that dies', () => {
  it('is reported by health and fails writes with a connection error naming it', async () => {
    const fragile = await startEngine({nodes: 3, databases: 4})
    const fragilePlane = await connectPlane({url: fragile.seedUrl, db: 2, env: {}})
    try {
      const victim = fragile.nodes[1]
      await fragile.killNode(1)
      const health = await fragilePlane.health()
      expect(health.ok).toBe(false)
      expect(health.problems.join('\n')).toContain(`${victim.host}:${victim.port}`)
      const error = await fragilePlane.writeRecords(stringRecords(100)).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toContain(`${victim.host}:${victim.port}`)
    } finally {
      await fragilePlane.close()
      await fragile.stop()
    }
  })
})
