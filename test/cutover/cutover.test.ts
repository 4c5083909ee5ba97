// Cutover and rollback, end to end on real servers: the bundled engine as a 3-node cluster
// (batched MOVE per slot, or one script per primary with --atomic) and Debian's redis-server
// standalone (SWAPDB, or the batched moves for merge mode).
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {cutover} from '../../src/cutover/cutover.js'
import {CutoverCancelledError, CutoverFailedError, CutoverRefusedError, CutoverUsageError} from '../../src/cutover/errors.js'
import {readJournal} from '../../src/cutover/journal.js'
import {loadPlan} from '../../src/cutover/plan.js'
import {rollback} from '../../src/cutover/rollback.js'
import {connectPlane} from '../../src/plane/plane.js'
import {DBS, fingerprints, flushAll, getString, keyOf, prices, servers, stageLines, tempDir, writeStrings, type Server} from './support.js'

const OLD = (i: number) => `old-${i}`
const NEW = (i: number) => `sale-${i}`

for (const kind of servers) {
  describe.skipIf(kind.skip !== undefined)(`cutover on ${kind.name}`, () => {
    let server: Server
    let stateDir: string
    const base = () => ({url: server.url, stateDir, dbs: DBS})

    beforeAll(async () => {
      server = await kind.start()
    })
    afterAll(async () => {
      await server?.stop()
    })
    beforeEach(async () => {
      stateDir = tempDir()
      await flushAll(server.url)
      // Live: 100 old prices and a key the new catalog does not have.
      await writeStrings(server.url, DBS.live, [...Array.from({length: 100}, (_, i): [string, string] => [keyOf(i), OLD(i)]), ['promo:banner', 'autumn']])
    })

    it('replace mode: live becomes exactly the staged catalog, and rollback restores the exact "before" checksum', async () => {
      const manifest = await stageLines(server.url, stateDir, prices(120, NEW))
      const before = await fingerprints(server.url)

      const result = await cutover({...base(), manifest})
      expect(result.strategy).toBe(kind.topology === 'cluster' ? 'move' : 'swapdb')
      expect(result.keysSwitched).toBe(120)
      expect(result.keysArchived).toBe(101)
      expect(result.verified).toEqual({ok: true, problems: []})
      expect(result.rollbackCommand).toBe(`flip rollback ${result.planId} --state-dir ${stateDir}`)
      expect(await getString(server.url, DBS.live, keyOf(7))).toBe(NEW(7))
      expect(await getString(server.url, DBS.live, 'promo:banner')).toBeNull()

      const after = await fingerprints(server.url)
      expect(after.live).toEqual(before.shadow)
      expect(after.all).toEqual(before.all) // not one key lost or changed over live + shadow + archive

      // The plan was on disk before the first change, with everything a rollback needs.
      const {plan} = loadPlan(stateDir, result.planId!)
      expect(plan.before.live).toEqual(before.live)
      expect(plan.manifest?.id).toBe(manifest)
      const events = readJournal(result.journalPath!).map((entry) => entry.event)
      expect(events.slice(0, 2)).toEqual(['planned', 'switch-started'])
      expect(events.slice(-2)).toEqual(['switched', 'verified'])

      const undone = await rollback({url: server.url, stateDir})
      expect(undone.planId).toBe(result.planId)
      expect(undone.verified.ok).toBe(true)
      expect(undone.live).toEqual(before.live)
      const restored = await fingerprints(server.url)
      expect(restored.live).toEqual(before.live)
      expect(restored.shadow).toEqual(before.shadow)
      expect(await getString(server.url, DBS.live, 'promo:banner')).toBe('autumn')

      // An older plan cannot be rolled back while this one is live.
      await expect(rollback({url: server.url, stateDir, plan: 'x'})).rejects.toThrow(/no cutover plan x/)

      // Rolling back again changes nothing.
      const again = await rollback({url: server.url, stateDir})
      expect(again.alreadyDone).toBe(true)
      expect((await fingerprints(server.url)).live).toEqual(before.live)
    })

    it('merge mode: the catalog’s keys replace theirs, other live keys stay; rollback undoes exactly that', async () => {
      const manifest = await stageLines(server.url, stateDir, prices(100, NEW, 50)) // 50..149: 50 replace, 50 new
      const before = await fingerprints(server.url)

      const result = await cutover({...base(), manifest, mode: 'merge'})
      expect(result.strategy).toBe('move')
      expect(result.keysSwitched).toBe(100)
      expect(result.keysArchived).toBe(50)
      expect(result.verified.ok).toBe(true)
      expect(await getString(server.url, DBS.live, keyOf(10))).toBe(OLD(10))
      expect(await getString(server.url, DBS.live, keyOf(70))).toBe(NEW(70))
      expect(await getString(server.url, DBS.live, keyOf(140))).toBe(NEW(140))
      expect(await getString(server.url, DBS.live, 'promo:banner')).toBe('autumn')
      expect((await fingerprints(server.url)).all).toEqual(before.all)

      const undone = await rollback({url: server.url, stateDir, plan: result.planId!})
      expect(undone.verified.ok).toBe(true)
      const restored = await fingerprints(server.url)
      expect(restored.live).toEqual(before.live)
      expect(restored.shadow).toEqual(before.shadow)
      expect(restored.archive.keys).toBe(0)
    })

    it('--atomic: one script per primary, every script running at once (proven from server TIME), client stall reported', async () => {
      const manifest = await stageLines(server.url, stateDir, prices(120, NEW))
      const before = await fingerprints(server.url)
      const result = await cutover({...base(), manifest, atomic: true})
      expect(result.strategy).toBe('atomic')
      expect(result.keysSwitched).toBe(120)
      expect(result.keysArchived).toBe(101)
      expect(result.atomic?.overlapProven).toBe(true)
      expect(result.atomic?.overlapMarginMs).toBeGreaterThan(0)
      expect(result.atomic?.scriptMs).toBeGreaterThan(result.atomic!.minDurationMs / 2) // no script ends before the common deadline
      expect(result.atomic?.clientStallMs).toBeGreaterThan(0)
      expect((await fingerprints(server.url)).live).toEqual(before.shadow)

      const undone = await rollback({url: server.url, stateDir})
      expect(undone.verified.ok).toBe(true)
      expect((await fingerprints(server.url)).live).toEqual(before.live)
    })

    it.runIf(kind.topology === 'cluster')('--atomic: a concurrent reader never sees a key go from new back to old', async () => {
      await flushAll(server.url)
      const count = 3000
      await writeStrings(server.url, DBS.live, Array.from({length: count}, (_, i): [string, string] => [keyOf(i), OLD(i)]))
      const manifest = await stageLines(server.url, stateDir, prices(count, NEW))
      const plane = await connectPlane({url: server.url, db: DBS.live})
      let switching = true
      const seen = {old: 0, new: 0, violations: [] as string[]}
      // Sequential readers: each reads one key at a time, walking keys that live on all three nodes.
      const reader = async (offset: number) => {
        let sawNew = false
        for (let n = offset; switching || n < offset + 50; n += 7) {
          const key = keyOf(n % count)
          const [stored] = await plane.readValues([Buffer.from(key)])
          const value = stored.value?.type === 'string' ? stored.value.value.toString() : ''
          if (value.startsWith('sale-')) {
            sawNew = true
            seen.new++
          } else {
            seen.old++
            if (sawNew) seen.violations.push(`${key} was ${value} after a new price was seen`)
          }
        }
      }
      const readers = [0, 1, 2, 3].map(reader)
      try {
        const result = await cutover({...base(), manifest, atomic: true})
        expect(result.atomic?.overlapProven).toBe(true)
      } finally {
        switching = false
        await Promise.all(readers)
        await plane.close()
      }
      expect(seen.old).toBeGreaterThan(0)
      expect(seen.new).toBeGreaterThan(0)
      expect(seen.violations).toEqual([])
    })

    it('refuses, changing nothing, when the shadow no longer matches its manifest, the archive is not empty, or nobody confirms', async () => {
      const manifest = await stageLines(server.url, stateDir, prices(20, NEW))
      const before = await fingerprints(server.url)

      await expect(cutover({...base(), manifest, confirm: () => false})).rejects.toThrow(/not confirmed; nothing was changed/)

      await writeStrings(server.url, DBS.shadow, [[keyOf(3), 'tampered']])
      const tampered = cutover({...base(), manifest})
      await expect(tampered).rejects.toBeInstanceOf(CutoverRefusedError)
      await expect(tampered).rejects.toThrow(/shadow db 1 no longer matches manifest/)
      await writeStrings(server.url, DBS.shadow, [[keyOf(3), NEW(3)]])

      if (kind.topology === 'cluster') {
        await writeStrings(server.url, DBS.archive, [['leftover', 'x']])
        await expect(cutover({...base(), manifest})).rejects.toThrow(/archive db 2 is not empty \(1 keys/)
      }
      const now = await fingerprints(server.url)
      expect(now.live).toEqual(before.live)
      expect(now.shadow).toEqual(before.shadow)
    })

    it('Ctrl-C (an AbortSignal) before the moment cancels cleanly: nothing changed, the plan cannot be resumed, the lock is free', async () => {
      const manifest = await stageLines(server.url, stateDir, prices(20, NEW))
      const before = await fingerprints(server.url)
      const controller = new AbortController()
      let prepared = false
      const cancelled = cutover({
        ...base(),
        manifest,
        // Pre-flight starts at once and the moment stays far off, however slow the machine:
        // the first countdown after pre-flight (which cancels) always comes before it.
        schedule: {at: new Date(Date.now() + 60_000).toISOString(), prepare: '60s'},
        signal: controller.signal,
        onProgress: (event) => {
          if (event.phase === 'preflight' && event.step.startsWith('reading live')) prepared = true
        },
        onCountdown: () => {
          if (prepared) controller.abort()
        },
      })
      await expect(cancelled).rejects.toBeInstanceOf(CutoverCancelledError)
      await expect(cancelled).rejects.toMatchObject({exitCode: 130})
      expect(await fingerprints(server.url)).toEqual(before)
      const {plan, phase} = loadPlan(stateDir)
      expect(phase).toBe('planned')
      await expect(cutover({...base(), resume: plan.id})).rejects.toThrow(/stopped before changing anything \(cancelled before the switch: nothing changed\)/)
      // The lock was released: a new cutover runs at once.
      expect((await cutover({...base(), manifest})).verified.ok).toBe(true)
    })

    it('dry run: all checks, lock included, and no change', async () => {
      const manifest = await stageLines(server.url, stateDir, prices(20, NEW))
      const before = await fingerprints(server.url)
      const result = await cutover({...base(), manifest, dryRun: true})
      expect(result).toMatchObject({dryRun: true, planId: null, keysSwitched: 0})
      expect(result.lock?.kind).toBe('server')
      expect(await fingerprints(server.url)).toEqual(before)
    })

    it('bad schedule and strategy options are usage errors (exit 2) before anything connects', async () => {
      for (const bad of [
        cutover({...base(), schedule: {at: '24:61'}}),
        cutover({...base(), schedule: {cron: '* * *'}}),
        cutover({...base(), schedule: {at: '00:01', tz: 'Nowhere/Land'}}),
        cutover({...base(), dbs: {live: 0, shadow: 0, archive: 2}}),
      ]) {
        await expect(bad).rejects.toBeInstanceOf(CutoverUsageError)
        await expect(bad).rejects.toMatchObject({exitCode: 2})
      }
      if (kind.topology === 'cluster') {
        await expect(cutover({...base(), strategy: 'swapdb'})).rejects.toThrow(/SWAPDB in cluster mode/)
      }
    })

    it('a scheduled cutover prepares before the moment; a write to live after pre-flight fails the post-switch check, which names the rollback', async () => {
      const manifest = await stageLines(server.url, stateDir, prices(20, NEW))
      let prepared = false
      let intruder: Promise<void> | undefined
      // Pre-flight starts at once; the moment is seconds after it, so that the app's write (on a
      // connection opened beforehand) lands in between even on a busy machine.
      const app = await connectPlane({url: server.url, db: DBS.live})
      const at = new Date(Date.now() + 6000).toISOString()
      const failure = await cutover({
        ...base(),
        manifest,
        schedule: {at, prepare: '6s'},
        onProgress: (event) => {
          if (event.phase === 'preflight' && event.step.startsWith('reading live')) prepared = true
        },
        onCountdown: () => {
          // An app writes to live between pre-flight and the moment.
          if (prepared && !intruder) intruder = app.command(app.nodeForKey('late:write'), ['SET', 'late:write', 'x']).then(() => undefined)
        },
      })
        .catch((error: unknown) => error)
        .finally(() => app.close())
      expect(intruder).toBeDefined()
      expect(failure).toBeInstanceOf(CutoverFailedError)
      const {result} = failure as CutoverFailedError & {result: {planId: string; driftMs: number; verified: {ok: boolean}}}
      expect((failure as Error).message).toMatch(new RegExp(`^switched, but the check failed: .*; to undo: flip rollback ${result.planId}`))
      expect(result.verified.ok).toBe(false)
      expect(result.driftMs).toBeGreaterThanOrEqual(0)
    })
  })
}
