// Issue 10, the guards through the built CLI (bin/run.js) against the bundled engine: the default
// guards refuse a catalog of 0.00 prices and a half-missing catalog (exit 1, the numbers, the
// offending keys, nothing changed, the full evaluation under --json); each flag and `off`;
// --no-guards; flip.config.json keys and env, with flag > env > flip.config.json > default; the
// dry run and a passing cutover report the guards.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {summary} from '../../src/cutover/state.js'
import {scanDb} from '../../src/ops/db-checksum.js'
import {connectPlane} from '../../src/plane/plane.js'
import {startTestEngine, type TestEngine} from '../support/engine.js'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname
// Each case runs the CLI several times: generous on a busy 2-core machine.
const SLOW = 240_000
const PRICE = (i: number) => (10 + i).toFixed(2)

let engine: TestEngine
let dir: string

function flip(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [runJs, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: {...process.env, FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: engine.seedUrl, CI: 'true', NO_COLOR: '1', ...env},
    timeout: 60_000,
  })
  return {code: result.status, stdout: result.stdout, stderr: result.stderr}
}

function catalog(name: string, count: number, value: (i: number) => string): void {
  const lines = Array.from({length: count}, (_, i) => JSON.stringify({key: `price:${i}`, value: value(i)}))
  writeFileSync(join(dir, name), lines.join('\n') + '\n')
}

async function live() {
  const plane = await connectPlane({url: engine.seedUrl, db: 0})
  try {
    return summary((await scanDb(plane)).checksum)
  } finally {
    await plane.close()
  }
}

const plans = () => (existsSync(join(dir, 'state', 'plans')) ? readdirSync(join(dir, 'state', 'plans')).filter((f) => f.endsWith('.json')) : [])

beforeAll(async () => {
  engine = await startTestEngine()
  dir = mkdtempSync(join(tmpdir(), 'flip-guards-e2e-'))
  catalog('monday.ndjson', 200, PRICE)
  catalog('zero.ndjson', 200, () => '0.00')
  catalog('half.ndjson', 90, PRICE)
  // 10 keys fewer; 20 prices down 20 %, 10 up 50 %.
  catalog('tuesday.ndjson', 190, (i) => (i < 20 ? (Number(PRICE(i)) * 0.8).toFixed(2) : i < 30 ? (Number(PRICE(i)) * 1.5).toFixed(2) : PRICE(i)))
})

afterAll(async () => {
  await engine?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

afterEach(() => {
  rmSync(join(dir, 'flip.config.json'), {force: true})
})

describe('cutover guards (CLI)', () => {
  it('the first night (live empty) passes the default guards, and the result names them', () => {
    expect(flip(['stage', 'monday.ndjson']).code).toBe(0)
    const cut = flip(['cutover', '--yes'])
    expect(cut.code).toBe(0)
    expect(cut.stdout).toContain('guards ok: max-removed (live is empty: nothing to compare), max-drop 0 % ≤ 90 %; off: min-keys, max-changed, max-rise\n')
  })

  it('a catalog with every price at 0.00 is refused by the default guards: exit 1, the numbers and the keys, nothing changed', async () => {
    const before = await live()
    const plansBefore = plans()
    expect(flip(['stage', 'zero.ndjson', '--replace']).code).toBe(0)

    const refused = flip(['cutover', '--yes'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toContain(
      'Error: refused by --max-drop: 200 numeric values would drop by more than 90 % (largest 100 %: price:0 10.00 → 0.00); --max-drop is 90 %; nothing was changed\n',
    )
    expect(refused.stderr).toContain('  REFUSED --max-drop: 200 numeric values')
    expect(refused.stderr).toContain('      price:0: 10.00 → 0.00 (-100 %)\n')
    expect(refused.stderr).toContain('      price:107: 117.00 → 0.00 (-100 %)\n') // 20 keys named, by key
    expect(refused.stderr).toContain('      … and 180 more\n')
    expect(refused.stderr).toContain('  ok --max-removed: 0 of 200 live keys (0 %) would be removed; --max-removed is 50 %\n')

    const json = flip(['cutover', '--yes', '--json'])
    expect(json.code).toBe(1)
    const doc = JSON.parse(json.stdout)
    expect(doc.error).toEqual({code: 1, message: expect.stringMatching(/^refused by --max-drop: 200 numeric values/)})
    expect(doc.guards.map((g: {name: string; ok: boolean}) => [g.name, g.ok])).toEqual([
      ['min-keys', true],
      ['max-removed', true],
      ['max-changed', true],
      ['max-drop', false],
      ['max-rise', true],
    ])
    const drop = doc.guards.find((g: {name: string}) => g.name === 'max-drop')
    expect(drop).toMatchObject({limit: '90%', actual: 100, unit: '%', count: 200, ok: false})
    expect(drop.offending).toHaveLength(20)
    expect(drop.offending[0]).toEqual({key: 'price:0', before: '10.00', after: '0.00', changePct: -100})

    expect(await live()).toEqual(before)
    expect(plans()).toEqual(plansBefore)
  })

  it('a catalog missing more than half the live keys is refused by the default --max-removed', async () => {
    const before = await live()
    expect(flip(['stage', 'half.ndjson', '--replace']).code).toBe(0)
    const refused = flip(['cutover', '--yes'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('Error: refused by --max-removed: 110 of 200 live keys (55 %) would be removed; --max-removed is 50 %; nothing was changed\n')
    expect(refused.stderr).toContain('      price:100\n')
    expect(await live()).toEqual(before)
  })

  it('each flag refuses past its limit, passes within it, and can be turned off; --no-guards turns all off', () => {
    expect(flip(['stage', 'tuesday.ndjson', '--replace']).code).toBe(0)
    const cases: Array<[string[], number, string]> = [
      [['--min-keys', '191'], 1, 'refused by --min-keys: the dataset has 190 keys; --min-keys is 191'],
      [['--min-keys', '190'], 0, 'min-keys 190 ≥ 190'],
      [['--max-removed', '9'], 1, 'refused by --max-removed: 10 of 200 live keys (5 %) would be removed; --max-removed is 9'],
      [['--max-removed', '10'], 0, 'max-removed 10 ≤ 10'],
      [['--max-removed', '4%'], 1, '(5 %) would be removed; --max-removed is 4 %'],
      [['--max-changed', '10%'], 1, 'refused by --max-changed: 30 of 200 live keys (15 %) would change; --max-changed is 10 %'],
      [['--max-changed', '30'], 0, 'max-changed 30 ≤ 30'],
      [['--max-drop', '19%'], 1, 'refused by --max-drop: 20 numeric values would drop by more than 19 %'],
      [['--max-drop', '21'], 0, 'max-drop 20 % ≤ 21 %'],
      [['--max-rise', '49%'], 1, 'refused by --max-rise: 10 numeric values would rise by more than 49 %'],
      [['--max-rise', '51%', '--guard-field', 'price'], 0, 'max-rise 50 % ≤ 51 %'],
      [['--max-drop', '19%', '--max-rise', '49%'], 1, 'refused by --max-drop, --max-rise: 20 numeric values'],
      [['--max-drop', 'off', '--max-removed', 'off'], 0, 'guards: all off\n'],
      [['--no-guards'], 0, 'guards: all off\n'],
    ]
    for (const [flags, code, text] of cases) {
      const run = flip(['cutover', '--dry-run', ...flags])
      expect({flags, code: run.code}).toEqual({flags, code})
      expect(code === 0 ? run.stdout : run.stderr).toContain(text)
    }
    const bad = flip(['cutover', '--dry-run', '--max-removed', 'half'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--max-removed: expected a number of keys or a percent of live (5000 or 50%) or off, got "half"')
    const both = flip(['cutover', '--dry-run', '--no-guards', '--max-drop', '5%'])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('Error: --no-guards turns every guard off: drop --max-drop, or set the others to off instead')
  }, SLOW)

  it('a dry run reports the guards (passing: one line; --json: every guard)', () => {
    expect(flip(['stage', 'tuesday.ndjson', '--replace']).code).toBe(0)
    const dry = flip(['cutover', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(/^guards ok: max-removed 5 % ≤ 50 %, max-drop 20 % ≤ 90 %; off: min-keys, max-changed, max-rise\ndry run: /)
    const json = JSON.parse(flip(['cutover', '--dry-run', '--json']).stdout)
    expect(json.dryRun).toBe(true)
    expect(json.guards.find((g: {name: string}) => g.name === 'max-removed')).toEqual({
      name: 'max-removed',
      limit: '50%',
      actual: 5,
      unit: '%',
      count: 10,
      of: 200,
      ok: true,
      message: '10 of 200 live keys (5 %) would be removed; --max-removed is 50 %',
      offending: [],
    })
  })

  it('flip.config.json keys set the guards; env overrides the file and a flag overrides both; a bad value names the file', () => {
    expect(flip(['stage', 'zero.ndjson', '--replace']).code).toBe(0)
    writeFileSync(join(dir, 'flip.config.json'), JSON.stringify({maxDrop: 'off', maxRemoved: '10%'}))
    expect(flip(['cutover', '--dry-run']).stdout).toContain('guards ok: max-removed 0 % ≤ 10 %; off: min-keys, max-changed, max-drop, max-rise')
    expect(flip(['cutover', '--dry-run'], {FLIP_MAX_DROP: '90%'}).code).toBe(1)
    expect(flip(['cutover', '--dry-run', '--max-drop', 'off'], {FLIP_MAX_DROP: '90%'}).code).toBe(0)
    expect(flip(['cutover', '--dry-run', '--max-drop', '90%']).code).toBe(1)

    writeFileSync(join(dir, 'flip.config.json'), JSON.stringify({minKeys: 201}))
    const few = flip(['cutover', '--dry-run', '--max-drop', 'off'])
    expect(few.code).toBe(1)
    expect(few.stderr).toContain('refused by --min-keys: the dataset has 200 keys; --min-keys is 201')

    writeFileSync(join(dir, 'flip.config.json'), JSON.stringify({maxRemoved: 'half'}))
    const bad = flip(['cutover', '--dry-run'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/flip\.config\.json: "maxRemoved": expected a number of keys or a percent of live \(5000 or 50%\) or off, got "half"/)

    rmSync(join(dir, 'flip.config.json'))
    const badEnv = flip(['cutover', '--dry-run'], {FLIP_MAX_DROP: 'lots'})
    expect(badEnv.code).toBe(2)
    expect(badEnv.stderr).toContain('FLIP_MAX_DROP: expected a percent (90%) or off, got "lots"')
  }, SLOW)

  it('flip init writes the guard keys with their defaults, and the cutover uses them', () => {
    expect(flip(['init', '--tz', 'UTC']).code).toBe(0)
    expect(flip(['cutover', '--dry-run']).stderr).toContain('Error: refused by --max-drop: 200 numeric values') // zero.ndjson is staged
  })
})
