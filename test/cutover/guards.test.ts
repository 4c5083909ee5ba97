// Guards against a bad dataset (issue 10), judged in pre-flight from the live ↔ shadow diff, on
// Debian's redis-server (standalone, SWAPDB) and the bundled engine (cluster of 3, MOVE): a
// refusal names the guard, the numbers and the offending keys, writes no plan and changes nothing.
import {existsSync, readdirSync, rmSync} from 'node:fs'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {cutover} from '../../src/cutover/cutover.js'
import {CutoverUsageError} from '../../src/cutover/errors.js'
import {evaluateGuards, GuardRefusedError, guardSettings, NO_GUARDS, parseGuardValue, type GuardSettings} from '../../src/cutover/guards.js'
import {plansDir} from '../../src/cutover/plan.js'
import type {DiffResult} from '../../src/ops/index.js'
import {DBS, fingerprints, flushAll, getString, keyOf, prices, servers, stageLines, tempDir, writeStrings, type Server} from './support.js'

const PRICE = (i: number) => (19.9 + i).toFixed(2)
const DEFAULTS = guardSettings({})

/** The refusal, or a failure when the cutover was not refused by the guards. */
async function refusal(run: Promise<unknown>): Promise<GuardRefusedError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(GuardRefusedError)
  return error as GuardRefusedError
}

function failed(error: GuardRefusedError) {
  return error.report.guards.filter((guard) => !guard.ok).map((guard) => guard.name)
}

for (const kind of servers) {
  describe.skipIf(kind.skip !== undefined)(`guards on ${kind.name}`, () => {
    let server: Server
    let stateDir: string
    const base = (guards: GuardSettings = DEFAULTS) => ({url: server.url, stateDir, dbs: DBS, guards})

    beforeAll(async () => {
      server = await kind.start()
    })
    afterAll(async () => {
      await server?.stop()
    })
    beforeEach(async () => {
      stateDir = tempDir('flip-guards-')
      await flushAll(server.url)
      // Live: 100 prices.
      await writeStrings(server.url, DBS.live, Array.from({length: 100}, (_, i): [string, string] => [keyOf(i), PRICE(i)]))
    })
    afterEach(() => {
      rmSync(stateDir, {recursive: true, force: true})
    })

    async function expectNothingChanged(before: Awaited<ReturnType<typeof fingerprints>>) {
      expect(await fingerprints(server.url)).toEqual(before)
      expect(existsSync(plansDir(stateDir)) ? readdirSync(plansDir(stateDir)) : []).toEqual([])
    }

    it('the default guards refuse a catalog with every price at 0.00, naming the keys and changing nothing; the lock is free again', async () => {
      await stageLines(server.url, stateDir, prices(100, () => '0.00'))
      const before = await fingerprints(server.url)

      const error = await refusal(cutover(base()))
      expect(error.exitCode).toBe(1)
      expect(failed(error)).toEqual(['max-drop'])
      expect(error.message).toMatch(/^refused by --max-drop: 100 numeric values would drop by more than 90 % \(largest 100 %: price:\S+ \d+\.\d\d → 0\.00\); --max-drop is 90 %; nothing was changed$/)
      const drop = error.result.guards.find((guard) => guard.name === 'max-drop')!
      expect(drop).toMatchObject({limit: '90%', actual: 100, unit: '%', count: 100, ok: false})
      expect(drop.offending).toHaveLength(20)
      expect(drop.offending[0]).toMatchObject({before: expect.stringMatching(/^\d+\.\d\d$/), after: '0.00', changePct: -100})
      expect(drop.offending.map((o) => o.key)).toContain(keyOf(1))
      await expectNothingChanged(before)

      // Nothing holds the lock: the same catalog goes live with the guard off.
      const result = await cutover(base({...DEFAULTS, maxDrop: null}))
      expect(result.keysSwitched).toBe(100)
      expect(await getString(server.url, DBS.live, keyOf(5))).toBe('0.00')
    })

    it('the default --max-removed refuses a catalog that lost half its keys; 50 % is still allowed', async () => {
      await stageLines(server.url, stateDir, prices(49, PRICE))
      const before = await fingerprints(server.url)
      const error = await refusal(cutover(base()))
      expect(failed(error)).toEqual(['max-removed'])
      expect(error.message).toBe('refused by --max-removed: 51 of 100 live keys (51 %) would be removed; --max-removed is 50 %; nothing was changed')
      const removed = error.result.guards.find((guard) => guard.name === 'max-removed')!
      expect(removed).toMatchObject({limit: '50%', actual: 51, unit: '%', count: 51, of: 100, ok: false})
      expect(removed.offending).toHaveLength(20)
      expect(removed.offending.every((o) => Number(o.key.split(':').pop()) >= 49)).toBe(true)
      await expectNothingChanged(before)

      await stageLines(server.url, stateDir, prices(50, PRICE))
      const result = await cutover(base())
      expect(result.keysSwitched).toBe(50)
      expect(result.guards?.find((guard) => guard.name === 'max-removed')).toMatchObject({actual: 50, ok: true, offending: []})
    })

    it('passing guards are in the result; the first night (live empty) cannot be refused for removals or changes', async () => {
      await flushAll(server.url)
      await stageLines(server.url, stateDir, prices(30, PRICE))
      const strict = {...DEFAULTS, maxRemoved: {count: 0}, maxChanged: {count: 0}, maxRise: 1}
      const first = await cutover(base(strict))
      expect(first.keysSwitched).toBe(30)
      expect(first.guards?.map((guard) => [guard.name, guard.ok])).toEqual([
        ['min-keys', true],
        ['max-removed', true],
        ['max-changed', true],
        ['max-drop', true],
        ['max-rise', true],
      ])
      expect(first.guards?.find((guard) => guard.name === 'max-removed')).toMatchObject({limit: '0', actual: 0, of: 0, count: 0})

      // min-keys is about the dataset, so it judges the first night too.
      await flushAll(server.url)
      await stageLines(server.url, stateDir, prices(30, PRICE))
      const error = await refusal(cutover(base({...DEFAULTS, minKeys: 31})))
      expect(error.message).toBe('refused by --min-keys: the dataset has 30 keys; --min-keys is 31; nothing was changed')
    })

    it('each flag: --min-keys, --max-removed N|PCT, --max-changed N|PCT, --max-drop and --max-rise PCT, and off', async () => {
      // 60 of the 100 live prices, 10 of them 30 % lower, 5 of them 3x higher, and 20 new keys.
      const lines = prices(60, (i) => (i < 10 ? (Number(PRICE(i)) * 0.7).toFixed(2) : i < 15 ? (Number(PRICE(i)) * 3).toFixed(2) : PRICE(i)))
      await stageLines(server.url, stateDir, [...lines, ...prices(20, PRICE, 1000)])
      const before = await fingerprints(server.url)
      const none = {...NO_GUARDS}
      const cases: Array<[Partial<GuardSettings>, string | null]> = [
        [{minKeys: 81}, 'the dataset has 80 keys; --min-keys is 81'],
        [{minKeys: 80}, null],
        [{maxRemoved: {count: 39}}, '40 of 100 live keys (40 %) would be removed; --max-removed is 39'],
        [{maxRemoved: {count: 40}}, null],
        [{maxRemoved: {pct: 39.5}}, '40 of 100 live keys (40 %) would be removed; --max-removed is 39.5 %'],
        [{maxChanged: {count: 14}}, '15 of 100 live keys (15 %) would change; --max-changed is 14'],
        [{maxChanged: {pct: 15}}, null],
        [{maxDrop: 29}, /^10 numeric values would drop by more than 29 % \(largest 30(\.\d)? %: .*\); --max-drop is 29 %$/],
        [{maxDrop: 31}, null],
        [{maxRise: 150}, /^5 numeric values would rise by more than 150 % \(largest 200(\.\d)? %: .*\); --max-rise is 150 %$/],
        [{maxRise: 201}, null],
      ] as Array<[Partial<GuardSettings>, string | null]>
      for (const [settings, message] of cases) {
        const run = cutover({...base({...none, ...settings}), dryRun: true})
        if (message === null) {
          const result = await run
          expect(result.guards?.every((guard) => guard.ok)).toBe(true)
        } else {
          const error = await refusal(run)
          const guard = error.report.guards.find((g) => !g.ok)!
          if (typeof message === 'string') expect(guard.message).toBe(message)
          else expect(guard.message).toMatch(message)
        }
      }
      const changed = (await refusal(cutover({...base({...none, maxChanged: {count: 0}}), dryRun: true}))).report.guards.find((g) => g.name === 'max-changed')!
      expect(changed.offending[0]).toEqual({key: 'price:1', change: 'value "20.90" → "14.63"'}) // the smallest key names first

      // All off: nothing is compared, every guard is reported off.
      const off = await cutover({...base(none), dryRun: true})
      expect(off.guards?.every((guard) => guard.limit === null && guard.ok)).toBe(true)
      await expectNothingChanged(before)
    })

    it('merge mode keeps the live keys the dataset lacks, so --max-removed does not refuse it; a dry run reports the guards and refuses like the cutover', async () => {
      await stageLines(server.url, stateDir, prices(10, PRICE))
      const before = await fingerprints(server.url)
      const merge = await cutover({...base(), mode: 'merge', dryRun: true})
      expect(merge.guards?.find((guard) => guard.name === 'max-removed')).toMatchObject({ok: true, actual: 0, message: 'merge mode: live keys the dataset does not have stay live'})
      const error = await refusal(cutover({...base(), dryRun: true}))
      expect(failed(error)).toEqual(['max-removed'])
      await expectNothingChanged(before)
    })

    it('--allow-empty consents to every live key leaving live, so the default --max-removed does not refuse an empty dataset', async () => {
      const empty = await stageLines(server.url, stateDir, [], DBS.shadow, {allowEmpty: true})
      const result = await cutover({...base(), manifest: empty, allowEmpty: true})
      expect(result.keysArchived).toBe(100)
      expect(result.guards?.find((g) => g.name === 'max-removed')).toMatchObject({limit: null, ok: true, count: 100})
    })

    it('--guard-field: hashes are judged on the named fields only', async () => {
      await flushAll(server.url)
      const product = (i: number, price: string, stock: string) => JSON.stringify({key: `product:${i}`, value: {price, stock}})
      await stageLines(server.url, stateDir, Array.from({length: 20}, (_, i) => product(i, PRICE(i), '100')), DBS.live)
      // Prices down 10 %, stock sold out (a drop of 100 %).
      await stageLines(server.url, stateDir, Array.from({length: 20}, (_, i) => product(i, (Number(PRICE(i)) * 0.9).toFixed(2), '0')))
      const all = await refusal(cutover({...base(), dryRun: true}))
      expect(all.report.guards.find((g) => g.name === 'max-drop')!.offending[0]).toMatchObject({key: 'product:0', field: 'stock', before: '100', after: '0', changePct: -100})
      const prices = await cutover({...base({...DEFAULTS, fields: ['price']}), dryRun: true})
      expect(prices.guards?.find((g) => g.name === 'max-drop')).toMatchObject({ok: true, actual: expect.closeTo(10, 0)})
    })
  })
}

describe('guard values', () => {
  it('parses off, counts and percents, and refuses anything else as a usage error naming where it came from', () => {
    expect(parseGuardValue('maxRemoved', '50%', 'x')).toEqual({pct: 50})
    expect(parseGuardValue('maxRemoved', '5000', 'x')).toEqual({count: 5000})
    expect(parseGuardValue('maxRemoved', 5000, 'x')).toEqual({count: 5000})
    expect(parseGuardValue('maxChanged', '12.5 %', 'x')).toEqual({pct: 12.5})
    expect(parseGuardValue('maxDrop', '90%', 'x')).toBe(90)
    expect(parseGuardValue('maxDrop', '90', 'x')).toBe(90)
    expect(parseGuardValue('maxRise', 'OFF', 'x')).toBeNull()
    expect(parseGuardValue('minKeys', 1000, 'x')).toBe(1000)
    expect(() => parseGuardValue('maxRemoved', '150%', '--max-removed')).toThrow(CutoverUsageError)
    expect(() => parseGuardValue('maxRemoved', 'half', '--max-removed')).toThrow('--max-removed: expected a number of keys or a percent of live (5000 or 50%) or off, got "half"')
    expect(() => parseGuardValue('minKeys', '10%', 'FLIP_MIN_KEYS')).toThrow('FLIP_MIN_KEYS: expected a number of keys or off, got "10%"')
    expect(() => parseGuardValue('maxDrop', -5, 'flip.config.json: "maxDrop"')).toThrow('flip.config.json: "maxDrop": expected a percent (90%) or off, got -5')
  })

  it('defaults for a price flip: at most 50 % of live removed, no value dropping by more than 90 %, the others off', () => {
    expect(guardSettings({})).toEqual({minKeys: null, maxRemoved: {pct: 50}, maxChanged: null, maxDrop: 90, maxRise: null})
    expect(guardSettings({maxDrop: 'off', maxRise: '300%'}, ['price'])).toEqual({minKeys: null, maxRemoved: {pct: 50}, maxChanged: null, maxDrop: null, maxRise: 300, fields: ['price']})
    expect(guardSettings({maxDrop: '10%'}, undefined, true)).toEqual(NO_GUARDS)
  })

  it('a value changing from zero has no relative change and is not judged', () => {
    const numeric = {changed: 1, up: 1, down: 0, fromZero: 1, histogram: [], largestDrops: [], largestRises: [], beyondLimits: {drops: 0, rises: 0}}
    const compared = {liveKeys: 1, shadowKeys: 1, removed: 0, changed: 1, samples: {added: [], removed: [], changed: []}, numeric} as unknown as DiffResult
    expect(evaluateGuards({...NO_GUARDS, maxRise: 0}, compared, 'replace').ok).toBe(true)
  })
})
