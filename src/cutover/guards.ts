// Guards against a bad dataset: limits a cutover checks in pre-flight, before the plan is written
// and before anything changes, from the same live ↔ shadow comparison `flip diff` makes.
//   min-keys     the dataset has at least N keys
//   max-removed  live keys the dataset does not have (replace mode: they leave live), N or % of live
//   max-changed  keys whose value changes, N or % of live
//   max-drop     the largest relative drop of any numeric value (a string that parses as a number,
//   max-rise     or a numeric hash field, optionally only the named ones), in %
// A price going to 0.00 is a drop of 100 %. A value changing from 0 has no relative change and is
// not judged (a price fixed from 0.00 must not block the next night). When live is empty (the
// first cutover) there is nothing to remove or change, so only min-keys can refuse.
import {diff, type DiffResult} from '../ops/diff.js'
import type {ServerTarget} from '../plane/index.js'
import type {NumericMove} from '../ops/numeric-changes.js'
import {CutoverRefusedError, CutoverUsageError} from './errors.js'
import type {CutoverMode} from './plan.js'

export type GuardName = 'min-keys' | 'max-removed' | 'max-changed' | 'max-drop' | 'max-rise'
export type GuardKey = 'minKeys' | 'maxRemoved' | 'maxChanged' | 'maxDrop' | 'maxRise'

/** A limit on keys: a count, or a percent of live's keys. */
export type KeyLimit = {count: number} | {pct: number}

/** null: the guard is off. */
export interface GuardSettings {
  minKeys: number | null
  maxRemoved: KeyLimit | null
  maxChanged: KeyLimit | null
  maxDrop: number | null
  maxRise: number | null
  /** Hash fields whose numbers max-drop/max-rise judge; undefined or empty: every field numeric on both sides. */
  fields?: string[]
}

/** Each guard: its config key, flag, environment variable and what its values are. */
export const GUARDS: ReadonlyArray<{key: GuardKey; name: GuardName; env: string; kind: 'count' | 'keys' | 'pct'}> = [
  {key: 'minKeys', name: 'min-keys', env: 'FLIP_MIN_KEYS', kind: 'count'},
  {key: 'maxRemoved', name: 'max-removed', env: 'FLIP_MAX_REMOVED', kind: 'keys'},
  {key: 'maxChanged', name: 'max-changed', env: 'FLIP_MAX_CHANGED', kind: 'keys'},
  {key: 'maxDrop', name: 'max-drop', env: 'FLIP_MAX_DROP', kind: 'pct'},
  {key: 'maxRise', name: 'max-rise', env: 'FLIP_MAX_RISE', kind: 'pct'},
]

/**
 * The defaults, for a price flip: refuse a dataset that removes more than half of live (a
 * truncated export) or that drops any price by more than 90 % (0.00, or a lost decimal point).
 * No default key count or changed share: catalogs differ too much in size and churn. No default
 * rise: the end of a sale raises prices by whatever the sale took off (a 90 % sale ending is a
 * rise of 900 %), so no one limit fits every catalog.
 */
export const DEFAULT_GUARDS: Readonly<Record<GuardKey, string>> = {minKeys: 'off', maxRemoved: '50%', maxChanged: 'off', maxDrop: '90%', maxRise: 'off'}

export const NO_GUARDS: GuardSettings = {minKeys: null, maxRemoved: null, maxChanged: null, maxDrop: null, maxRise: null}

/** How many offending keys a guard names. */
export const OFFENDING_LIMIT = 20

const PCT = /^(\d+(?:\.\d+)?)\s*%$/
const COUNT = /^\d+$/

/**
 * One guard's value from a flag, an environment variable or flip.config.json: "off", a key count
 * (min-keys, and max-removed/max-changed), or a percent ("50%"; max-drop/max-rise take "90" too).
 * `source` names where it came from, for the error (exit 2).
 */
export function parseGuardValue(key: GuardKey, raw: unknown, source: string): number | KeyLimit | null {
  const guard = GUARDS.find((g) => g.key === key)!
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : undefined
  if (text !== undefined && text.toLowerCase() === 'off') return null
  if (text !== undefined) {
    const pct = PCT.exec(text)?.[1] ?? (guard.kind === 'pct' && /^\d+(?:\.\d+)?$/.test(text) ? text : undefined)
    if (guard.kind === 'count' && COUNT.test(text)) return Number(text)
    if (guard.kind === 'keys' && COUNT.test(text)) return {count: Number(text)}
    if (guard.kind === 'keys' && pct !== undefined && Number(pct) <= 100) return {pct: Number(pct)}
    if (guard.kind === 'pct' && pct !== undefined) return Number(pct)
  }
  const expected = {count: 'a number of keys', keys: 'a number of keys or a percent of live (5000 or 50%)', pct: 'a percent (90%)'}[guard.kind]
  throw new CutoverUsageError(`${source}: expected ${expected} or off, got ${JSON.stringify(raw)}`)
}

/**
 * The settings of a run: each guard's value (already merged from flag > env > flip.config.json;
 * undefined = the default), or none at all with noGuards.
 */
export function guardSettings(values: Partial<Record<GuardKey, unknown>>, fields?: string[], noGuards = false): GuardSettings {
  if (noGuards) return {...NO_GUARDS}
  const settings = {...NO_GUARDS, ...(fields && fields.length > 0 ? {fields} : {})} as Record<string, unknown>
  for (const guard of GUARDS) {
    const raw = values[guard.key] ?? DEFAULT_GUARDS[guard.key]
    settings[guard.key] = parseGuardValue(guard.key, raw, `--${guard.name}`)
  }
  return settings as unknown as GuardSettings
}

export interface Offender {
  key: string
  /** max-changed: what changed ('value "19.90" → "14.90"'). */
  change?: string
  /** max-drop / max-rise: the hash field (for a hash), the values and the relative change in %. */
  field?: string
  before?: string
  after?: string
  changePct?: number
}

export interface GuardResult {
  name: GuardName
  /** The limit as set ("50%", "5000", "90%"); null when the guard is off. */
  limit: string | null
  /** What was measured, in the unit of the limit (a count of keys, or a percent); null when nothing could be measured. */
  actual: number | null
  unit: 'keys' | '%'
  /** max-removed / max-changed: the keys counted (of `of` live keys); max-drop / max-rise: the values beyond the limit. */
  count: number
  of?: number
  ok: boolean
  /** One sentence with the numbers. */
  message: string
  /** Up to 20 keys that break the guard (none when it holds). */
  offending: Offender[]
}

export interface GuardReport {
  ok: boolean
  guards: GuardResult[]
  /** Keys in live and in the dataset when compared (absent when every guard is off: nothing is compared). */
  liveKeys?: number
  datasetKeys?: number
}

/** A guard said no: exit 1, and under --json the full evaluation (`guards`) beside `error`. */
export class GuardRefusedError extends CutoverRefusedError {
  readonly result: {guards: GuardResult[]}

  constructor(readonly report: GuardReport) {
    const failed = report.guards.filter((guard) => !guard.ok)
    super(`refused by ${failed.map((guard) => `--${guard.name}`).join(', ')}: ${failed.map((guard) => guard.message).join('; ')}; nothing was changed`)
    this.name = 'GuardRefusedError'
    this.result = {guards: report.guards}
  }
}

export function guardsOff(settings: GuardSettings): boolean {
  return GUARDS.every((guard) => settings[guard.key] === null)
}

/**
 * Compares live with the shadow (the diff op) and judges the guards; a failing guard throws
 * GuardRefusedError. Every guard off: nothing is read.
 */
export async function checkGuards(input: {
  settings: GuardSettings
  target: ServerTarget
  dbs: {live: number; shadow: number}
  mode: CutoverMode
  signal?: AbortSignal
  onProgress?: (step: string, keys?: number) => void
}): Promise<GuardReport> {
  const {settings} = input
  if (guardsOff(settings)) return {ok: true, guards: GUARDS.map((guard) => off(guard.name, guard.kind === 'pct' ? '%' : 'keys'))}
  const compared = await diff({
    liveDb: input.dbs.live,
    shadowDb: input.dbs.shadow,
    target: input.target,
    sampleSize: OFFENDING_LIMIT,
    numericFields: settings.fields,
    numericLimits: {dropPct: settings.maxDrop ?? undefined, risePct: settings.maxRise ?? undefined},
    signal: input.signal,
    onProgress: (p) => input.onProgress?.(`guards: comparing live db ${input.dbs.live} with shadow db ${input.dbs.shadow} (${p.phase})`, p.keys),
  })
  const report = evaluateGuards(settings, compared, input.mode)
  if (!report.ok) throw new GuardRefusedError(report)
  return report
}

/** The guards judged on a comparison (pure: no server). */
export function evaluateGuards(settings: GuardSettings, compared: DiffResult, mode: CutoverMode): GuardReport {
  const live = compared.liveKeys
  const guards: GuardResult[] = [
    minKeys(settings.minKeys, compared.shadowKeys),
    mode === 'merge'
      ? {...off('max-removed', 'keys'), limit: settings.maxRemoved && limitText(settings.maxRemoved), actual: 0, of: live, message: 'merge mode: live keys the dataset does not have stay live'}
      : keysGuard('max-removed', settings.maxRemoved, compared.removed, live, compared.samples.removed.map((key) => ({key})), 'would be removed'),
    keysGuard('max-changed', settings.maxChanged, compared.changed, live, compared.samples.changed.map(({key, change}) => ({key, change})), 'would change'),
    numericGuard('max-drop', settings.maxDrop, compared.numeric.largestDrops, compared.numeric.beyondLimits?.drops ?? 0),
    numericGuard('max-rise', settings.maxRise, compared.numeric.largestRises, compared.numeric.beyondLimits?.rises ?? 0),
  ]
  return {ok: guards.every((guard) => guard.ok), guards, liveKeys: live, datasetKeys: compared.shadowKeys}
}

function off(name: GuardName, unit: GuardResult['unit']): GuardResult {
  return {name, limit: null, actual: null, unit, count: 0, ok: true, message: `--${name} is off`, offending: []}
}

function minKeys(limit: number | null, datasetKeys: number): GuardResult {
  if (limit === null) return {...off('min-keys', 'keys'), actual: datasetKeys, count: datasetKeys, message: `the dataset has ${count(datasetKeys)} keys; --min-keys is off`}
  const ok = datasetKeys >= limit
  return {
    name: 'min-keys',
    limit: String(limit),
    actual: datasetKeys,
    unit: 'keys',
    count: datasetKeys,
    ok,
    message: `the dataset has ${count(datasetKeys)} keys; --min-keys is ${count(limit)}`,
    offending: [],
  }
}

function keysGuard(name: GuardName, limit: KeyLimit | null, keys: number, live: number, offenders: Offender[], what: string): GuardResult {
  const pct = live > 0 ? (keys / live) * 100 : null
  const measured = `${count(keys)} of ${count(live)} live keys${pct === null ? '' : ` (${percent(pct)})`} ${what}`
  if (limit === null) return {name, limit: null, actual: keys, unit: 'keys', count: keys, of: live, ok: true, message: `${measured}; --${name} is off`, offending: []}
  // An empty live (the first cutover) has nothing to remove or change: no share to judge.
  if (live === 0) return {name, limit: limitText(limit), actual: 'pct' in limit ? null : 0, unit: 'pct' in limit ? '%' : 'keys', count: 0, of: 0, ok: true, message: 'live is empty: nothing to compare', offending: []}
  const actual = 'pct' in limit ? round(pct!) : keys
  const ok = 'pct' in limit ? pct! <= limit.pct : keys <= limit.count
  return {
    name,
    limit: limitText(limit),
    actual,
    unit: 'pct' in limit ? '%' : 'keys',
    count: keys,
    of: live,
    ok,
    message: `${measured}; --${name} is ${'pct' in limit ? percent(limit.pct) : count(limit.count)}`,
    offending: ok ? [] : offenders.slice(0, OFFENDING_LIMIT),
  }
}

function numericGuard(name: 'max-drop' | 'max-rise', limit: number | null, largest: NumericMove[], beyond: number): GuardResult {
  const top = largest[0]
  const actual = top === undefined ? 0 : Math.abs(top.changePct)
  const direction = name === 'max-drop' ? 'drop' : 'rise'
  const largestText = top === undefined ? `no numeric value would ${direction}` : `the largest ${direction} is ${percent(actual)} (${move(top)})`
  if (limit === null) return {name, limit: null, actual, unit: '%', count: 0, ok: true, message: `${largestText}; --${name} is off`, offending: []}
  const ok = beyond === 0
  return {
    name,
    limit: `${limit}%`,
    actual,
    unit: '%',
    count: beyond,
    ok,
    message: ok
      ? `${largestText}; --${name} is ${percent(limit)}`
      : `${count(beyond)} numeric value${beyond === 1 ? '' : 's'} would ${direction} by more than ${percent(limit)} (largest ${percent(actual)}: ${move(top!)}); --${name} is ${percent(limit)}`,
    offending: ok ? [] : largest.filter((m) => Math.abs(m.changePct) > limit).slice(0, OFFENDING_LIMIT).map((m) => ({...m})),
  }
}

export function limitText(limit: KeyLimit): string {
  return 'pct' in limit ? `${limit.pct}%` : String(limit.count)
}

/** "price:1 19.90 → 0.00", with the field for a hash. */
export function move(m: {key: string; field?: string; before?: string; after?: string}): string {
  return `${m.key}${m.field === undefined ? '' : ` ${m.field}`} ${m.before} → ${m.after}`
}

function count(n: number): string {
  return n.toLocaleString('en-US')
}

/** "55 %", "93.8 %" (one decimal, none when it is 0). */
function percent(n: number): string {
  const tenths = Math.round(n * 10) / 10
  return `${Number.isInteger(tenths) ? tenths : tenths.toFixed(1)} %`
}

function round(n: number): number {
  return Math.round(n * 100) / 100
}
