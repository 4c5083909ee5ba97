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
      writeFileSync(join(dir, 'bad.ndjson'), '{"key":"a","value":"1"}\n{"key":""}\n')
      await expect(stage({files: [join(dir, 'bad.ndjson')], shadowDb: DB.shadow, stateDir, target: target()})).rejects.toThrow(/empty key/)
      const result = await status({target: target(), stateDir, dbs: [{db: DB.shadow, role: 'shadow'}]})
      expect(result.dbs.find((d) => d.db === DB.shadow)).toMatchObject({matchesManifest: false, mismatch: expect.stringMatching(/is incomplete: .*bad\.ndjson:2: empty key/)})
    })
  })
}
