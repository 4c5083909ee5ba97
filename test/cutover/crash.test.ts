// kill -9 of a cutover (or a rollback) at several points, then `cutover --resume` or
// `rollback`: the dbs end in exactly the staged state or exactly the original one, and no key
// is lost or changed on the way (count + checksum over live + shadow + archive preserved).
// Also: two cutovers started together — exactly one runs.
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {cutover, type CutoverOptions} from '../../src/cutover/cutover.js'
import {rollback, type RollbackOptions} from '../../src/cutover/rollback.js'
import {readJournal} from '../../src/cutover/journal.js'
import {listPlanIds, loadPlan, journalPath, planPath} from '../../src/cutover/plan.js'
import type {DbSummary} from '../../src/cutover/plan.js'
import {addSummaries} from '../../src/cutover/state.js'
import {DBS, fingerprints, flushAll, keyOf, prices, servers, stageLines, tempDir, writeStrings, type Server} from './support.js'

const runner = fileURLToPath(new URL('./crash-runner.ts', import.meta.url))

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  output: Record<string, unknown> | undefined
}

interface Runner {
  /** Resolves once the child has loaded and waits for go (or has exited). */
  ready: Promise<void>
  /** The rest of the request; the child starts then. */
  go(extra: Record<string, unknown>): void
  done: Promise<Run>
}

function spawnRunner(request: Record<string, unknown>, crashAt?: string, waitForGo = false): Runner {
  const child = spawn(process.execPath, ['--import', 'tsx', runner, JSON.stringify(request)], {
    env: {...process.env, FLIP_TEST_CRASH_AT: crashAt ?? '', FLIP_TEST_WAIT_FOR_GO: waitForGo ? '1' : ''},
    stdio: [waitForGo ? 'pipe' : 'ignore', 'pipe', 'inherit'],
  })
  child.stdin?.on('error', () => undefined) // a child that died early: its exit tells
  let stdout = ''
  let markReady = () => {}
  const ready = new Promise<void>((resolve) => (markReady = resolve))
  child.stdout!.on('data', (chunk) => { // stdio[1] is 'pipe'
    stdout += chunk
    if (stdout.startsWith('ready\n')) markReady()
  })
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      markReady()
      const line = stdout.trim().split('\n').at(-1)
      resolve({code, signal, output: line && line !== 'ready' ? (JSON.parse(line) as Record<string, unknown>) : undefined})
    })
  })
  return {ready, go: (extra) => child.stdin?.end(JSON.stringify(extra) + '\n'), done}
}

function run(request: Record<string, unknown>, crashAt?: string): Promise<Run> {
  return spawnRunner(request, crashAt).done
}

for (const kind of servers) {
  describe.skipIf(kind.skip !== undefined)(`kill -9 and recovery on ${kind.name}`, () => {
    let server: Server
    let stateDir: string
    let original: {live: DbSummary; shadow: DbSummary; archive: DbSummary; all: DbSummary}
    const request = (action: string, extra: Record<string, unknown> = {}) => ({action, url: server.url, stateDir, dbs: DBS, batchCommands: 40, ...extra})

    beforeAll(async () => {
      server = await kind.start()
    })
    afterAll(async () => {
      await server?.stop()
    })
    beforeEach(async () => {
      stateDir = tempDir()
      await flushAll(server.url)
      await writeStrings(server.url, DBS.live, [...Array.from({length: 300}, (_, i): [string, string] => [keyOf(i), `old-${i}`]), ['promo:banner', 'autumn']])
      await stageLines(server.url, stateDir, prices(400, (i) => `sale-${i}`, 100))
      original = await fingerprints(server.url)
    })

    async function expectStaged(mode = 'replace'): Promise<void> {
      const now = await fingerprints(server.url)
      expect(now.all).toEqual(original.all)
      if (mode === 'replace') {
        expect(now.live).toEqual(original.shadow)
      } else {
        // Old prices 0..299 + a promo key; staged 100..499: 200 old prices archived, 501 keys live.
        expect(now.shadow.keys).toBe(0)
        expect(now.archive.keys).toBe(200)
        expect(now.live.keys).toBe(501)
        expect(addSummaries(now.live, now.archive)).toEqual(addSummaries(original.live, original.shadow))
      }
    }

    async function expectOriginal(): Promise<void> {
      const now = await fingerprints(server.url)
      expect(now.all).toEqual(original.all)
      expect(now.live).toEqual(original.live)
      expect(now.shadow).toEqual(original.shadow)
    }

    async function crashed(crashAt: string, extra: Record<string, unknown> = {}): Promise<string> {
      const result = await run(request('cutover', extra), crashAt)
      expect(result.signal, `not killed at ${crashAt}: ${JSON.stringify(result.output)}`).toBe('SIGKILL')
      const id = listPlanIds(stateDir).at(-1)!
      expect(id).toBeDefined()
      return id
    }

    const strategies = kind.topology === 'cluster' ? [{}, {mode: 'merge'}, {atomic: true}] : [{}, {mode: 'merge'}]
    for (const extra of strategies) {
      const label = JSON.stringify(extra)
      const points = 'atomic' in extra ? ['planned', 'script', 'switched'] : kind.topology === 'standalone' && !('mode' in extra) ? ['planned', 'swapdb', 'switched'] : ['planned', 'batch:2', 'unjournaled:3', 'switched']

      it(`${label}: killed at ${points.join(', ')}; then --resume ends exactly staged, and rollback exactly original`, async () => {
        for (const point of points) {
          // Killed, then resumed (and rolled back to start the next round clean).
          let id = await crashed(point, extra)
          const resumed = await cutover({...request('resume'), resume: id} as CutoverOptions)
          expect(resumed, point).toMatchObject({resumed: true, verified: {ok: true}})
          await expectStaged('mode' in extra ? 'merge' : 'replace')
          await rollback({...request('rollback'), plan: id} as RollbackOptions)
          await expectOriginal()

          // Killed, then rolled back.
          id = await crashed(point, extra)
          const undone = await rollback({...request('rollback'), plan: id} as RollbackOptions)
          expect(undone, point).toMatchObject({planId: id, verified: {ok: true}})
          await expectOriginal()
        }
      })
    }

    it('a rollback killed half-way is finished by running it again', async () => {
      const done = await run(request('cutover', kind.topology === 'standalone' ? {mode: 'merge'} : {}))
      expect(done.output).toMatchObject({verified: {ok: true}})
      const killed = await run(request('rollback'), 'rollback-batch:2')
      expect(killed.signal).toBe('SIGKILL')
      const again = await rollback(request('rollback') as RollbackOptions)
      expect(again).toMatchObject({verified: {ok: true}})
      await expectOriginal()
      const events = readJournal(journalPath(planPath(stateDir, listPlanIds(stateDir)[0]))).map((entry) => entry.event)
      expect(events.filter((event) => event === 'rollback-started')).toHaveLength(1)
      expect(events.at(-1)).toBe('verified')
    })

    it('two cutovers started together: exactly one runs, the other is refused naming the holder', async () => {
      // Both wake for the same moment and run pre-flight together. The moment is set once both
      // have loaded: how long a process takes to start on a busy machine is no part of the test.
      const runners = [spawnRunner(request('cutover'), undefined, true), spawnRunner(request('cutover'), undefined, true)]
      await Promise.all(runners.map((r) => r.ready))
      const schedule = {at: new Date(Date.now() + 5000).toISOString(), prepare: '4s'}
      for (const r of runners) r.go({schedule})
      const [a, b] = await Promise.all(runners.map((r) => r.done))
      const outputs = [a.output, b.output]
      const winners = outputs.filter((output) => output && !('error' in output))
      const losers = outputs.filter((output) => output && 'error' in output)
      expect(winners).toHaveLength(1)
      expect(losers).toHaveLength(1)
      expect(losers[0]).toMatchObject({exitCode: 1})
      expect(String(losers[0]!.error)).toMatch(/another cutover holds the lock \(db 15 on .*\): cutover \d{8}-\d{6}-[0-9a-f]{4} by pid \d+/)
      expect(listPlanIds(stateDir)).toHaveLength(1)
      expect(loadPlan(stateDir).phase).toBe('switched')
      await expectStaged()
    })
  })
}
