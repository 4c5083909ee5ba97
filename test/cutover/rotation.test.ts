// Issue 10, archive rotation: a move/atomic cutover leaves live's old data in the archive db;
// the next cutover recognises it as the rollback data of the latest finished cutover on these
// dbs (count + checksum recorded in its journal), discards it just before its own switch, and
// that older plan is superseded (its rollback refused, saying why). Anything else in the archive
// is still refused, with the reason; --keep-archive restores the refusal. On the bundled engine
// (cluster, move) and redis-server (standalone with --strategy move; swapdb keeps no archive).
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {cutover} from '../../src/cutover/cutover.js'
import {CutoverCancelledError, CutoverRefusedError} from '../../src/cutover/errors.js'
import {readJournal} from '../../src/cutover/journal.js'
import {listPlanIds, loadPlan} from '../../src/cutover/plan.js'
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {rollback} from '../../src/cutover/rollback.js'
import {DBS, fingerprints, flushAll, keyOf, prices, servers, stageLines, tempDir, writeStrings, type Server} from './support.js'

const runner = fileURLToPath(new URL('./crash-runner.ts', import.meta.url))

/** A cutover in a child process that SIGKILLs itself at `crashAt` (src/cutover/crash-hook.ts). */
function run(request: Record<string, unknown>, crashAt: string): Promise<{signal: NodeJS.Signals | null}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runner, JSON.stringify(request)], {env: {...process.env, FLIP_TEST_CRASH_AT: crashAt}, stdio: ['ignore', 'ignore', 'inherit']})
    child.on('error', reject)
    child.on('exit', (_code, signal) => resolve({signal}))
  })
}

const night = (n: number) => (i: number) => `night${n}-${i}`

for (const kind of servers) {
  describe.skipIf(kind.skip !== undefined)(`archive rotation on ${kind.name}`, () => {
    let server: Server
    let stateDir: string
    const dirs: string[] = []
    const strategy = 'move' as const
    const base = () => ({url: server.url, stateDir, dbs: DBS, strategy})
    /** Stages night n's catalog (a different size each night) and returns its manifest id. */
    const stageNight = (n: number) => stageLines(server.url, stateDir, prices(40 + 10 * n, night(n)))

    beforeAll(async () => {
      server = await kind.start()
    })
    afterAll(async () => {
      await server?.stop()
      for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
    })
    beforeEach(async () => {
      stateDir = tempDir('flip-rotation-')
      dirs.push(stateDir)
      await flushAll(server.url, [0, 1, 2, 3, 15])
      await writeStrings(server.url, DBS.live, Array.from({length: 30}, (_, i): [string, string] => [keyOf(i), `old-${i}`]))
    })

    it('three nights in a row switch; each discards the previous rollback data, which only the latest plan can still undo', async () => {
      const results = []
      const lives = []
      for (const n of [1, 2, 3]) {
        await stageNight(n)
        const result = await cutover(base())
        expect(result.verified.ok).toBe(true)
        lives.push((await fingerprints(server.url)).live)
        results.push(result)
      }
      const [first, second, third] = results
      expect(first.archiveDiscarded).toBeNull()
      expect(second.archiveDiscarded).toMatchObject({planId: first.planId, keys: 30})
      expect(third.archiveDiscarded).toMatchObject({planId: second.planId, keys: 50})
      // Recorded in the plan (before the switch) and the journal.
      expect(loadPlan(stateDir, third.planId!).plan.archiveDiscard).toEqual(third.archiveDiscarded)
      expect(loadPlan(stateDir, third.planId!).plan.before.archive.keys).toBe(0)
      const events = readJournal(third.journalPath!)
      expect(events.map((entry) => entry.event).filter((event) => event !== 'batch')).toEqual(['planned', 'archive-discarded', 'switch-started', 'switched', 'verified'])
      expect(events.at(-1)).toMatchObject({event: 'verified', ok: true, archive: {db: DBS.archive, keys: 60}})
      // The archive holds night 2's data: the rollback data of night 3.
      expect((await fingerprints(server.url)).archive).toEqual(lives[1])

      // Night 1's rollback data is gone: refused, naming the plan whose discard removed it.
      const before = await fingerprints(server.url)
      const refused = rollback({...base(), plan: first.planId!})
      await expect(refused).rejects.toBeInstanceOf(CutoverRefusedError)
      await expect(refused).rejects.toThrow(
        new RegExp(`^cannot roll back plan ${first.planId}: it was superseded by plan ${second.planId}, whose archive discard removed its rollback data .*nothing was changed$`),
      )
      expect(await fingerprints(server.url)).toEqual(before)

      // The latest rolls back to night 2; night 2 is still superseded (night 3 discarded its data).
      const undone = await rollback(base())
      expect(undone.planId).toBe(third.planId)
      expect(undone.verified.ok).toBe(true)
      expect((await fingerprints(server.url)).live).toEqual(lives[1])
      await expect(rollback({...base(), plan: second.planId!})).rejects.toThrow(new RegExp(`superseded by plan ${third.planId}, whose archive discard removed its rollback data`))
    })

    it('anything else in the archive is refused with the reason it is not rotated; --keep-archive refuses; --discard-archive forces', async () => {
      await stageNight(1)
      const first = await cutover(base())
      await stageNight(2)

      // --keep-archive: today's refusal.
      await expect(cutover({...base(), keepArchive: true})).rejects.toThrow(/archive db 2 is not empty \(30 keys, .*--keep-archive: not rotated/)

      // A modified archive.
      await writeStrings(server.url, DBS.archive, [[keyOf(3), 'edited']])
      await expect(cutover(base())).rejects.toThrow(new RegExp(`archive db 2 is not empty \\(30 keys\\) and is not rotated: it holds 30 keys, checksum \\w+, but the latest cutover on these dbs, ${first.planId}, left 30 keys, checksum \\w+ there: the archive was changed since`))
      await writeStrings(server.url, DBS.archive, [[keyOf(3), 'old-3']])

      // Unknown keys: another state directory knows no cutover that left them.
      const elsewhere = tempDir('flip-rotation-other-')
      dirs.push(elsewhere)
      await stageLines(server.url, elsewhere, prices(60, night(2)))
      await expect(cutover({...base(), stateDir: elsewhere})).rejects.toThrow(/is not rotated: no cutover in this state directory left them there/)

      // A cutover that never finished (its journal stops mid-switch, as a crash leaves it).
      const journal = loadPlan(stateDir, first.planId!).journal.path
      const complete = readFileSync(journal, 'utf8')
      writeFileSync(journal, complete.split('\n').filter((line) => !/"event":"(switched|verified)"/.test(line)).join('\n'))
      await expect(cutover(base())).rejects.toThrow(new RegExp(`is not rotated: the latest cutover on these dbs, ${first.planId}, never finished`))
      writeFileSync(journal, complete)

      // Dry run: says it would discard, changes nothing.
      const before = await fingerprints(server.url)
      const dry = await cutover({...base(), dryRun: true})
      expect(dry.archiveDiscarded).toMatchObject({planId: first.planId, keys: 30})
      expect(await fingerprints(server.url)).toEqual(before)

      // Cancelled before the moment: the archive is kept, the first plan stays undoable.
      const controller = new AbortController()
      const cancelled = cutover({
        ...base(),
        schedule: {at: new Date(Date.now() + 600_000).toISOString(), prepare: '20m'},
        signal: controller.signal,
        onProgress: (event) => {
          if (event.phase === 'armed') controller.abort()
        },
      })
      await expect(cancelled).rejects.toBeInstanceOf(CutoverCancelledError)
      expect(await fingerprints(server.url)).toEqual(before)

      // --discard-archive still forces (the archive edited again, so rotation would refuse).
      await writeStrings(server.url, DBS.archive, [['stray', 'x']])
      const forced = await cutover({...base(), discardArchive: true})
      expect(forced.verified.ok).toBe(true)
      expect(forced.archiveDiscarded).toBeNull()
    })

    it('killed (kill -9) after its plan is written, before or after the archive discard: --resume discards and switches; the old plan is superseded', async () => {
      await stageNight(1)
      const first = await cutover(base())
      await stageNight(2)
      const archived = (await fingerprints(server.url)).archive
      for (const point of ['planned', 'archive-flushed']) {
        const killed = await run({action: 'cutover', ...base()}, point)
        expect(killed.signal, point).toBe('SIGKILL')
        const id = listPlanIds(stateDir).at(-1)!
        const {plan} = loadPlan(stateDir, id)
        // The plan on disk says what it does: discard night 1's rollback data.
        expect(plan.archiveDiscard, point).toEqual({planId: first.planId, keys: archived.keys, checksum: archived.checksum})
        expect((await fingerprints(server.url)).archive.keys, point).toBe(point === 'planned' ? 30 : 0)
        if (point === 'planned') {
          // Not resumed: roll the plan back (nothing changed) and try the next point from the same state.
          expect(await rollback({...base(), plan: id})).toMatchObject({alreadyDone: true})
          continue
        }
        const resumed = await cutover({...base(), resume: id})
        expect(resumed).toMatchObject({resumed: true, verified: {ok: true}, archiveDiscarded: plan.archiveDiscard})
        expect(readJournal(loadPlan(stateDir, id).journal.path).map((entry) => entry.event)).toContain('archive-discarded')
        await expect(rollback({...base(), plan: first.planId!})).rejects.toThrow(new RegExp(`superseded by plan ${id}, whose archive discard`))
      }
    })

    it('a plan killed before its discard resumes: the archive still holds the old rollback data, which it deletes then', async () => {
      await stageNight(1)
      const first = await cutover(base())
      await stageNight(2)
      const killed = await run({action: 'cutover', ...base()}, 'planned')
      expect(killed.signal).toBe('SIGKILL')
      const id = listPlanIds(stateDir).at(-1)!
      const resumed = await cutover({...base(), resume: id})
      expect(resumed).toMatchObject({resumed: true, verified: {ok: true}, archiveDiscarded: {planId: first.planId}})
      expect((await fingerprints(server.url)).archive.keys).toBe(40 + 10)
    })
  })
}

describe.skipIf(servers[0].skip !== undefined)('three nights on redis-server standalone with swapdb', () => {
  let server: Server
  let stateDir: string
  beforeAll(async () => {
    server = await servers[0].start()
    stateDir = tempDir('flip-rotation-swapdb-')
  })
  afterAll(async () => {
    await server?.stop()
    rmSync(stateDir, {recursive: true, force: true})
  })

  it('the old live ends in the shadow, the next stage --replace empties it; three nights switch, the latest rolls back to night 2', async () => {
    await flushAll(server.url, [0, 1, 2, 15])
    const base = {url: server.url, stateDir, dbs: DBS}
    const results = []
    const lives = []
    for (const n of [1, 2, 3]) {
      await stageLines(server.url, stateDir, prices(40 + 10 * n, night(n)))
      const result = await cutover(base)
      expect(result).toMatchObject({strategy: 'swapdb', archiveDiscarded: null, verified: {ok: true}})
      lives.push((await fingerprints(server.url)).live)
      results.push(result)
    }
    expect((await fingerprints(server.url)).shadow).toEqual(lives[1])
    await expect(rollback({...base, plan: results[0].planId!})).rejects.toThrow(/superseded this plan/)
    const undone = await rollback(base)
    expect(undone.planId).toBe(results[2].planId)
    expect((await fingerprints(server.url)).live).toEqual(lives[1])
  })
})
