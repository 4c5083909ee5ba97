// flip history, in process: results read from plans and journals (done, superseded, cancelled,
// rolled back, and the rollback itself), newest first, times with the zone's offset, and only
// the latest done cutover marked undoable. On the bundled engine.
import {rmSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cutover} from '../../src/cutover/cutover.js'
import {CutoverCancelledError} from '../../src/cutover/errors.js'
import {history, isoInZone} from '../../src/cutover/history.js'
import {rollback} from '../../src/cutover/rollback.js'
import {DBS, flushAll, prices, servers, stageLines, tempDir, writeStrings, type Server} from './support.js'

describe('flip history', () => {
  let server: Server
  let stateDir: string
  beforeAll(async () => {
    server = await servers[1].start()
    stateDir = tempDir('flip-history-')
    await flushAll(server.url)
    // Yesterday's catalog in live: the first cutover archives it, the second rotates it away.
    await writeStrings(server.url, DBS.live, Array.from({length: 20}, (_, i): [string, string] => [`price:${i}`, `old-${i}`]))
  })
  afterAll(async () => {
    await server?.stop()
    rmSync(stateDir, {recursive: true, force: true})
  })

  it('ISO times carry the zone’s offset', () => {
    const instant = Date.parse('2026-11-27T05:01:00Z')
    expect(isoInZone(instant, 'America/New_York')).toBe('2026-11-27T00:01:00-05:00')
    expect(isoInZone(instant, 'Asia/Kolkata')).toBe('2026-11-27T10:31:00+05:30')
    expect(isoInZone(instant, 'UTC')).toBe('2026-11-27T05:01:00+00:00')
  })

  it('lists cutovers and rollbacks newest first with their results, and which one rollback can undo', async () => {
    const base = {url: server.url, stateDir, dbs: DBS}
    expect((await history({stateDir})).entries).toEqual([])
    await stageLines(server.url, stateDir, prices(30, (i) => `a-${i}`))
    const first = await cutover(base)
    await stageLines(server.url, stateDir, prices(40, (i) => `b-${i}`))
    const second = await cutover(base)

    // A scheduled cutover cancelled before its moment (Ctrl-C): planned, then cancelled.
    await stageLines(server.url, stateDir, prices(50, (i) => `c-${i}`))
    const controller = new AbortController()
    const cancelled = cutover({
      ...base,
      schedule: {at: new Date(Date.now() + 600_000).toISOString(), prepare: '20m'},
      signal: controller.signal,
      onProgress: (event) => {
        if (event.phase === 'armed') controller.abort()
      },
    })
    await expect(cancelled).rejects.toBeInstanceOf(CutoverCancelledError)

    const listed = await history({stateDir, tz: 'Europe/Berlin'})
    expect(listed.tz).toBe('Europe/Berlin')
    expect(listed.entries.map((entry) => [entry.kind, entry.result, entry.canUndo])).toEqual([
      ['cutover', 'cancelled', false],
      ['cutover', 'done', true],
      ['cutover', 'superseded', false],
    ])
    expect(listed.entries[1]).toMatchObject({planId: second.planId, keys: 40, strategy: 'move', mode: 'replace', rollbackCommand: second.rollbackCommand, driftMs: null})
    expect(listed.entries[2]).toMatchObject({planId: first.planId, supersededBy: second.planId})
    expect(listed.entries[0]).toMatchObject({scheduleKind: 'at', keys: null, detail: expect.stringMatching(/^cancelled/)})
    expect(listed.entries[1].at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?\+0[12]:00$/)
    expect(listed.entries[1].durationMs).toBeGreaterThanOrEqual(0)

    await rollback({...base, discardShadow: true})
    const after = await history({stateDir, limit: 3})
    expect(after.total).toBe(4)
    expect(after.entries.map((entry) => [entry.kind, entry.planId, entry.result, entry.canUndo])).toEqual([
      ['rollback', second.planId, 'done', false],
      ['cutover', listed.entries[0].planId, 'cancelled', false],
      ['cutover', second.planId, 'rolled back', false],
    ])
    // The first cutover's archive was rotated away by the second: it stays superseded.
    expect((await history({stateDir})).entries[3]).toMatchObject({planId: first.planId, result: 'superseded', canUndo: false})
  })
})
