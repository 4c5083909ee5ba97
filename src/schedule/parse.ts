// When a cutover fires: `--at HH:MM[:SS]` (next occurrence in a time zone), `--at <ISO-8601>`,
// or `--cron EXPR` (next occurrence, cron-parser 5), plus `--not-after` (refuse to fire late)
// and `--prepare` (how long before the moment to connect and run pre-flight).
import {CronExpressionParser} from 'cron-parser'
import {CutoverUsageError} from '../cutover/errors.js'
import {localTimeZone, validateTimeZone, wallClockIn, zonedToInstant} from './zone.js'

export interface ScheduleOptions {
  /** "HH:MM", "HH:MM:SS", or an ISO-8601 date-time (with Z/offset, or wall time in `tz`). */
  at?: string
  /** A 5- or 6-field cron expression; fires at its next occurrence in `tz`. */
  cron?: string
  /** IANA zone (e.g. "America/New_York"); default the machine's local zone. */
  tz?: string
  /** A duration after the scheduled moment ("5m") or an instant: never fire later than this. */
  notAfter?: string
  /** A duration ("60s"): connect and run pre-flight this long before the moment. */
  prepare?: string
}

export interface Schedule {
  /** How the moment was given; 'now' when neither --at nor --cron. */
  kind: 'at' | 'cron' | 'now'
  /** The moment to fire. */
  scheduledAt: Date
  /** The zone used to read --at/--cron. */
  tz: string
  /** Never fire after this instant (undefined: no limit). */
  notAfter?: Date
  /** Milliseconds before scheduledAt to connect and run pre-flight. */
  prepareMs: number
}

export const DEFAULT_PREPARE_MS = 60_000

/** "250ms", "60s", "5m", "1h30m", "2d"; a bare number is seconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const unitMs: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y
  let total = 0
  let index = 0
  while (index < trimmed.length) {
    part.lastIndex = index
    const match = part.exec(trimmed)
    if (!match) break
    total += Number(match[1]) * unitMs[match[2]]
    index = part.lastIndex
  }
  if (trimmed.length === 0 || index !== trimmed.length) {
    throw new CutoverUsageError(`invalid ${what} "${text}" (expected e.g. 90s, 5m, 1h30m)`)
  }
  return Math.round(total)
}

/** Resolve --at / --cron / --tz / --not-after / --prepare into a Schedule, or throw a usage error. */
export function resolveSchedule(options: ScheduleOptions, now: Date = new Date()): Schedule {
  const tz = options.tz ? validateTimeZone(options.tz) : localTimeZone()
  if (options.at && options.cron) throw new CutoverUsageError('give either --at or --cron, not both')
  // With --not-after as a duration, a moment that passed less than that long ago is still the
  // moment (fire at once, late): a cron daemon or CI runner starts flip just after 00:01:00,
  // and `--cron '1 0 * * *'` must not then wait for tomorrow.
  const graceMs = options.notAfter !== undefined && !isInstant(options.notAfter) ? parseDuration(options.notAfter, '--not-after (a duration such as 5m or an instant)') : 0
  let kind: Schedule['kind'] = 'now'
  let scheduledAt = now
  if (options.at) {
    kind = 'at'
    scheduledAt = parseAt(options.at, tz, now, graceMs)
  } else if (options.cron) {
    kind = 'cron'
    scheduledAt = nextCronTimes(options.cron, tz, 1, now)[0]
    const previous = previousCronTime(options.cron, tz, now)
    if (graceMs > 0 && previous !== undefined && now.getTime() - previous.getTime() <= graceMs) scheduledAt = previous
  }
  const prepareMs = options.prepare === undefined ? DEFAULT_PREPARE_MS : parseDuration(options.prepare, '--prepare duration')
  let notAfter: Date | undefined
  if (options.notAfter !== undefined) {
    notAfter = parseNotAfter(options.notAfter, scheduledAt, tz, now)
    if (notAfter.getTime() < scheduledAt.getTime()) {
      throw new CutoverUsageError(`--not-after ${options.notAfter} is before the scheduled moment ${scheduledAt.toISOString()}`)
    }
  }
  return {kind, scheduledAt, tz, notAfter, prepareMs}
}

const WALL_TIME = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i

/**
 * `--at`: "HH:MM[:SS]" is the next time the wall clock in `tz` shows that time (strictly after
 * `now`); an ISO-8601 date-time is that instant (read in `tz` when it has no offset) and must
 * lie in the future. Wall times that a DST change skips or repeats resolve as JavaScript's
 * Temporal does by default ("compatible"): a skipped 02:30 becomes 03:30, a repeated 01:30 is
 * the first one.
 */
export function parseAt(text: string, tz: string, now: Date = new Date(), graceMs = 0): Date {
  const trimmed = text.trim()
  const wall = WALL_TIME.exec(trimmed)
  if (wall) {
    const [hour, minute, second] = [Number(wall[1]), Number(wall[2]), Number(wall[3] ?? 0)]
    if (hour > 23 || minute > 59 || second > 59) {
      throw new CutoverUsageError(`invalid --at time "${text}" (expected HH:MM or HH:MM:SS, 24-hour clock)`)
    }
    const today = wallClockIn(tz, now.getTime())
    for (let dayOffset = -1; dayOffset <= 2; dayOffset++) {
      const day = new Date(Date.UTC(today.year, today.month - 1, today.day + dayOffset))
      const instant = zonedToInstant(
        {year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour, minute, second, millisecond: 0},
        tz,
      )
      if (instant > now.getTime() - graceMs) return new Date(instant)
    }
    throw new CutoverUsageError(`cannot find the next ${text} in ${tz}`)
  }
  const iso = ISO_DATE_TIME.exec(trimmed)
  if (iso) {
    const fields = {
      year: Number(iso[1]),
      month: Number(iso[2]),
      day: Number(iso[3]),
      hour: Number(iso[4]),
      minute: Number(iso[5]),
      second: Number(iso[6] ?? 0),
      millisecond: iso[7] ? Math.round(Number(iso[7]) * 1000) : 0,
    }
    const check = new Date(Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second))
    if (
      check.getUTCMonth() !== fields.month - 1 ||
      check.getUTCDate() !== fields.day ||
      fields.hour > 23 ||
      fields.minute > 59 ||
      fields.second > 59
    ) {
      throw new CutoverUsageError(`invalid --at instant "${text}" (no such date or time)`)
    }
    let instant: number
    if (iso[8]) {
      instant = Date.parse(trimmed.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
      if (Number.isNaN(instant)) throw new CutoverUsageError(`invalid --at instant "${text}"`)
    } else {
      instant = zonedToInstant(fields, tz)
    }
    if (instant <= now.getTime() - graceMs) {
      throw new CutoverUsageError(`--at ${text} is in the past (now ${now.toISOString()})`)
    }
    return new Date(instant)
  }
  throw new CutoverUsageError(`invalid --at "${text}" (expected HH:MM, HH:MM:SS or an ISO-8601 date-time such as 2026-11-27T00:01:00-05:00)`)
}

/** The next `count` fire times of a cron expression in `tz`; invalid expressions are usage errors. */
export function nextCronTimes(expression: string, tz: string, count = 3, now: Date = new Date()): Date[] {
  const zone = validateTimeZone(tz)
  const fields = expression.trim().split(/\s+/)
  if (fields.length < 5 || fields.length > 6) {
    throw new CutoverUsageError(`invalid cron expression "${expression}" (expected 5 fields: minute hour day month weekday, or 6 with seconds first)`)
  }
  try {
    const parsed = CronExpressionParser.parse(expression, {currentDate: now, tz: zone})
    const times: Date[] = []
    for (let i = 0; i < count; i++) times.push(parsed.next().toDate())
    return times
  } catch (error) {
    throw new CutoverUsageError(`invalid cron expression "${expression}": ${(error as Error).message}`)
  }
}

/** The latest fire time of a cron expression at or before `now`, if any. */
export function previousCronTime(expression: string, tz: string, now: Date = new Date()): Date | undefined {
  nextCronTimes(expression, tz, 1, now) // validates, with the usual usage errors
  try {
    // prev() is strictly before currentDate: start a millisecond later so `now` itself counts.
    return CronExpressionParser.parse(expression, {currentDate: new Date(now.getTime() + 1), tz: validateTimeZone(tz)}).prev().toDate()
  } catch {
    return undefined
  }
}

function isInstant(text: string): boolean {
  const trimmed = text.trim()
  return ISO_DATE_TIME.test(trimmed) || WALL_TIME.test(trimmed)
}

function parseNotAfter(text: string, scheduledAt: Date, tz: string, now: Date): Date {
  const trimmed = text.trim()
  if (ISO_DATE_TIME.test(trimmed) || WALL_TIME.test(trimmed)) {
    try {
      return parseAt(trimmed, tz, now)
    } catch (error) {
      throw new CutoverUsageError(`invalid --not-after "${text}": ${(error as Error).message}`)
    }
  }
  return new Date(scheduledAt.getTime() + parseDuration(trimmed, '--not-after (a duration such as 5m or an instant)'))
}
