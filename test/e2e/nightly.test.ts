// Issue 10 acceptance: the scheduled switch nobody watches, three nights in a row. `flip init
// --with cron` in a fresh project, then each night a different catalog is staged with
// `--replace` and the exact cutover command line of the generated crontab runs (its schedule
// replaced by an --at a few seconds ahead; the line's --not-after still lets a late start fire,
// so a slow machine cannot make it miss). Every night switches; `flip history` shows the three
// cutovers with only the last undoable; `flip rollback` brings night 2 back, night 1 is refused
// as superseded. On the bundled engine (cluster, move: archive rotation) and on redis-server
// standalone (swapdb: the old live goes to the shadow, which the next stage --replace empties).
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {catalog, flip, liveSummary, shellWords, withAt} from '../support/cli-run.js'
import {startTestEngine} from '../support/engine.js'
import {hasRedisServer, startRedisServer} from '../support/redis-server.js'

/**
 * The flip arguments of the crontab's job line: after the five time fields, `cd … && flock …`
 * and the launcher (npx …), from the `cutover` word to the output redirection.
 */
function cutoverArgsFromCrontab(crontab: string): string[] {
  const job = crontab.split('\n').find((line) => line.trim() !== '' && !line.startsWith('#') && !/^[A-Z_]+=/.test(line))
  expect(job).toBeDefined()
  const words = shellWords(job!)
  expect(words.slice(5, 7)[0]).toBe('cd')
  expect(words).toContain('flock')
  const start = words.indexOf('cutover')
  const end = words.findIndex((word, i) => i > start && /^(>>?|\d>&\d|\||&&|;)$/.test(word))
  return words.slice(start, end === -1 ? undefined : end)
}

const targets = [
  {
    name: 'bundled engine (cluster, move with archive rotation)',
    strategy: 'move',
    async start() {
      const engine = await startTestEngine()
      return {url: engine.seedUrl, stop: () => engine.stop()}
    },
  },
  {
    name: 'redis-server standalone (swapdb)',
    strategy: 'swapdb',
    skip: !hasRedisServer(),
    async start() {
      const server = await startRedisServer()
      return {url: server.url, stop: () => server.stop()}
    },
  },
]

for (const target of targets) {
  describe.skipIf(target.skip === true)(`three scheduled nights on ${target.name}`, () => {
    let server: {url: string; stop(): Promise<void>}
    let dir: string

    beforeAll(async () => {
      server = await target.start()
      dir = mkdtempSync(join(tmpdir(), 'flip-nightly-'))
    }, 120_000)
    afterAll(async () => {
      await server?.stop()
      if (dir) rmSync(dir, {recursive: true, force: true})
    })

    it('flip init --with cron; each night stage --replace and the crontab’s cutover line switch; history and rollback agree', async () => {
      const init = await flip(dir, ['init', '--with', 'cron', '--url', server.url])
      expect(init.code, init.stderr).toBe(0)
      const crontab = readFileSync(join(dir, 'deploy/cron/flip-cutover.crontab'), 'utf8')
      const args = cutoverArgsFromCrontab(crontab)
      expect(args).toEqual(expect.arrayContaining(['cutover', '--yes', '--cron', '--json', '--not-after']))
      mkdirSync(join(dir, 'data'), {recursive: true})

      const plans: string[] = []
      const manifests: string[] = []
      const lives: Array<{keys: number; checksum: string}> = []
      const discarded: unknown[] = []
      for (const n of [1, 2, 3]) {
        writeFileSync(join(dir, 'data', `prices-night${n}.ndjson`), catalog(n))
        const staged = await flip(dir, ['stage', `data/prices-night${n}.ndjson`, '--replace', '--json'])
        expect(staged.code, staged.stdout + staged.stderr).toBe(0)
        const manifest = JSON.parse(staged.stdout) as {id: string; keys: number; checksum: string}
        // A few seconds ahead; started late on a busy machine, the line's --not-after still fires it.
        const cut = await flip(dir, withAt(args, new Date(Date.now() + 3000)))
        expect(cut.code, `night ${n}: ${cut.stdout}${cut.stderr}`).toBe(0)
        const result = JSON.parse(cut.stdout)
        expect(result).toMatchObject({strategy: target.strategy, keysSwitched: manifest.keys, verified: {ok: true}})
        const live = await liveSummary(server.url)
        expect(live).toEqual({keys: manifest.keys, checksum: manifest.checksum})
        plans.push(result.planId)
        manifests.push(manifest.id)
        lives.push(live)
        discarded.push(result.archiveDiscarded)
      }
      // Live was empty before night 1, so the archive first holds data after night 2: night 3 rotates it.
      if (target.strategy === 'move') expect(discarded).toEqual([null, null, expect.objectContaining({planId: plans[1], keys: lives[0].keys})])
      else expect(discarded).toEqual([null, null, null])

      const listed = await flip(dir, ['history', '--json'])
      expect(listed.code, listed.stderr).toBe(0)
      const cutovers = (JSON.parse(listed.stdout).entries as Array<Record<string, unknown>>).filter((entry) => entry.kind === 'cutover')
      expect(cutovers.map((entry) => entry.planId)).toEqual([...plans].reverse())
      expect(cutovers.map((entry) => entry.result)).toEqual(['done', 'superseded', 'superseded'])
      expect(cutovers.map((entry) => entry.canUndo)).toEqual([true, false, false])
      expect(cutovers.map((entry) => entry.manifest)).toEqual([...manifests].reverse())
      expect(cutovers[0]).toMatchObject({strategy: target.strategy, mode: 'replace', scheduleKind: 'at', keys: lives[2].keys})
      expect(cutovers[0].at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?[+-]\d\d:\d\d$/)

      const undone = await flip(dir, ['rollback', '--yes', '--json'])
      expect(undone.code, undone.stdout + undone.stderr).toBe(0)
      expect(JSON.parse(undone.stdout)).toMatchObject({planId: plans[2], verified: {ok: true}})
      expect(await liveSummary(server.url)).toEqual(lives[1])

      const refused = await flip(dir, ['rollback', plans[0], '--yes'])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(new RegExp(`cannot roll back plan ${plans[0]}: .*superseded`))
      if (target.strategy === 'move') {
        // Night 2's rollback data (night 1's catalog) went with night 3's rotation.
        const gone = await flip(dir, ['rollback', plans[1], '--yes'])
        expect(gone.code).toBe(1)
        expect(gone.stderr).toMatch(new RegExp(`cannot roll back plan ${plans[1]}: it was superseded by plan ${plans[2]}, whose archive discard removed its rollback data`))
      }
      expect(await liveSummary(server.url)).toEqual(lives[1])

      const after = JSON.parse((await flip(dir, ['history', '--json', '--limit', '2'])).stdout)
      expect(after.entries).toHaveLength(2)
      expect(after.entries[0]).toMatchObject({kind: 'rollback', planId: plans[2], result: 'done', keys: lives[1].keys})
      expect(after.entries[1]).toMatchObject({kind: 'cutover', planId: plans[2], result: 'rolled back', canUndo: false})
    }, 600_000) // about fifteen CLI runs; a loaded 2-core machine may take minutes
  })
}
