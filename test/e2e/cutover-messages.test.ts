// Issue 9, what the CLI says around a cutover (built bin/run.js against the bundled engine):
// the dry run and the prompt count the live keys that leave live; status says a shadow's
// manifest was cut over (not that it "differs"); a rollback that cannot be undone is refused
// by name; --resume of a finished plan is "already done"; an unfinished stage is named;
// --lock-db may not be a role db.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname

let engine: TestEngine
let dir: string

function flip(args: string[]) {
  const result = spawnSync(process.execPath, [runJs, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: {...process.env, FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: engine.seedUrl, CI: 'true', NO_COLOR: '1'},
    timeout: 60_000,
  })
  return {code: result.status, stdout: result.stdout, stderr: result.stderr}
}

function catalog(name: string, count: number, value: string): void {
  const lines = Array.from({length: count}, (_, i) => JSON.stringify({key: `price:${i}`, value: `${value}-${i}`}))
  writeFileSync(join(dir, name), lines.join('\n') + '\n')
}

beforeAll(async () => {
  engine = await startTestEngine()
  dir = mkdtempSync(join(tmpdir(), 'flip-cutover-messages-'))
  catalog('monday.ndjson', 500, 'mon')
  catalog('tuesday.ndjson', 300, 'tue')
  // The bad record lies past the first 64 KB read, so the stage has started (and left an incomplete manifest) when it meets it.
  const good = Array.from({length: 3000}, (_, i) => JSON.stringify({key: `a:${i}`, value: '1'})).join('\n')
  writeFileSync(join(dir, 'broken.ndjson'), `${good}\n{"key": "b", "type": "sett", "value": []}\n`)
})

afterAll(async () => {
  await engine?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('cutover and rollback messages', () => {
  let planId: string

  it('status after a cutover says the shadow’s manifest was cut over by its plan', () => {
    expect(flip(['stage', 'monday.ndjson']).code).toBe(0)
    const cut = flip(['cutover', '--yes', '--json'])
    expect(cut.code).toBe(0)
    const result = JSON.parse(cut.stdout)
    planId = result.planId
    const manifest = result.summary.manifest.id
    const status = flip(['status'])
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(new RegExp(`db 1 \\(shadow\\): 0 keys .*manifest ${manifest} cut over to live db 0 by plan ${planId}\n`))
    expect(status.stdout).not.toMatch(/differs/)
    const json = JSON.parse(flip(['status', '--json']).stdout)
    expect(json.dbs.find((db: {db: number}) => db.db === 1)).toMatchObject({matchesManifest: false, cutOver: {planId, liveDb: 0}})
  })

  it('the dry run says how many live keys would leave live, and where they go', () => {
    expect(flip(['stage', 'tuesday.ndjson']).code).toBe(0)
    const dry = flip(['cutover', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(/dry run: would switch 300 keys from db 1 into live db 0 and move its 500 current keys to archive db 2, removing them from live \(move, replace\)/)
    const json = JSON.parse(flip(['cutover', '--dry-run', '--json']).stdout)
    expect(json.summary).toMatchObject({live: {keys: 500}, liveKeysToArchive: 500, archiveDb: 2})
  })

  it('refuses to roll back into a re-staged shadow, exit 1, and --resume of the finished plan is already done', () => {
    const back = flip(['rollback', '--yes'])
    expect(back.code).toBe(1)
    expect(back.stderr).toMatch(new RegExp(`cannot roll back plan ${planId}: shadow db 1 is not empty \\(300 keys\\).*pass --discard-shadow.*nothing was changed`))
    const resumed = flip(['cutover', '--resume', planId, '--yes'])
    expect(resumed.code).toBe(0)
    expect(resumed.stdout).toContain(`cutover ${planId} already done`)
    const status = JSON.parse(flip(['status', '--json']).stdout)
    expect(status.dbs.find((db: {db: number}) => db.db === 0).keys).toBe(500)
    expect(status.dbs.find((db: {db: number}) => db.db === 1).keys).toBe(300)
  })

  it('--lock-db equal to a role db is a usage error (exit 2)', () => {
    const cut = flip(['cutover', '--dry-run', '--lock-db', '0'])
    expect(cut.code).toBe(2)
    expect(cut.stderr).toMatch(/--lock-db 0 is the live db/)
    const back = flip(['rollback', '--yes', '--lock-db', '2'])
    expect(back.code).toBe(2)
    expect(back.stderr).toMatch(/--lock-db 2 is the archive db/)
  })

  it('after an unfinished stage the cutover refusal names that stage’s manifest', () => {
    const staged = flip(['stage', 'broken.ndjson', '--replace', '--json'])
    expect(staged.code).not.toBe(0)
    const manifests = JSON.parse(flip(['status', '--json']).stdout).dbs.find((db: {db: number}) => db.db === 1).manifest
    expect(manifests.complete).toBe(false)
    const dry = flip(['cutover', '--dry-run'])
    expect(dry.code).toBe(1)
    expect(dry.stderr).toContain(`the newest manifest of shadow db 1, ${manifests.id}, is incomplete`)
    expect(dry.stderr).toMatch(/stage it again/)
  })
})
