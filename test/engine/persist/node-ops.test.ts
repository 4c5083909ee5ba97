// A node's persistence lifecycle as the node process drives it: open (load), write, stop (final
// save), open again; and re-sharding snapshots when the engine restarts with another node count.
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {Keyspace} from '../../../src/engine/keyspace/db.js'
import {SnapshotError, openNodeOps, snapshotPath} from '../../../src/engine/persist/index.js'
import {keySlot, splitSlots} from '../../../src/util/keyslot.js'
import {until} from '../../support/wait.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flip-ops-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

function node(index: number, nodeCount: number, extra: {dbMaxMemory?: Array<[number, number]>} = {}) {
  return openNodeOps({index, nodeCount, mode: 'cluster', databases: 16, snapshotDir: dir, saveSeconds: 0, ...extra})
}

/** Which node of `count` owns a key. */
function owner(key: string, count: number): number {
  const slot = keySlot(key)
  return splitSlots(count).findIndex(([from, to]) => slot >= from && slot <= to)
}

describe('a node with a snapshot directory', () => {
  it('starts empty, saves on stop and comes back with its data', () => {
    const first = node(0, 1)
    expect(first.ops.loaded?.keys).toBe(0)
    first.keyspace.db(4).set('k', 'v')
    first.ops.shutdown(first.keyspace)
    const again = node(0, 1)
    expect(again.keyspace.db(4).get('k')).toBe('v')
    expect(again.ops.infoPersistenceLines()).toContain('flip_snapshot_loaded:1')
  })

  it('removes temp files a crash left half-written, and never loads them', () => {
    writeFileSync(join(dir, '.node-0.snapshot.4242.deadbeef.tmp'), 'FLIPSNAP half a snapshot')
    const {keyspace} = node(0, 1)
    expect(keyspace.existing()).toEqual([])
    expect(readdirSync(dir)).toEqual([])
  })

  it('counts writes since the last save for INFO', () => {
    const {keyspace, ops} = node(0, 1)
    const scope = ops.beginWrite(keyspace.db(0), 'set', ['set', 'a', 'b'], () => ['a'])
    keyspace.db(0).set('a', 'b')
    ops.endWrite(scope)
    expect(ops.infoPersistenceLines()).toContain('rdb_changes_since_last_save:1')
    ops.saveSync(keyspace)
    expect(ops.infoPersistenceLines()).toContain('rdb_changes_since_last_save:0')
    expect(ops.infoPersistenceLines()).toContain('rdb_saves:1')
  })

  it('refuses to open with a corrupt snapshot and leaves the file alone', () => {
    writeFileSync(snapshotPath(dir, 0), 'FLIPSNAP\x00\x01 garbage')
    expect(() => node(0, 1)).toThrow(SnapshotError)
    expect(existsSync(snapshotPath(dir, 0))).toBe(true)
  })

  it('has no persistence and no files without a directory', () => {
    const {ops} = openNodeOps({index: 0, mode: 'cluster', databases: 16})
    expect(ops.persistence).toBeNull()
    expect(ops.infoPersistenceLines()).toBeNull()
  })
})

describe('restarting with another node count', () => {
  it('re-shards: each node keeps exactly the keys of its new slots, and stale files go', async () => {
    const keys = Array.from({length: 300}, (_, i) => `key:${i}`)
    // A 3-node engine holds every key on its owner.
    for (let index = 0; index < 3; index++) {
      const {keyspace, ops} = node(index, 3)
      for (const key of keys) if (owner(key, 3) === index) keyspace.db(2).set(key, `v-${key}`)
      keyspace.db(2).expireAt(keys.find((k) => owner(k, 3) === index)!, Date.now() + 3_600_000)
      ops.shutdown(keyspace)
    }
    // It comes back with 2 nodes.
    const nodes = [node(0, 2), node(1, 2)]
    for (const [index, {keyspace}] of nodes.entries()) {
      const held = [...keyspace.db(2).keys.keys()].sort()
      expect(held).toEqual(keys.filter((k) => owner(k, 2) === index).sort())
    }
    expect(nodes.reduce((n, {keyspace}) => n + keyspace.db(2).expires.size, 0)).toBe(3)
    // Once serving, the nodes save in the new shape and node 0 drops node-2.snapshot.
    for (const {keyspace, ops} of nodes) ops.started(() => keyspace)
    const snapshots = () => readdirSync(dir).filter((f) => f.endsWith('.snapshot')).sort()
    // The saves run in the background: wait until both are done (node 0 then drops the stale file).
    const saved = () => nodes.every(({ops}) => ops.infoPersistenceLines()!.includes('rdb_saves:1'))
    await until(() => saved() && snapshots().join() === 'node-0.snapshot,node-1.snapshot')
    expect(saved()).toBe(true)
    expect(snapshots()).toEqual(['node-0.snapshot', 'node-1.snapshot'])
    const reopened = node(1, 2)
    expect(reopened.ops.loaded?.resharded).toBe(false)
    expect(reopened.keyspace.db(2).size).toBe(keys.filter((k) => owner(k, 2) === 1).length)
  })

  it('a failed save after a re-shard is logged and keeps the old snapshots, instead of an unhandled rejection', async () => {
    for (let index = 0; index < 3; index++) {
      const {keyspace, ops} = node(index, 3)
      keyspace.db(0).set(`k:${index}`, 'v')
      ops.shutdown(keyspace)
    }
    const lines: string[] = []
    const {keyspace, ops} = openNodeOps({index: 0, nodeCount: 2, mode: 'cluster', databases: 16, snapshotDir: dir, saveSeconds: 0}, (line) => lines.push(line))
    expect(ops.loaded?.resharded).toBe(true)
    // Node 0's snapshot path is now a non-empty directory: the save's final rename fails.
    rmSync(snapshotPath(dir, 0))
    mkdirSync(snapshotPath(dir, 0))
    writeFileSync(join(snapshotPath(dir, 0), 'in-the-way'), '')
    ops.started(() => keyspace)
    await until(() => lines.some((line) => line.includes('snapshot failed')))
    expect(ops.infoPersistenceLines()).toContain('rdb_last_bgsave_status:err')
    // The files of the 3-node shape stay: they are the only complete copy.
    expect(existsSync(snapshotPath(dir, 2))).toBe(true)
    keyspace.stop()
  })
})

describe('limits through NodeOps', () => {
  it('admits writes until the db is full', () => {
    const {keyspace, ops} = node(0, 1, {dbMaxMemory: [[3, 2000]]})
    const db = keyspace.db(3)
    let accepted = 0
    for (let i = 0; i < 100; i++) {
      const argv = ['set', `k${i}`, 'x'.repeat(100)]
      if (ops.admit(db, 'set', argv, true) !== null) break
      const scope = ops.beginWrite(db, 'set', argv, () => [argv[1]])
      db.set(argv[1], argv[2])
      ops.endWrite(scope)
      accepted++
    }
    expect(accepted).toBeGreaterThan(5)
    expect(accepted).toBeLessThan(100)
    expect(ops.infoMemoryLines()).toContain('maxmemory_db3:2000')
    expect(keyspace).toBeInstanceOf(Keyspace)
  })
})
