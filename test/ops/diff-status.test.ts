// diff (live vs shadow, key by key) and status (keys per db, manifest match by counts) on every backend.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {diff, stage, status} from '../../src/ops/index.js'
import {connectPlane, type Plane} from '../../src/plane/index.js'
import {DB, backends, type Backend} from './backends.js'
import {tempDir} from '../support/temp.js'

const fixtures = new URL('../fixtures/', import.meta.url).pathname

for (const kind of backends) {
  describe.skipIf(kind.skip !== undefined)(`diff and status on ${kind.name}`, () => {
    let backend: Backend
    let live: Plane
    let shadow: Plane
    let other: Plane
    let stateDir: string
    const target = () => ({url: backend.url})
    const set = (p: Plane, key: string, ...argv: string[]) => p.command(p.nodeForKey(key), argv.length ? argv : ['SET', key, 'x'])

    beforeAll(async () => {
      backend = await kind.start()
      ;[live, shadow, other] = await Promise.all([DB.live, DB.shadow, DB.other].map((db) => connectPlane({url: backend.url, db})))
    })
    afterAll(async () => {
      await Promise.all([live, shadow, other].map((p) => p?.close()))
      await backend?.stop()
    })
    beforeEach(async () => {
      stateDir = tempDir('flip-ops-')
      await Promise.all([live, shadow, other].map((p) => p.flushdb()))
    })

    it('diff counts added, removed, changed and unchanged keys, with samples and per-prefix counts', async () => {
      // live: yesterday's prices; shadow: today's.
      for (const [key, value] of [['price:1', '10'], ['price:2', '20'], ['price:3', '30'], ['product:old', 'x']]) await set(live, key, 'SET', key, value)
      for (const [key, value] of [['price:1', '10'], ['price:2', '18'], ['price:3', '30'], ['product:new', 'y']]) await set(shadow, key, 'SET', key, value)
      await set(live, 'tags', 'SADD', 'tags', 'a')
      await set(shadow, 'tags', 'SET', 'tags', 'a')
      await set(live, 'price:3', 'EXPIRE', 'price:3', '1000')

      const result = await diff({liveDb: DB.live, shadowDb: DB.shadow, target: target()})
      expect(result).toMatchObject({liveKeys: 5, shadowKeys: 5, added: 1, removed: 1, changed: 3, unchanged: 1})
      expect(result.samples).toEqual({
        added: ['product:new'],
        removed: ['product:old'],
        changed: [
          {key: 'price:2', change: 'value "20" → "18"'},
          {key: 'price:3', change: 'TTL removed'},
          {key: 'tags', change: 'type set → string'},
        ],
      })
      expect(result.prefixes[0]).toEqual({prefix: 'price', added: 0, removed: 0, changed: 2, unchanged: 1})
      expect(result.prefixes).toContainEqual({prefix: 'product', added: 1, removed: 1, changed: 0, unchanged: 0})
    })

    it('diff of identical dbs reports everything unchanged', async () => {
      await stage({files: [join(fixtures, 'catalog.ndjson')], shadowDb: DB.shadow, stateDir, target: target()})
      await stage({files: [join(fixtures, 'catalog.ndjson')], shadowDb: DB.live, stateDir, target: target()})
      expect(await diff({liveDb: DB.live, shadowDb: DB.shadow, target: target()})).toMatchObject({added: 0, removed: 0, changed: 0, unchanged: 7})
    })

    it('diff names the hash fields and set members that changed, with old and new values', async () => {
      await set(live, 'product:1', 'HSET', 'product:1', 'name', 'Tea', 'price', '19.90', 'size', 'L')
      await set(shadow, 'product:1', 'HSET', 'product:1', 'name', 'Tea', 'price', '14.90', 'color', 'green')
      await set(live, 'tags', 'SADD', 'tags', 'a', 'b')
      await set(shadow, 'tags', 'SADD', 'tags', 'a', 'c')
      const result = await diff({liveDb: DB.live, shadowDb: DB.shadow, target: target()})
      expect(result.samples.changed).toEqual([
        {key: 'product:1', change: 'fields price "19.90" → "14.90", +color, -size'},
        {key: 'tags', change: 'members +c, -b'},
      ])
    })

    it('diff tells how numeric values moved: up and down, percentiles, and the largest drops and rises by key and field', async () => {
      for (const [key, before, after] of [['price:1', '10', '5'], ['price:2', '20', '0'], ['price:3', '10', '12'], ['price:4', '0', '3'], ['name:1', 'tea', 'green tea']]) {
        await set(live, key, 'SET', key, before)
        await set(shadow, key, 'SET', key, after)
      }
      await set(live, 'product:1', 'HSET', 'product:1', 'price', '19.90', 'stock', '5', 'name', 'Tea')
      await set(shadow, 'product:1', 'HSET', 'product:1', 'price', '14.90', 'stock', '7', 'name', 'Green tea')

      const all = (await diff({liveDb: DB.live, shadowDb: DB.shadow, target: target()})).numeric
      expect(all).toMatchObject({changed: 6, up: 3, down: 3, fromZero: 1})
      expect(all.largestDrops.map((m) => [m.key, m.field, m.before, m.after, m.changePct])).toEqual([
        ['price:2', undefined, '20', '0', -100],
        ['price:1', undefined, '10', '5', -50],
        ['product:1', 'price', '19.90', '14.90', -25.13],
      ])
      expect(all.largestRises.map((m) => [m.key, m.field, m.changePct])).toEqual([['product:1', 'stock', 40], ['price:3', undefined, 20]])
      expect(all.percentiles).toMatchObject({p1: -100, p50: -25.13, p99: 40})
      expect(all.histogram.find((bucket) => bucket.fromPct === -100)).toEqual({fromPct: -100, toPct: -90, count: 1})

      const priceOnly = (await diff({liveDb: DB.live, shadowDb: DB.shadow, target: target(), numericFields: ['price']})).numeric
      expect(priceOnly).toMatchObject({changed: 5, up: 2, down: 3})
    })

    it('diff reads a db again when its scan counted more keys than the db holds afterwards (SCAN may return a key twice)', async () => {
      // Emptying a db while its scan runs leaves the same symptom as keys SCAN returned twice
      // (more keys read than DBSIZE says afterwards), which no server produces on demand. Enough
      // keys that each node's scan has pages left when the flush lands.
      const records = (prefix: string) => Array.from({length: 20_000}, (_, i) => ({key: Buffer.from(`${prefix}:${i}`), value: {type: 'string' as const, value: Buffer.from('1')}, origin: {file: 'test', line: i + 1}}))
      await shadow.writeRecords(records('new'))
      await live.writeRecords(records('old'))
      const flushed: Array<Promise<unknown>> = []
      const result = await diff({
        liveDb: DB.live,
        shadowDb: DB.shadow,
        target: target(),
        progressIntervalMs: 0,
        onProgress(p) {
          if (flushed.length === 0 && p.phase === 'reading shadow') flushed.push(shadow.flushdb())
          if (flushed.length === 1 && p.phase === 'reading live') flushed.push(live.flushdb())
        },
      })
      await Promise.all(flushed)
      expect(result).toMatchObject({shadowKeys: 0, added: 0, liveKeys: 0, removed: 0})
    })

    it('status shows keys per db and per node, and whether each db still matches its latest manifest', async () => {
      const staged = await stage({files: [join(fixtures, 'catalog.ndjson')], shadowDb: DB.shadow, stateDir, target: target()})
      await set(other, 'stray')
      const dbs = [{db: DB.live, role: 'live'}, {db: DB.shadow, role: 'shadow'}]

      const before = await status({target: target(), stateDir, dbs})
      expect(before.target.nodes.length).toBe(kind.mode?.primaries ?? before.target.nodes.length)
      // An external cluster may hold other people's dbs too: look at ours there.
      const listed = kind.mode === undefined ? before.dbs.filter((d) => Object.values(DB).includes(d.db as 11 | 12 | 13)) : before.dbs
      expect(listed.map((d) => [d.db, d.role, d.keys])).toEqual([
        [DB.live, 'live', 0],
        [DB.shadow, 'shadow', 7],
        [DB.other, undefined, 1],
      ])
      const shadowStatus = listed[1]
      expect(shadowStatus.perNode.reduce((n, node) => n + node.keys, 0)).toBe(7)
      expect(shadowStatus).toMatchObject({manifest: {id: staged.id, complete: true, keys: 7}, matchesManifest: true})
      expect(listed[0].manifest).toBeUndefined()
      expect(before.latestManifest?.id).toBe(staged.id)

      await set(shadow, 'recent', 'DEL', 'recent')
      const after = await status({target: target(), stateDir, dbs})
      expect(after.dbs.find((d) => d.db === DB.shadow)).toMatchObject({keys: 6, matchesManifest: false, mismatch: `db ${DB.shadow} has 6 keys, manifest ${staged.id} has 7`})
    })

    it('status says when the latest stage of a db did not complete', async () => {
      const dir = tempDir('flip-bad-')
      // Past the first read chunk: bad input in the first one is refused before a manifest is written.
      const good = Array.from({length: 3000}, (_, i) => JSON.stringify({key: `k:${i}`, value: String(i)}))
      writeFileSync(join(dir, 'bad.ndjson'), [...good, '{"key":""}'].join('\n') + '\n')
      await expect(stage({files: [join(dir, 'bad.ndjson')], shadowDb: DB.shadow, stateDir, target: target()})).rejects.toThrow(/empty key/)
      const result = await status({target: target(), stateDir, dbs: [{db: DB.shadow, role: 'shadow'}]})
      expect(result.dbs.find((d) => d.db === DB.shadow)).toMatchObject({matchesManifest: false, mismatch: expect.stringMatching(/is incomplete: .*bad\.ndjson:3001: empty key/)})
    })
  })
}
