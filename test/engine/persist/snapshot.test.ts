// Snapshots keep a node's whole keyspace (every db, every type, TTLs as absolute times) and
// refuse any file that is not exactly what was written.
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {Keyspace} from '../../../src/engine/keyspace/db.js'
import {List, ZSet} from '../../../src/engine/keyspace/values.js'
import {
  SnapshotError,
  loadSnapshot,
  readSnapshotMeta,
  saveSnapshot,
  saveSnapshotSync,
  snapshotPath,
} from '../../../src/engine/persist/index.js'

const META = {mode: 'cluster' as const, nodeIndex: 0, nodeCount: 3, databases: 16}

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flip-snap-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

/** A keyspace holding all five types in several dbs, some with TTLs, and binary bytes. */
function sampleKeyspace(): Keyspace {
  const ks = new Keyspace(16)
  const db0 = ks.db(0)
  db0.set('price:1', '19.99')
  db0.set('bin\x00\xff\r\n', '\x00\x01\xfe\xff')
  db0.set('big', 'x'.repeat(300_000))
  const hash = new Map([
    ['name', 'Lamp'],
    ['price', '12.50'],
  ])
  db0.set('product:1', hash)
  db0.expireAt('product:1', Date.now() + 3_600_000)

  const db5 = ks.db(5)
  db5.set('tags', new Set(['red', 'blue', '']))
  const zset = new ZSet()
  zset.set('alice', 1.5)
  zset.set('bob', -Infinity)
  zset.set('carol', 1e300)
  db5.set('ranking', zset)
  const list = new List()
  list.items = ['a', 'b', 'a', '']
  db5.set('queue', list)
  db5.expireAt('queue', Date.now() + 60_000)
  db5.set('gone', 'expired already')
  db5.expireAt('gone', Date.now() - 1)

  ks.db(15).set('last', 'db')
  return ks
}

function contents(ks: Keyspace): unknown {
  const out: Record<string, unknown> = {}
  for (const db of ks.existing()) {
    for (const [key, value] of db.keys) {
      let plain: unknown = value
      if (value instanceof Map) plain = Object.fromEntries(value)
      else if (value instanceof Set) plain = [...value].sort()
      else if (value instanceof ZSet) plain = value.entries().map((e) => [e.member, e.score])
      else if (value instanceof List) plain = value.items
      out[`${db.index}/${key}`] = {value: plain, expiresAt: db.expiryOf(key) ?? null}
    }
  }
  return out
}

describe('snapshot round trip', () => {
  it('keeps every db, every type, binary bytes and absolute expiry times', async () => {
    const original = sampleKeyspace()
    const path = snapshotPath(dir, 0)
    const stats = await saveSnapshot(original, path, META)
    expect(stats.keys).toBe(8) // 'gone' had expired and is not written

    const loaded = loadSnapshot(path, {databases: 16})
    original.db(5).delete('gone')
    expect(contents(loaded.keyspace)).toEqual(contents(original))
    expect(loaded.keys).toBe(8)
    expect(loaded.meta).toMatchObject({...META, keys: 8})
    expect(loaded.keyspace.db(5).expiryOf('queue')).toBe(original.db(5).expiryOf('queue'))
    loaded.keyspace.stop()
  })

  it('drops keys whose TTL passed while the engine was down', () => {
    const ks = new Keyspace(16)
    ks.db(3).set('soon', 'v')
    ks.db(3).expireAt('soon', Date.now() + 1000)
    ks.db(3).set('stays', 'v')
    const path = snapshotPath(dir, 0)
    saveSnapshotSync(ks, path, META)
    const later = loadSnapshot(path, {databases: 16, now: Date.now() + 2000})
    expect([...later.keyspace.db(3).keys.keys()]).toEqual(['stays'])
    expect(later.expired).toBe(1)
  })

  it('can keep only the keys a node owns', () => {
    const ks = sampleKeyspace()
    const path = snapshotPath(dir, 0)
    saveSnapshotSync(ks, path, META)
    const loaded = loadSnapshot(path, {databases: 16, keep: (key) => key.startsWith('p')})
    expect(loaded.keyspace.existing().flatMap((db) => [...db.keys.keys()])).toEqual(['price:1', 'product:1'])
  })

  it('reads the header alone for status', () => {
    const path = snapshotPath(dir, 2)
    saveSnapshotSync(sampleKeyspace(), path, {...META, nodeIndex: 2})
    const meta = readSnapshotMeta(path)
    expect(meta).toMatchObject({mode: 'cluster', nodeIndex: 2, nodeCount: 3})
    expect(Math.abs(meta.createdAt - Date.now())).toBeLessThan(60_000)
  })

  it('writes atomically: no temp file is left and the previous snapshot is kept as .prev', async () => {
    const path = snapshotPath(dir, 0)
    const first = new Keyspace(16)
    first.db(0).set('generation', '1')
    await saveSnapshot(first, path, META)
    const second = new Keyspace(16)
    second.db(0).set('generation', '2')
    await saveSnapshot(second, path, META)
    expect(readdirSync(dir).sort()).toEqual(['node-0.snapshot', 'node-0.snapshot.prev'])
    expect(loadSnapshot(path, {databases: 16}).keyspace.db(0).get('generation')).toBe('2')
    expect(loadSnapshot(`${path}.prev`, {databases: 16}).keyspace.db(0).get('generation')).toBe('1')
  })
})

describe('a bad snapshot is refused, never half-loaded', () => {
  function savedSample(): string {
    const path = snapshotPath(dir, 0)
    saveSnapshotSync(sampleKeyspace(), path, META)
    return path
  }

  function refusal(path: string, databases = 16): SnapshotError {
    try {
      loadSnapshot(path, {databases})
    } catch (error) {
      expect(error).toBeInstanceOf(SnapshotError)
      return error as SnapshotError
    }
    throw new Error('the snapshot was loaded')
  }

  it('refuses a truncated file, whatever the cut', () => {
    const path = savedSample()
    const size = readFileSync(path).length
    for (const cut of [0, 5, 20, Math.floor(size / 2), size - 1]) {
      truncateSync(path, cut)
      expect(refusal(path).message).toMatch(/is truncated|is corrupt/)
      saveSnapshotSync(sampleKeyspace(), path, META)
    }
    truncateSync(path, size - 100)
    expect(refusal(path).message).toContain('is truncated')
  })

  it('refuses a file with a flipped byte (checksum mismatch)', () => {
    const path = savedSample()
    const bytes = readFileSync(path)
    bytes[Math.floor(bytes.length / 2)] ^= 0x01
    writeFileSync(path, bytes)
    expect(refusal(path).message).toBe(
      `snapshot ${path} is corrupt (checksum mismatch); refusing to load it; the previous snapshot, if any, is kept as node-0.snapshot.prev`,
    )
  })

  it('refuses a file that is not a snapshot', () => {
    const path = join(dir, 'node-0.snapshot')
    writeFileSync(path, 'REDIS0011 something else entirely, long enough to have a header')
    expect(refusal(path).message).toContain('is not a flip snapshot')
  })

  it('refuses a snapshot with keys in a db the engine does not have', () => {
    const path = savedSample()
    expect(refusal(path, 8).message).toContain('holds keys in db 15 but the engine has 8 databases; start it with --databases 16 or more')
  })

  it('leaves the file in place when refusing it', () => {
    const path = savedSample()
    truncateSync(path, 30)
    refusal(path)
    expect(existsSync(path)).toBe(true)
  })
})
