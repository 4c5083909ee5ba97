// State any machine can use: stage on one machine (state dir A), then verify, cut over and roll
// back from machines with empty state dirs (B, C), which find the manifest and the plan in the
// metadata db on the server. Real servers: redis-server standalone and the bundled engine cluster.
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {cutover} from '../../src/cutover/cutover.js'
import {rollback} from '../../src/cutover/rollback.js'
import {verify} from '../../src/ops/index.js'
import {connectPlane} from '../../src/plane/plane.js'
import {MetaStore} from '../../src/registry/meta-store.js'
import type {PlanSummary} from '../../src/registry/plans.js'
import {keySlot, SLOT_COUNT} from '../../src/util/keyslot.js'
import {DBS, fingerprints, flushAll, keyOf, prices, servers, stageLines, tempDir, writeStrings, type Server} from '../cutover/support.js'

const META_DB = 15

for (const kind of servers) {
  describe.skipIf(kind.skip !== undefined)(`the metadata db on ${kind.name}`, () => {
    let server: Server
    let store: MetaStore

    beforeAll(async () => {
      server = await kind.start()
      store = new MetaStore(await connectPlane({url: server.url, db: META_DB}))
    })
    afterAll(async () => {
      await store?.close()
      await server?.stop()
    })
    beforeEach(async () => {
      await flushAll(server.url)
      await writeStrings(server.url, DBS.live, Array.from({length: 50}, (_, i): [string, string] => [keyOf(i), `old-${i}`]))
    })

    it('stage in A; verify, cutover and rollback from empty state dirs find the manifest and the plan on the server', async () => {
      const a = tempDir()
      const manifest = await stageLines(server.url, a, prices(80, (i) => `new-${i}`), DBS.shadow, {meta: {roles: DBS}})
      const before = await fingerprints(server.url)
      const [entry] = await store.list('manifest')
      expect(entry).toMatchObject({id: manifest, summary: {id: manifest, db: DBS.shadow, keys: 80, complete: true}})

      const b = tempDir()
      const notesB: string[] = []
      const checked = await verify({stateDir: b, target: {url: server.url}, db: DBS.shadow, meta: {roles: DBS, onNote: (note) => notesB.push(note)}})
      expect(checked.ok).toBe(true)
      expect(checked.manifest?.id).toBe(manifest)
      expect(checked.metadata).toEqual({db: META_DB, warnings: []})
      expect(notesB).toEqual([expect.stringContaining(`manifest ${manifest} found on the server (metadata db ${META_DB})`)])

      const b2 = tempDir()
      const cut = await cutover({url: server.url, stateDir: b2, dbs: DBS, meta: {}})
      expect(cut.summary.manifest.id).toBe(manifest)
      expect(cut.keysSwitched).toBe(80)
      expect(cut.metadata).toEqual({db: META_DB, warnings: []})
      const [plan] = await store.list<PlanSummary>('plan')
      expect(plan).toMatchObject({id: cut.planId, summary: {state: 'done', strategy: cut.strategy, dbs: DBS, manifest}})

      // Machine C has nothing: the plan (and, for move, the staged key names) come from the server.
      const c = tempDir()
      const notesC: string[] = []
      const undone = await rollback({url: server.url, stateDir: c, meta: {onNote: (note) => notesC.push(note)}})
      expect(undone.planId).toBe(cut.planId)
      expect(undone.verified.ok).toBe(true)
      expect(undone.metadata).toEqual({db: META_DB, warnings: []})
      expect((await fingerprints(server.url)).live).toEqual(before.live)
      expect(notesC[0]).toContain(`plan ${cut.planId} found on the server (metadata db ${META_DB})`)
      if (cut.strategy !== 'swapdb') expect(notesC[1]).toContain(`the staged key names of plan ${cut.planId} found on the server`)
      expect((await store.list<PlanSummary>('plan'))[0].summary.state).toBe('rolled back')

      // B's copy learns of the rollback from the server on its next command.
      const again = await rollback({url: server.url, stateDir: b2, meta: {}})
      expect(again.alreadyDone).toBe(true)
    })

    it('a plan whose staged key names are nowhere is refused by name; --resume from another machine finds the plan', async () => {
      const a = tempDir()
      await stageLines(server.url, a, prices(30, (i) => `m-${i}`), DBS.shadow, {meta: {roles: DBS}})
      const cut = await cutover({url: server.url, stateDir: a, dbs: DBS, mode: 'merge', meta: {}})
      expect(cut.strategy).toBe('move')
      const resumed = await cutover({url: server.url, stateDir: tempDir(), dbs: DBS, resume: cut.planId!, meta: {}})
      expect(resumed).toMatchObject({planId: cut.planId, alreadyDone: true})

      const node = store['plane' as keyof MetaStore] as unknown as import('../../src/plane/plane.js').Plane
      await node.command(node.nodeForKey('{flip}'), ['DEL', `{flip}:plan-keys:${cut.planId}`])
      const before = await fingerprints(server.url)
      await expect(rollback({url: server.url, stateDir: tempDir(), meta: {}})).rejects.toThrow(
        new RegExp(`plan ${cut.planId}'s staged key names \\(${cut.planId}\\.keys\\) are not in .* nor in metadata db ${META_DB}: copy that file from the machine that ran the cutover; nothing was changed`),
      )
      expect(await fingerprints(server.url)).toEqual(before)
    })

    it('an interrupted stage is not taken for the latest usable manifest', async () => {
      const a = tempDir()
      const good = await stageLines(server.url, a, prices(40, (i) => `a-${i}`), DBS.shadow, {meta: {roles: DBS}})
      const stop = new AbortController()
      stop.abort(new Error('interrupted'))
      await expect(stageLines(server.url, a, prices(40, (i) => `b-${i}`), DBS.shadow, {meta: {roles: DBS}, signal: stop.signal})).rejects.toThrow()
      const [newest, older] = await store.list('manifest')
      expect(older.id).toBe(good)
      expect(newest.summary).toMatchObject({complete: false})

      const b = tempDir()
      await expect(cutover({url: server.url, stateDir: b, dbs: DBS, meta: {}})).rejects.toThrow(
        new RegExp(`the newest manifest of shadow db ${DBS.shadow}, ${newest.id}, is incomplete`),
      )
      await expect(verify({stateDir: tempDir(), target: {url: server.url}, db: DBS.shadow, meta: {roles: DBS}})).rejects.toMatchObject({exitCode: 1, message: expect.stringMatching(/is incomplete/)})
    })

    it('a metadata db that is a role db is a usage error (exit 2), before anything is contacted or written', async () => {
      const a = tempDir()
      await expect(stageLines(server.url, a, prices(5, String), DBS.shadow, {meta: {db: DBS.live, roles: DBS}})).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/--meta-db 0 is the live db/)})
      await expect(cutover({url: server.url, stateDir: a, dbs: DBS, meta: {db: DBS.archive}})).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/--meta-db 2 is the archive db/)})
      await expect(rollback({url: server.url, stateDir: a, dbs: DBS, meta: {db: DBS.shadow}})).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/--meta-db 1 is the shadow db/)})
      expect(await store.list('manifest')).toEqual([])
    })

    it('measures a manifest of a dataset spread over all 16,384 slots in the metadata db', async () => {
      const keys: string[] = []
      const seen = new Uint8Array(SLOT_COUNT)
      for (let i = 0; keys.length < SLOT_COUNT; i++) {
        const key = `sku:${i}`
        const slot = keySlot(key)
        if (seen[slot]) continue
        seen[slot] = 1
        keys.push(key)
      }
      const a = tempDir()
      const id = await stageLines(server.url, a, keys.map((key, i) => JSON.stringify({key, value: `${i}.99`})), DBS.shadow, {meta: {roles: DBS}})
      const node = store['plane' as keyof MetaStore] as unknown as import('../../src/plane/plane.js').Plane
      const bytes = Number(await node.command(node.nodeForKey('{flip}'), ['STRLEN', `{flip}:manifest:${id}`]))
      const memory = Number(await node.command(node.nodeForKey('{flip}'), ['MEMORY', 'USAGE', `{flip}:manifest:${id}`]).catch(() => NaN))
      console.log(`[flip metadata] ${kind.name}: manifest of ${SLOT_COUNT} slots: STRLEN ${bytes} bytes, MEMORY USAGE ${memory} bytes`)
      expect(bytes).toBeGreaterThan(SLOT_COUNT * 40)
      expect(bytes).toBeLessThan(SLOT_COUNT * 80)
    })
  })
}
