// Ctrl-C and SIGTERM as a user at a terminal sends them: the built CLI runs on a real
// pseudo-terminal (test/support/pty.ts) with a size and no CI variable, so the spinner shows,
// and the ^C byte is typed on that terminal. Each case waits for a line on the terminal before
// interrupting (never a fixed sleep), then checks the exit code, the one-line message, what
// the manifest or plan says, that the lock is free again and that live did not change.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {flipInPty, hasScript, type PtyRun} from '../support/pty.js'
import {connectPlane} from '../../src/plane/plane.js'
import {LOCK_KEY} from '../../src/cutover/lock.js'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname

let engine: TestEngine
let dir: string
const runs: PtyRun[] = []

/** Not on a terminal (plain output), for the setup and the checks afterwards. */
function flip(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [runJs, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: {...process.env, FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: engine.seedUrl, CI: 'true', FLIP_MAX_REMOVED: 'off', ...env},
    timeout: 180_000,
  })
  return {code: result.status, stdout: result.stdout, stderr: result.stderr}
}

function flipOnTerminal(args: string[]): PtyRun {
  // Live holds keys the datasets lack: the removal guard is not what these tests are about.
  const run = flipInPty(args, {cwd: dir, env: {FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: engine.seedUrl, FLIP_MAX_REMOVED: 'off'}})
  runs.push(run)
  return run
}

function keysIn(db: number): number {
  const status = JSON.parse(flip(['status', '--json']).stdout) as {dbs: Array<{db: number; keys: number}>}
  return status.dbs.find((d) => d.db === db)?.keys ?? 0
}

function manifests(): Array<{id: string; db: number; complete: boolean; failure: string | null}> {
  const where = join(dir, 'state', 'manifests')
  return readdirSync(where)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(where, name), 'utf8')))
}

function plans(): string[] {
  try {
    return readdirSync(join(dir, 'state', 'plans')).filter((name) => name.endsWith('.json'))
  } catch {
    return []
  }
}

function journalOf(plan: string): Array<{event: string; message?: string}> {
  const path = join(dir, 'state', 'plans', plan.replace(/\.json$/, '.journal'))
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
}

/** The lock is free: a dry run takes (and gives back) the same lock key. */
function expectLockFree(): void {
  const dry = flip(['cutover', '--dry-run', '--shadow', '5', '--archive', '6'])
  expect(dry.stderr + dry.stdout).not.toMatch(/holds the lock/)
  expect(dry.code).toBe(0)
}

function ndjson(count: number, prefix: string): string {
  let text = ''
  for (let i = 0; i < count; i++) text += `{"key":"${prefix}:${i}","value":"${(i % 997) / 10}"}\n`
  return text
}

const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString()


beforeAll(async () => {
  engine = await startTestEngine()
  dir = mkdtempSync(join(tmpdir(), 'flip-interrupt-'))
  // A big dataset in the shadow (db 1) for verify and pre-flight, a small one in db 5 for the
  // scheduled cutovers, and live (db 0) with keys of its own, which must never change here.
  writeFileSync(join(dir, 'big.ndjson'), ndjson(300_000, 'big'))
  // Big enough that staging it takes seconds even on a fast machine: Ctrl-C comes well before the end.
  writeFileSync(join(dir, 'huge.ndjson'), ndjson(1_000_000, 'huge'))
  writeFileSync(join(dir, 'small.ndjson'), ndjson(200, 'small'))
  writeFileSync(join(dir, 'live.ndjson'), ndjson(100, 'old'))
  for (const [file, db] of [['big.ndjson', 1], ['small.ndjson', 5], ['live.ndjson', 3]] as const) {
    const staged = flip(['stage', file, '--shadow', String(db)])
    expect(staged.code, staged.stderr).toBe(0)
  }
  // Live gets its keys by a real cutover of db 3 (archive 4).
  const first = flip(['cutover', '--shadow', '3', '--archive', '4', '--yes'])
  expect(first.code, first.stderr).toBe(0)
  expect(keysIn(0)).toBe(100)
}, 300_000)

afterAll(async () => {
  await engine?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

// Generous per-test limits: a loaded 2-core machine runs these several times slower.
describe.skipIf(!hasScript())('Ctrl-C and SIGTERM on a terminal', {timeout: 240_000}, () => {
  afterEach(() => {
    for (const run of runs.splice(0)) run.kill()
  })

  for (const how of ['Ctrl-C', 'SIGTERM'] as const) {
    it(`stage: ${how} while the spinner shows stops it, marks the manifest interrupted, exits 130`, async () => {
      const db = how === 'Ctrl-C' ? 7 : 8
      const run = flipOnTerminal(['stage', 'huge.ndjson', '--shadow', String(db), '--replace'])
      await run.waitFor(new RegExp(`Staging into db ${db}: [1-9][\\d,]* keys`))
      expect(run.text).toMatch(SPINNER)
      if (how === 'Ctrl-C') run.type('\x03')
      else process.kill(await run.pid(), 'SIGTERM')
      expect(await run.exited(30_000), run.text).toBe(130)
      expect(run.text).toMatch(new RegExp(`Error: stage interrupted \\(${how}\\) after [\\d,]+ keys: shadow db ${db} is incomplete \\(manifest \\S+ marked incomplete\\)`))
      expect(run.text).not.toMatch(/✓ staged/)
      expect(manifests().find((m) => m.db === db)).toMatchObject({complete: false, failure: 'interrupted'})
    })
  }

  it('verify: Ctrl-C stops it with exit 130 and one line', async () => {
    const run = flipOnTerminal(['verify', '--db', '1', '--manifest', manifests().find((m) => m.db === 1 && m.complete)!.id])
    await run.waitFor(/Verifying \([\w ]+\): [1-9][\d,]* /)
    expect(run.text).toMatch(SPINNER)
    run.type('\x03')
    expect(await run.exited(30_000), run.text).toBe(130)
    expect(run.text).toMatch(/Error: verify interrupted \(Ctrl-C\) after [\d,]+ keys read; nothing was changed/)
    expect(run.text.match(/Error:/g)).toHaveLength(1)
  })

  it('verify --json: Ctrl-C prints the one document, {"error": {"code": 130}}', async () => {
    const run = flipOnTerminal(['verify', '--db', '1', '--manifest', manifests().find((m) => m.db === 1 && m.complete)!.id, '--json'])
    await run.waitFor(/Verifying \([\w ]+\): [1-9][\d,]* /)
    run.type('\x03')
    expect(await run.exited(30_000), run.text).toBe(130)
    const start = run.text.indexOf('{\n  "error"')
    expect(start, run.text).toBeGreaterThanOrEqual(0)
    expect(JSON.parse(run.text.slice(start))).toEqual({error: {code: 130, message: expect.stringMatching(/^verify interrupted \(Ctrl-C\)/)}})
  })

  it('cutover: Ctrl-C during pre-flight cancels; nothing changed, lock freed, no plan', async () => {
    const before = plans().length
    const run = flipOnTerminal(['cutover', '--yes'])
    await run.waitFor(/Pre-flight: verifying shadow \([1-9]/)
    run.type('\x03')
    expect(await run.exited(30_000), run.text).toBe(130)
    expect(run.text).toMatch(/Error: cancelled before the switch: nothing changed/)
    expect(plans().length).toBe(before)
    expect(keysIn(0)).toBe(100)
    expect(keysIn(1)).toBe(300_000)
    expectLockFree()
  })

  it('cutover: Ctrl-C at the confirmation prompt cancels; nothing changed', async () => {
    const before = plans().length
    const run = flipOnTerminal(['cutover', '--shadow', '5', '--archive', '6'])
    await run.waitFor(/Switch 200 staged keys .* \[y\/N\]/)
    run.type('\x03')
    expect(await run.exited(30_000), run.text).toBe(130)
    expect(run.text).toMatch(/Error: cancelled before the switch: nothing changed/)
    expect(plans().length).toBe(before)
    expect(keysIn(0)).toBe(100)
    expectLockFree()
  })

  it('rollback: Ctrl-C at the confirmation prompt cancels before any change; nothing changed, lock freed', async () => {
    const run = flipOnTerminal(['rollback'])
    await run.waitFor(/Roll back plan \S+ \(switched\) .* \[y\/N\]/)
    run.type('\x03')
    expect(await run.exited(30_000), run.text).toBe(130)
    expect(run.text).toMatch(/Error: rollback cancelled \(Ctrl-C\) before any change: nothing changed/)
    expect(keysIn(0)).toBe(100)
    expectLockFree()
  })

  it('diff: Ctrl-C stops it with exit 130 and one line', async () => {
    const run = flipOnTerminal(['diff'])
    await run.waitFor(/Comparing \([\w ]+\): [1-9][\d,]* /)
    run.type('\x03')
    expect(await run.exited(30_000), run.text).toBe(130)
    expect(run.text).toMatch(/Error: diff interrupted \(Ctrl-C\); nothing was changed/)
    expect(run.text.match(/Error:/g)).toHaveLength(1)
  })

  it('demo: Ctrl-C stops the step that runs, then its engine, and removes its state directory', async () => {
    const run = flipOnTerminal(['demo'])
    const [, stateDir] = await run.waitFor(/# flip demo — state in (\S+)/)
    await run.waitFor(/\$ flip stage /)
    run.type('\x03')
    expect(await run.exited(120_000), run.text).toBe(130)
    expect(run.text).toMatch(/Error: demo interrupted \(Ctrl-C\): its engine was stopped and its state directory removed/)
    expect(run.text).toMatch(/\$ flip engine stop/)
    expect(existsSync(stateDir)).toBe(false)
  })

  it('cutover --at: Ctrl-C in the countdown to pre-flight cancels, and the countdown says what it counts to, in the zone given', async () => {
    const before = plans().length
    const run = flipOnTerminal(['cutover', '--shadow', '5', '--archive', '6', '--yes', '--at', inSeconds(600), '--prepare', '300s', '--tz', 'Europe/Berlin'])
    const line = await run.waitFor(/Pre-flight at (\S+ \S+ \S+ \(Europe\/Berlin\)) \(cutover at (\S+ \S+ \S+ \(Europe\/Berlin\))\) — in \d/)
    expect(line[1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0[12]:00 \(Europe\/Berlin\)$/)
    run.type('\x03')
    expect(await run.exited(30_000), run.text).toBe(130)
    expect(run.text).toMatch(/Error: cancelled before the switch: nothing changed/)
    expect(plans().length).toBe(before)
    expect(keysIn(0)).toBe(100)
    expectLockFree()
  })

  for (const how of ['Ctrl-C', 'SIGTERM'] as const) {
    it(`cutover --at: ${how} in the countdown after pre-flight cancels; the lock is freed and the plan journaled as cancelled`, async () => {
      const before = new Set(plans())
      const run = flipOnTerminal(['cutover', '--shadow', '5', '--archive', '6', '--yes', '--at', inSeconds(600), '--prepare', '700s'])
      await run.waitFor(/rollback plan written/)
      await run.waitFor(/Cutover at .* — in \d/)
      if (how === 'Ctrl-C') run.type('\x03')
      else process.kill(await run.pid(), 'SIGTERM')
      expect(await run.exited(30_000), run.text).toBe(130)
      expect(run.text).toMatch(/Error: cancelled before the switch: nothing changed/)
      const plan = plans().find((name) => !before.has(name))!
      expect(journalOf(plan).at(-1)).toMatchObject({event: 'failed', message: 'cancelled before the switch: nothing changed'})
      expect(journalOf(plan).some((entry) => entry.event === 'switch-started')).toBe(false)
      expect(keysIn(0)).toBe(100)
      expect(keysIn(5)).toBe(200)
      expectLockFree()
    })
  }

  it('cutover --at: a lock lost during the countdown stops it before the switch, exit 1, nothing changed', async () => {
    const before = new Set(plans())
    const run = flipOnTerminal(['cutover', '--shadow', '5', '--archive', '6', '--yes', '--at', inSeconds(600), '--prepare', '700s'])
    await run.waitFor(/rollback plan written/)
    await run.waitFor(/Cutover at .* — in \d/)
    // Someone else's lock now (as if ours expired and another run took it).
    const planes = await connectPlane({url: engine.seedUrl, db: 15})
    try {
      const node = planes.nodeForKey(LOCK_KEY)
      const connection = await planes.dedicated(node, {db: 15})
      expect(await connection.call(['SET', LOCK_KEY, JSON.stringify({owner: 'intruder', host: 'elsewhere', pid: 1, purpose: 'a test', since: new Date().toISOString()}), 'PX', 60_000])).toBe('OK')
      // The renewal (every 10 s) notices.
      expect(await run.exited(60_000), run.text).toBe(1)
      expect(run.text).toMatch(/Error: lost the cutover lock \(db 15 on [^)]+\): it was no longer ours when renewed .*; stopped before the switch: nothing changed/)
      const plan = plans().find((name) => !before.has(name))!
      expect(journalOf(plan).at(-1)).toMatchObject({event: 'failed'})
      expect(keysIn(0)).toBe(100)
      expect(keysIn(5)).toBe(200)
      await connection.call(['DEL', LOCK_KEY])
      await connection.close()
    } finally {
      await planes.close()
    }
  })

  it('cutover: during the switch the first Ctrl-C is acknowledged, the second stops after the batch in flight; --resume finishes it', async () => {
    writeFileSync(join(dir, 'switch.ndjson'), ndjson(60_000, 'switch'))
    expect(flip(['stage', 'switch.ndjson', '--shadow', '9']).code).toBe(0)
    const run = flipInPty(['cutover', '--live', '10', '--shadow', '9', '--archive', '11', '--yes'], {
      cwd: dir,
      env: {FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: engine.seedUrl, FLIP_TEST_HOLD_SWITCH: '1'},
    })
    runs.push(run)
    await run.waitFor(/Switching: [1-9][\d,]* keys/)
    run.type('\x03')
    await run.waitFor(/the switch is in progress and will finish/)
    run.type('\x03')
    expect(await run.exited(60_000), run.text).toBe(130)
    const message = /Error: cutover (\S+) interrupted \(Ctrl-C\): the switch stopped after the batch in flight; live is partly switched and the journal is up to date: finish with: flip cutover --resume \1 .*--yes, or undo with: flip rollback \1 .*--yes/.exec(run.text)
    expect(message, run.text).not.toBeNull()
    const live = keysIn(10)
    expect(live).toBeGreaterThan(0)
    expect(live).toBeLessThan(60_000)
    const resumed = flip(['cutover', '--resume', message![1], '--yes'])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(keysIn(10)).toBe(60_000)
    expect(keysIn(9)).toBe(0)
  })
})

describe('times in the zone given', {timeout: 120_000}, () => {
  it('prints --at in the --tz zone with its offset, and --json carries ISO-8601 with that offset', () => {
    const human = flip(['cutover', '--dry-run', '--shadow', '5', '--archive', '6', '--at', '17:07:47', '--tz', 'Europe/Berlin'])
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/at \d{4}-\d{2}-\d{2} 17:07:47 \+0[12]:00 \(Europe\/Berlin\); nothing changed/)
    const json = flip(['cutover', '--dry-run', '--shadow', '5', '--archive', '6', '--at', '17:07:47', '--tz', 'Europe/Berlin', '--json'])
    expect(json.code, json.stderr).toBe(0)
    const result = JSON.parse(json.stdout)
    expect(result.summary.schedule.scheduledAt).toMatch(/^\d{4}-\d{2}-\d{2}T17:07:47\.000\+0[12]:00$/)
    expect(result.scheduledAt).toBe(result.summary.schedule.scheduledAt)
    expect(Date.parse(result.scheduledAt)).toBeGreaterThan(Date.now())
  })
})
