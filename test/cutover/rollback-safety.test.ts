// Issue 9: a rollback proves its plan can still be undone before the first change (no later
// cutover in place, every db it writes holds what the plan says) or refuses, changing nothing;
// the default plan is the latest that changed something; a finished plan resumes as "already
// done"; --lock-db may not be a role db; a cutover says how many live keys leave live and
// refuses an empty dataset in replace mode unless allowed. On the bundled engine (move) and
// on redis-server (swapdb, and the batched moves for merge mode).
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {cutover} from '../../src/cutover/cutover.js'
import {CutoverCancelledError, CutoverRefusedError, CutoverUsageError} from '../../src/cutover/errors.js'
import {loadPlan} from '../../src/cutover/plan.js'
import {rollback} from '../../src/cutover/rollback.js'
import {DBS, fingerprints, flushAll, getString, keyOf, prices, servers, stageLines, tempDir, writeStrings, type Server} from './support.js'
import {rmSync} from 'node:fs'

const OLD = (i: number) => `old-${i}`
const B = (i: number) => `b-${i}`
const C = (i: number) => `c-${i}`

for (const kind of servers) {
  describe.skipIf(kind.skip !== undefined)(`rollback safety on ${kind.name}`, () => {
    let server: Server
    let stateDir: string
    const dirs: string[] = []
    const base = () => ({url: server.url, stateDir, dbs: DBS})

    beforeAll(async () => {
      server = await kind.start()
    })
    afterAll(async () => {
      await server?.stop()
      for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
    })
    beforeEach(async () => {
      stateDir = tempDir()
      dirs.push(stateDir)
      await flushAll(server.url, [0, 1, 2, 3, 4, 15])
      await writeStrings(server.url, DBS.live, [...Array.from({length: 100}, (_, i): [string, string] => [keyOf(i), OLD(i)]), ['promo:banner', 'autumn']])
    })

    it('an older plan whose data a later cutover discarded is refused, naming that plan and the db; nothing changes', async () => {
      const first = await cutover({...base(), manifest: await stageLines(server.url, stateDir, prices(60, B))})
      const second = await cutover({...base(), manifest: await stageLines(server.url, stateDir, prices(80, C)), discardArchive: true})

      // While the later one is in place: refused, naming it.
      await expect(rollback({...base(), plan: first.planId!})).rejects.toThrow(new RegExp(`later cutover \\(?${second.planId}`))

      expect((await rollback(base())).planId).toBe(second.planId)
      const before = await fingerprints(server.url)
      const refused = rollback({...base(), plan: first.planId!})
      await expect(refused).rejects.toBeInstanceOf(CutoverRefusedError)
      await expect(refused).rejects.toThrow(new RegExp(`^cannot roll back plan ${first.planId}: .*later cutover ${second.planId} \\(rolled back since\\).*nothing was changed$`))
      // The db that does not hold what the first plan left there: the archive (move) or the shadow (swapdb).
      await expect(refused).rejects.toThrow(kind.topology === 'cluster' ? /archive db 2 holds 0 keys/ : /shadow db 1 holds 80 keys/)
      expect(await fingerprints(server.url)).toEqual(before)
      expect(loadPlan(stateDir, first.planId!).phase).toBe('switched')
    })

    it('a rollback after the next dataset was staged into the shadow is refused before any change (or, moved strategy, --discard-shadow empties the shadow first)', async () => {
      const mode = kind.topology === 'cluster' ? 'replace' : 'merge'
      const original = await fingerprints(server.url)
      const done = await cutover({...base(), manifest: await stageLines(server.url, stateDir, prices(60, B, 40)), mode})
      const next = await stageLines(server.url, stateDir, prices(70, C))
      const before = await fingerprints(server.url)

      const refused = rollback({...base(), plan: done.planId!})
      await expect(refused).rejects.toBeInstanceOf(CutoverRefusedError)
      await expect(refused).rejects.toThrow(new RegExp(`manifest ${next} was staged into shadow db 1 after this plan`))
      await expect(refused).rejects.toThrow(/shadow db 1 is not empty \(70 keys\).*--discard-shadow/)
      expect(await fingerprints(server.url)).toEqual(before)

      // --resume of the finished plan: already done, no check against the re-staged shadow.
      const resumed = await cutover({...base(), resume: done.planId!})
      expect(resumed).toMatchObject({alreadyDone: true, resumed: true, keysSwitched: 0, verified: {ok: true}})
      expect(await fingerprints(server.url)).toEqual(before)

      const undone = await rollback({...base(), plan: done.planId!, discardShadow: true})
      expect(undone.verified.ok).toBe(true)
      const after = await fingerprints(server.url)
      expect(after.live).toEqual(original.live)
      expect(after.shadow.keys).toBe(60)
      expect(after.archive.keys).toBe(0)
      expect(await getString(server.url, DBS.live, keyOf(50))).toBe(OLD(50))
    })

    it.runIf(kind.topology === 'standalone')('swapdb: a shadow re-staged since the cutover cannot be undone; refused, nothing changed', async () => {
      const done = await cutover({...base(), manifest: await stageLines(server.url, stateDir, prices(60, B))})
      expect(done.strategy).toBe('swapdb')
      await stageLines(server.url, stateDir, prices(70, C))
      const before = await fingerprints(server.url)
      for (const discardShadow of [false, true]) {
        const refused = rollback({...base(), plan: done.planId!, discardShadow})
        await expect(refused).rejects.toThrow(/shadow db 1 holds 70 keys.*this swapdb cutover can no longer be undone; nothing was changed/)
      }
      expect(await fingerprints(server.url)).toEqual(before)
    })

    it('live written to after a good cutover: refused, saying so; after a cutover whose own check failed, the rollback it advised still runs', async () => {
      const done = await cutover({...base(), manifest: await stageLines(server.url, stateDir, prices(60, B))})
      await writeStrings(server.url, DBS.live, [['session:42', 'x']])
      const before = await fingerprints(server.url)
      const refused = rollback({...base(), plan: done.planId!})
      await expect(refused).rejects.toThrow(/^cannot roll back plan .*: live db 0 holds 61 keys.*live changed since the cutover.*nothing was changed$/)
      expect(await fingerprints(server.url)).toEqual(before)
      await flushAll(server.url, [DBS.live])
      await writeStrings(server.url, DBS.live, [['promo:banner', 'autumn']])
      await expect(rollback({...base(), plan: done.planId!})).rejects.toThrow(/^cannot roll back/)

      // A cutover whose post-switch check failed (a write to live during pre-flight) says "to undo: flip rollback …".
      const fresh = tempDir()
      dirs.push(fresh)
      await flushAll(server.url)
      await writeStrings(server.url, DBS.live, [['promo:banner', 'autumn']])
      const manifest = await stageLines(server.url, fresh, prices(20, C))
      let intruder: Promise<void> | undefined
      const failed = await cutover({
        url: server.url,
        stateDir: fresh,
        dbs: DBS,
        manifest,
        // Seconds between pre-flight's end and the moment, so the write lands before the switch even on a busy machine.
        schedule: {at: new Date(Date.now() + 8000).toISOString(), prepare: '7s'},
        onProgress: (event) => {
          if (event.phase === 'armed' && !intruder) intruder = writeStrings(server.url, DBS.live, [['late:write', 'x']])
        },
      }).catch((error: unknown) => error as Error)
      await intruder
      expect(failed).toBeInstanceOf(Error)
      expect((failed as Error).message).toMatch(/switched, but the check failed/)
      const undone = await rollback({url: server.url, stateDir: fresh}).catch((error: unknown) => error as Error)
      // It ran (live's pre-flight checksum did not include the late write, so its own check reports that).
      expect(String((undone as Error).message ?? '')).not.toMatch(/cannot roll back/)
      expect(await getString(server.url, DBS.live, 'promo:banner')).toBe('autumn')
      expect(await getString(server.url, DBS.live, keyOf(1))).toBeNull()
    })

    it('rollback without a plan picks the latest one that changed something, not a cancelled --at after it', async () => {
      const done = await cutover({...base(), manifest: await stageLines(server.url, stateDir, prices(60, B))})
      const other = {live: DBS.live, shadow: 3, archive: 4}
      const manifest = await stageLines(server.url, stateDir, prices(10, C), other.shadow)
      const controller = new AbortController()
      let armed = false
      const cancelled = cutover({
        url: server.url,
        stateDir,
        dbs: other,
        manifest,
        schedule: {at: new Date(Date.now() + 60_000).toISOString(), prepare: '59s'},
        signal: controller.signal,
        onProgress: (event) => {
          if (event.phase === 'armed') armed = true
        },
        onCountdown: () => {
          if (armed) controller.abort()
        },
      })
      await expect(cancelled).rejects.toBeInstanceOf(CutoverCancelledError)
      expect(loadPlan(stateDir).plan.id).not.toBe(done.planId) // the cancelled plan is the newest file

      const undone = await rollback(base())
      expect(undone).toMatchObject({planId: done.planId, alreadyDone: false, verified: {ok: true}})
      expect(await getString(server.url, DBS.live, 'promo:banner')).toBe('autumn')
    })

    it('--lock-db equal to live, shadow or archive is a usage error (exit 2) in cutover, resume and rollback', async () => {
      const manifest = await stageLines(server.url, stateDir, prices(20, B))
      const before = await fingerprints(server.url)
      for (const lockDb of [DBS.live, DBS.shadow, DBS.archive]) {
        const bad = cutover({...base(), manifest, lockDb})
        await expect(bad).rejects.toBeInstanceOf(CutoverUsageError)
        await expect(bad).rejects.toMatchObject({exitCode: 2})
        await expect(bad).rejects.toThrow(new RegExp(`--lock-db ${lockDb} is the (live|shadow|archive) db`))
      }
      expect(await fingerprints(server.url)).toEqual(before)
      const done = await cutover({...base(), manifest})
      await expect(rollback({...base(), lockDb: DBS.live})).rejects.toMatchObject({exitCode: 2})
      await expect(cutover({...base(), resume: done.planId!, lockDb: DBS.archive})).rejects.toMatchObject({exitCode: 2})
      expect(loadPlan(stateDir, done.planId!).phase).toBe('switched')
    })

    it('the summary says how many live keys leave live; an empty dataset is refused in replace mode unless allowed', async () => {
      const full = await stageLines(server.url, stateDir, prices(20, B))
      const dry = await cutover({...base(), manifest: full, dryRun: true})
      expect(dry.summary).toMatchObject({live: {keys: 101}, liveKeysToArchive: 101, archiveDb: kind.topology === 'cluster' ? DBS.archive : DBS.shadow})
      const merge = await cutover({...base(), manifest: full, dryRun: true, mode: 'merge'})
      expect(merge.summary).toMatchObject({live: {keys: 101}, liveKeysToArchive: null, archiveDb: DBS.archive})

      const empty = await stageLines(server.url, stateDir, [], DBS.shadow, {allowEmpty: true})
      const before = await fingerprints(server.url)
      for (const dryRun of [true, false]) {
        const refused = cutover({...base(), manifest: empty, dryRun})
        await expect(refused).rejects.toBeInstanceOf(CutoverRefusedError)
        await expect(refused).rejects.toThrow(`manifest ${empty} has 0 keys: this replace cutover would remove all 101 keys from live db 0; pass --allow-empty`)
      }
      expect(await fingerprints(server.url)).toEqual(before)
      const emptied = await cutover({...base(), manifest: empty, allowEmpty: true})
      expect(emptied.verified.ok).toBe(true)
      expect((await fingerprints(server.url)).live.keys).toBe(0)
    })
  })
}
