// The data plane against a real Redis 7 cluster of three primaries (db 0: Redis 7 has no numbered
// databases in cluster mode, which is exactly the "server refuses SELECT" case flip must catch).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DbNotAvailableError, connectPlane, type Plane} from '../../src/plane/index.js'
import {keySlot, splitSlots} from '../../src/util/keyslot.js'
import {dedicatedClient} from '../support/dedicated-client.js'
import {
  beginSlotMigration,
  finishSlotMigration,
  migrateSlotKeys,
  startRedisCluster,
  type ClusterNodeHandle,
  type RedisCluster,
} from './support/redis-cluster.js'
import {byKey, comparable, expectedStored, sampleRecords, stringRecords} from './support/records.js'

let cluster: RedisCluster
let plane: Plane

beforeAll(async () => {
  cluster = await startRedisCluster(3)
  plane = await connectPlane({url: cluster.url, db: 0, env: {}})
})

afterAll(async () => {
  await plane?.close()
  await cluster?.stop()
})

/** Keys whose slot is `slot` ({tag} hash tags make as many as we like). */
function keysInSlot(slot: number, count: number, label: string): Buffer[] {
  let tag = 0
  while (keySlot(`t${tag}`) !== slot) tag++
  return Array.from({length: count}, (_, n) => Buffer.from(`{t${tag}}:${label}:${n}`))
}

function stringsFor(keys: Buffer[]) {
  return keys.map((key, n) => ({key, value: {type: 'string' as const, value: Buffer.from(`v${n}`)}, origin: {file: 'moved.ndjson', line: n + 1}}))
}

describe('a Redis 7 cluster', () => {
  it('is detected as a cluster; primaries and slot ranges come from CLUSTER SHARDS', () => {
    expect(plane.mode).toBe('cluster')
    const ranges = splitSlots(3)
    expect(plane.identity()).toEqual({
      mode: 'cluster',
      nodes: cluster.nodes.map((node, i) => ({id: node.id, address: `127.0.0.1:${node.port}`, slots: [ranges[i]]})),
    })
  })

  it('routes each key to the primary that owns its slot (hash tags included)', async () => {
    for (const key of ['a', 'b', 'c', 'price:1', '{cat}:a', '{cat}:b', 'k2']) {
      const slot = Number(await cluster.nodes[0].admin.call('CLUSTER', 'KEYSLOT', key))
      expect(keySlot(key)).toBe(slot)
      const owner = plane.nodeForKey(key)
      expect(owner.slots.some(([first, last]) => slot >= first && slot <= last)).toBe(true)
    }
  })

  it('writes to every primary, reads back all types, counts and scans per node', async () => {
    const records = [...sampleRecords(), ...stringRecords(3000)]
    await plane.writeRecords(records)

    const size = await plane.dbsize()
    expect(size.total).toBe(3005)
    for (const [i, node] of cluster.nodes.entries()) {
      expect(size.perNode[i]).toEqual({id: node.id, address: `127.0.0.1:${node.port}`, keys: Number(await node.admin.dbsize())})
      expect(size.perNode[i].keys).toBeGreaterThan(900)
    }

    const read = await plane.readValues(sampleRecords().map((r) => r.key))
    expect(read.map(comparable)).toEqual(sampleRecords().map(expectedStored))

    const scanned = []
    for await (const batch of plane.scanValues({count: 200})) scanned.push(...batch.map(comparable))
    expect(scanned.sort(byKey)).toEqual(records.map(expectedStored).sort(byKey))

    await plane.flushdb()
    expect((await plane.dbsize()).total).toBe(0)
  })

  it('refuses a db the cluster cannot SELECT, saying to set cluster-databases', async () => {
    const error = await connectPlane({url: cluster.url, db: 5, env: {}}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DbNotAvailableError)
    expect((error as DbNotAvailableError).exitCode).toBe(3)
    expect((error as Error).message).toMatch(
      /^database 5 is not available on cluster node 127\.0\.0\.1:\d+ \(ERR SELECT is not allowed in cluster mode\): numbered databases in cluster mode need Valkey 9\+ with "cluster-databases 6" or more in valkey\.conf$/,
    )
  })

  it('refuses an iovalkey client whose SELECT was ignored (it would write to db 0)', async () => {
    await expect(dedicatedClient(plane, plane.primaries[0], {db: 5})).rejects.toThrow(
      /database 5 is not available on 127\.0\.0\.1:\d+ \(the connection is in db 0.*cluster-databases 6/,
    )
  })
})

describe('a slot that moves while flip writes', () => {
  let source: ClusterNodeHandle
  let destination: ClusterNodeHandle
  const slot = 100 // owned by the first primary

  beforeAll(() => {
    ;[source, destination] = cluster.nodes
  })

  it('follows ASK during the migration and MOVED after it, losing nothing', async () => {
    const before = keysInSlot(slot, 50, 'before')
    await plane.writeRecords(stringsFor(before))

    // Migrating: keys still on the source are written there; new ones get ASK → destination.
    await beginSlotMigration(source, destination, slot)
    const health = await plane.health()
    expect(health.ok).toBe(false)
    expect(health.problems).toContain(`slot ${slot} is migrating from 127.0.0.1:${source.port} to node ${destination.id}`)
    expect(health.problems).toContain(`slot ${slot} is importing into 127.0.0.1:${destination.port} from node ${source.id}`)

    const during = keysInSlot(slot, 50, 'during')
    const writer = plane.writer()
    await writer.write(stringsFor(during))
    expect((await writer.finish()).redirected).toBe(50)

    await migrateSlotKeys(source, destination, slot)
    await finishSlotMigration(cluster.nodes, destination, slot)

    // The plane still routes the slot to the source: MOVED, topology refresh, retry.
    expect(plane.nodeForSlot(slot).id).toBe(source.id)
    const after = keysInSlot(slot, 50, 'after')
    await plane.writeRecords(stringsFor(after))
    expect(plane.nodeForSlot(slot).id).toBe(destination.id)

    expect(Number(await destination.admin.call('CLUSTER', 'COUNTKEYSINSLOT', slot))).toBe(150)
    const read = await plane.readValues([...before, ...during, ...after])
    expect(read.every((stored) => stored.value?.type === 'string')).toBe(true)
    expect((await plane.health()).ok).toBe(true)
  })

  it('reads follow ASK for keys already migrated and MOVED once the slot has moved', async () => {
    const readSlot = 200
    const keys = keysInSlot(readSlot, 20, 'read')
    await plane.writeRecords(stringsFor(keys))
    await beginSlotMigration(source, destination, readSlot)
    await source.admin.call('MIGRATE', '127.0.0.1', destination.port, '', 0, 5000, 'KEYS', ...keys.slice(0, 10).map(String))

    const values = (await plane.readValues(keys)).map((stored) => stored.value?.value.toString())
    expect(values).toEqual(keys.map((_, n) => `v${n}`))

    await migrateSlotKeys(source, destination, readSlot)
    await finishSlotMigration(cluster.nodes, destination, readSlot)
    const stale = await connectPlane({url: cluster.url, db: 0, env: {}})
    // …and back again, keys and all, while `stale` still believes the destination owns it.
    await beginSlotMigration(destination, source, readSlot)
    await migrateSlotKeys(destination, source, readSlot)
    await finishSlotMigration(cluster.nodes, source, readSlot)
    expect(stale.nodeForSlot(readSlot).id).toBe(destination.id)
    expect((await stale.readValues(keys)).map((stored) => stored.value?.value.toString())).toEqual(keys.map((_, n) => `v${n}`))
    expect(stale.nodeForSlot(readSlot).id).toBe(source.id)
    await stale.close()
  })

  it('keeps writing while a populated slot moves mid-run', async () => {
    const movingSlot = 6000 // owned by the second primary
    const [, from, to] = cluster.nodes
    const records = stringRecords(20_000, 'bulk:')
    const early = stringsFor(keysInSlot(movingSlot, 3, 'early'))
    const late = stringsFor(keysInSlot(movingSlot, 3, 'late'))
    const inSlot = records.filter((record) => keySlot(record.key) === movingSlot).length + 6
    const writer = plane.writer({batchCommands: 500, windowCommands: 2000})
    await writer.write([...early, ...records.slice(0, 10_000)])
    await beginSlotMigration(from, to, movingSlot)
    await migrateSlotKeys(from, to, movingSlot)
    await finishSlotMigration(cluster.nodes, to, movingSlot)
    await writer.write([...records.slice(10_000), ...late])
    const summary = await writer.finish()
    expect(summary.records).toBe(20_006)
    expect(summary.redirected).toBeGreaterThanOrEqual(3)

    expect((await plane.dbsize()).total).toBe(20_006 + 150 + 20)
    expect(Number(await to.admin.call('CLUSTER', 'COUNTKEYSINSLOT', movingSlot))).toBe(inSlot)
    const read = await plane.readValues(records.map((record) => record.key))
    expect(read.filter((stored) => stored.value === null)).toEqual([])
  })
})
