// The metadata db: documents by kind and id with an index to find the newest, written in one
// script on the {flip} slot, pruned to the newest N, and damage reported with the key named.
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {connectPlane, type Plane} from '../../src/plane/index.js'
import {MetaStore} from '../../src/registry/meta-store.js'
import {DB, backends, type Backend} from '../ops/backends.js'

for (const kind of backends) {
  describe.skipIf(kind.skip !== undefined)(`the metadata store on ${kind.name}`, () => {
    let backend: Backend
    let plane: Plane
    let store: MetaStore

    beforeAll(async () => {
      backend = await kind.start()
      plane = await connectPlane({url: backend.url, db: DB.other})
      store = new MetaStore(plane)
    })
    afterAll(async () => {
      await plane?.flushdb()
      await plane?.close()
      await backend?.stop()
    })
    beforeEach(() => plane.flushdb())

    it('keeps a document by kind and id, and lists the index newest first', async () => {
      const manifest = {id: 'm1', keys: 3, slots: Array.from({length: 16384}, (_, slot) => [slot, 1, 'ab'.repeat(16)])}
      await store.put('manifest', 'm1', manifest, {db: 1, complete: true}, new Date('2026-12-01T00:00:00Z'))
      await store.put('manifest', 'm2', {id: 'm2'}, {db: 1, complete: false}, new Date('2026-12-02T00:00:00Z'))
      await store.put('plan', 'p1', {id: 'p1'}, {phase: 'switched'})

      expect(await store.get('manifest', 'm1')).toEqual(manifest)
      expect(await store.get('manifest', 'nope')).toBeUndefined()
      expect(await store.list('manifest')).toEqual([
        {id: 'm2', at: '2026-12-02T00:00:00.000Z', summary: {db: 1, complete: false}},
        {id: 'm1', at: '2026-12-01T00:00:00.000Z', summary: {db: 1, complete: true}},
      ])
      expect((await store.list('plan')).map((entry) => entry.id)).toEqual(['p1'])
    })

    it('keeps only the newest documents of a kind, deleting the oldest with their index entries', async () => {
      for (let day = 1; day <= 5; day++) await store.put('plan', `p${day}`, {day}, {}, new Date(Date.UTC(2026, 11, day)), 3)
      expect((await store.list('plan')).map((entry) => entry.id)).toEqual(['p5', 'p4', 'p3'])
      expect(await store.get('plan', 'p2')).toBeUndefined()
      expect(await store.get('plan', 'p3')).toEqual({day: 3})
    })

    it('names the key when the server holds something that is not a document', async () => {
      await store.put('manifest', 'm1', {id: 'm1'}, {})
      const node = plane.nodeForKey('{flip}')
      await plane.command(node, ['SET', '{flip}:manifest:m1', '{oops'])
      await expect(store.get('manifest', 'm1')).rejects.toThrow(/metadata db \d+ holds a damaged \{flip\}:manifest:m1 \(not valid JSON\)/)
      await plane.command(node, ['HSET', '{flip}:manifests:index', 'm9', '42'])
      await expect(store.list('manifest')).rejects.toThrow(/damaged \{flip\}:manifests:index field m9 \(not an index entry\)/)
    })
  })
}
