// Replicas on a standalone server (Debian redis-server with a real replica: --replicaof): the
// topology lists it from INFO replication, SWAPDB and the batched moves wait for it (WAIT on the
// connection that wrote) and report it; a replica that stops answering fails the check, with
// the rollback still possible. The bundled engine has no replicas: replicas is [] there.
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {cutover} from '../../src/cutover/cutover.js'
import {CutoverFailedError} from '../../src/cutover/errors.js'
import {replicaTimeoutMs} from '../../src/cutover/replicas.js'
import {rollback} from '../../src/cutover/rollback.js'
import {connectPlane} from '../../src/plane/plane.js'
import {hasRedisServer, startRedisServer, type RedisServer} from '../support/redis-server.js'
import {until} from '../support/wait.js'
import {DBS, fingerprints, flushAll, prices, servers, stageLines, tempDir, writeStrings} from './support.js'

describe.skipIf(!hasRedisServer())('a standalone redis-server with one replica', () => {
  let primary: RedisServer
  let replica: RedisServer
  let replicaPid: number
  let stateDir: string
  const address = () => `127.0.0.1:${primary.port}`

  const replicaOnline = async () => {
    const plane = await connectPlane({url: primary.url, db: 0})
    try {
      return plane.primaries[0].replicas.some((r) => r.health === 'online' && r.offset > 0)
    } finally {
      await plane.close()
    }
  }

  beforeAll(async () => {
    primary = await startRedisServer()
    replica = await startRedisServer(['--replicaof', '127.0.0.1', String(primary.port)])
    await until(replicaOnline, 60_000, 50)
    const plane = await connectPlane({url: replica.url, db: 0})
    try {
      const info = await plane.command(plane.primaries[0], ['INFO', 'server'])
      replicaPid = Number(/process_id:(\d+)/.exec(String(info))?.[1])
    } finally {
      await plane.close()
    }
  })
  afterAll(async () => {
    await replica?.stop()
    await primary?.stop()
  })
  beforeEach(async () => {
    stateDir = tempDir()
    await flushAll(primary.url)
  })

  it('the topology lists the replica from INFO replication', async () => {
    const plane = await connectPlane({url: primary.url, db: 0})
    try {
      expect(plane.primaries[0].replicas).toEqual([expect.objectContaining({host: '127.0.0.1', port: replica.port, health: 'online'})])
    } finally {
      await plane.close()
    }
  })

  for (const strategy of ['swapdb', 'move'] as const) {
    it(`${strategy}: the cutover and the rollback wait for the replica and report it`, async () => {
      await writeStrings(primary.url, DBS.live, Array.from({length: 300}, (_, i) => [`price:${i}`, `old-${i}`]))
      const manifest = await stageLines(primary.url, stateDir, prices(400, (i) => `new-${i}`))
      const before = await fingerprints(primary.url)
      const result = await cutover({url: primary.url, stateDir, dbs: DBS, manifest, strategy})
      expect(result.replicas).toEqual([{primary: address(), replicas: 1, acked: 1, lagMs: expect.any(Number)}])
      const undone = await rollback({url: primary.url, stateDir})
      expect(undone.replicas).toEqual([{primary: address(), replicas: 1, acked: 1, lagMs: expect.any(Number)}])
      expect((await fingerprints(primary.url)).all).toEqual(before.all)
    })
  }

  it('a replica that stops answering fails the check after --replica-timeout; the plan rolls back', async () => {
    await writeStrings(primary.url, DBS.live, Array.from({length: 100}, (_, i) => [`price:${i}`, `old-${i}`]))
    const manifest = await stageLines(primary.url, stateDir, prices(150, (i) => `new-${i}`))
    process.kill(replicaPid, 'SIGSTOP')
    let failure: unknown
    try {
      await cutover({url: primary.url, stateDir, dbs: DBS, manifest, strategy: 'move', replicaTimeoutMs: 200}).catch((error) => {
        failure = error
      })
    } finally {
      process.kill(replicaPid, 'SIGCONT')
    }
    expect(failure).toBeInstanceOf(CutoverFailedError)
    const message = (failure as Error).message
    expect(message).toContain(`1 of 1 replicas of primary ${address()} did not apply the switch within 200 ms`)
    expect(message).toMatch(/to undo: flip rollback \S+/)
    const result = (failure as {result: {replicas: unknown; planPath: string}}).result
    expect(result.replicas).toEqual([{primary: address(), replicas: 1, acked: 0, lagMs: expect.any(Number)}])
    await until(replicaOnline, 60_000, 50)
    const undone = await rollback({url: primary.url, stateDir})
    expect(undone.verified.ok).toBe(true)
  })
})

describe('the bundled engine has no replicas', () => {
  const engineKind = servers.find((kind) => kind.topology === 'cluster')!
  let server: Awaited<ReturnType<typeof engineKind.start>>
  beforeAll(async () => {
    server = await engineKind.start()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('reports replicas: [] for the cutover (batched and --atomic) and the rollback', async () => {
    const stateDir = tempDir()
    for (const atomic of [false, true]) {
      const manifest = await stageLines(server.url, stateDir, prices(200, (i) => `v-${i}`))
      const result = await cutover({url: server.url, stateDir, dbs: DBS, manifest, atomic})
      expect(result.replicas).toEqual([])
      if (atomic) expect(result.atomic?.replicasCaughtUpMs).toBeNull()
      const undone = await rollback({url: server.url, stateDir})
      expect(undone.replicas).toEqual([])
      await flushAll(server.url)
    }
  })
})

describe('--replica-timeout values', () => {
  it('accepts durations and seconds, refuses the rest naming the source', () => {
    expect(replicaTimeoutMs(undefined)).toBe(5000)
    expect(replicaTimeoutMs('250ms')).toBe(250)
    expect(replicaTimeoutMs(2)).toBe(2000)
    expect(() => replicaTimeoutMs('soon', 'flip.config.json: "replicaTimeout"')).toThrow(/flip\.config\.json: "replicaTimeout"/)
    expect(() => replicaTimeoutMs('0s')).toThrow(/more than 0/)
  })
})
