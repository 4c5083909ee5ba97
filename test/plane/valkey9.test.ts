// The data plane against a real Valkey 9 cluster with numbered databases (cluster-databases 16),
// the production target. Runs when FLIP_TEST_VALKEY_SERVER names a valkey-server binary (or one
// is on PATH) of version 9 or later; skipped with a visible message otherwise.
import {spawnSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DbNotAvailableError, connectPlane, type Plane} from '../../src/plane/index.js'
import {keySlot} from '../../src/util/keyslot.js'
import {byKey, comparable, expectedStored, sampleRecords, stringRecords} from './support/records.js'
import {startRedisCluster, type RedisCluster} from './support/redis-cluster.js'

function findValkey9(): string | undefined {
  const binary = process.env.FLIP_TEST_VALKEY_SERVER || 'valkey-server'
  const version = spawnSync(binary, ['--version'], {encoding: 'utf8'})
  const major = Number(/v=(\d+)\./.exec(version.stdout ?? '')?.[1])
  return major >= 9 ? binary : undefined
}

const binary = findValkey9()

if (binary === undefined) {
  describe('Valkey 9 cluster', () => {
    it.skip('skipped: no valkey-server >= 9 (set FLIP_TEST_VALKEY_SERVER=/path/to/valkey-server)', () => {})
  })
} else {
  describe('a Valkey 9 cluster with cluster-databases 16, db 5', () => {
    let cluster: RedisCluster
    let plane: Plane
    beforeAll(async () => {
      cluster = await startRedisCluster(3, {binary, args: ['--cluster-databases', '16']})
      plane = await connectPlane({url: cluster.url, db: 5, env: {}})
    })
    afterAll(async () => {
      await plane?.close()
      await cluster?.stop()
    })

    it('writes every type into db 5 across the primaries and reads it back', async () => {
      expect(plane.mode).toBe('cluster')
      expect(await plane.databases()).toBe(16)
      expect(await plane.health()).toEqual({ok: true, problems: []})

      const records = [...sampleRecords(), ...stringRecords(3000)]
      await plane.writeRecords(records)
      const size = await plane.dbsize()
      expect(size.total).toBe(3005)
      for (const [i, node] of cluster.nodes.entries()) {
        await node.admin.select(5)
        expect(size.perNode[i].keys).toBe(Number(await node.admin.dbsize()))
        await node.admin.select(0)
        expect(Number(await node.admin.dbsize())).toBe(0)
      }
      const scanned = []
      for await (const batch of plane.scanValues()) scanned.push(...batch.map(comparable))
      expect(scanned.sort(byKey)).toEqual(records.map(expectedStored).sort(byKey))
      await plane.flushdb()
    })

    it('follows MOVED after a slot changed owner behind its back', async () => {
      const slot = 16000 // third primary → first primary; empty in every db
      const [first, , third] = cluster.nodes
      expect(plane.nodeForSlot(slot).id).toBe(third.id)
      for (const node of [first, cluster.nodes[1], third]) await node.admin.call('CLUSTER', 'SETSLOT', slot, 'NODE', first.id)
      let tag = 0
      while (keySlot(`m${tag}`) !== slot) tag++
      const key = Buffer.from(`{m${tag}}:moved`)
      await plane.writeRecords([{key, value: {type: 'string', value: Buffer.from('here')}, origin: {file: 'moved.ndjson', line: 1}}])
      expect(plane.nodeForSlot(slot).id).toBe(first.id)
      await first.admin.select(5)
      expect(await first.admin.get(key)).toBe('here')
      await first.admin.select(0)
      await plane.flushdb()
    })
  })

  describe('a Valkey 9 cluster left at the default cluster-databases 1', () => {
    let cluster: RedisCluster
    beforeAll(async () => {
      cluster = await startRedisCluster(1, {binary})
    })
    afterAll(async () => cluster?.stop())

    it('refuses db 1 and says to set cluster-databases', async () => {
      const error = await connectPlane({url: cluster.url, db: 1, env: {}}).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(DbNotAvailableError)
      expect((error as Error).message).toMatch(
        /^database 1 is not available on cluster node 127\.0\.0\.1:\d+ \(ERR DB index is out of range\): numbered databases in cluster mode need Valkey 9\+ with "cluster-databases 2" or more in valkey\.conf$/,
      )
    })
  })
}
