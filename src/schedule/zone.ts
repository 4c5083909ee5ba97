// Time zones without a library: Intl gives the wall-clock fields of an instant in a zone, and
// from those an instant for a wall time (DST gaps and repeats as Temporal's "compatible") and
// the ISO / human printing of an instant in the zone the user gave.
import {CutoverUsageError} from '../cutover/errors.js'

/** The machine's zone, as Intl knows it. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

/** Throws a usage error unless `tz` is a zone Intl knows. Returns its canonical spelling. */
export function validateTimeZone(tz: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', {timeZone: tz}).resolvedOptions().timeZone
  } catch {
    throw new CutoverUsageError(`unknown time zone "${tz}" (expected an IANA name such as Europe/Berlin or UTC)`)
  }
}

export interface WallClock {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  millisecond: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(tz: string): Intl.DateTimeFormat {
  let formatter = formatters.get(tz)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(tz, formatter)
  }
  return formatter
}

/** The wall clock in `tz` at `instant` (ms since epoch). */
export function wallClockIn(tz: string, instant: number): WallClock {
  const parts: Record<string, number> = {}
  for (const part of formatterFor(tz).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value)
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour === 24 ? 0 : parts.hour,
    minute: parts.minute,
    second: parts.second,
    millisecond: ((instant % 1000) + 1000) % 1000,
  }
}

/** Offset of `tz` from UTC at `instant`, in ms (e.g. -18000000 for New York in winter). */
export function offsetAt(tz: string, instant: number): number {
  const wall = wallClockIn(tz, instant)
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond)
  return asUtc - instant
}

/** The instant at which the wall clock in `tz` shows `wall` (Temporal's "compatible" rule for gaps and overlaps). */
export function zonedToInstant(wall: WallClock, tz: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond)
  const dayMs = 86_400_000
  const before = offsetAt(tz, asUtc - dayMs)
  const after = offsetAt(tz, asUtc + dayMs)
  const candidates = [...new Set([asUtc - before, asUtc - after])]
    .filter((instant) => asUtc - offsetAt(tz, instant) === instant)
    .sort((a, b) => a - b)
  // One candidate: the normal case. Two: the wall time repeats (clocks went back): take the first.
  if (candidates.length > 0) return candidates[0]
  // None: the wall time was skipped (clocks went forward): shift it by the gap, using the
  // offset in force before the change, e.g. 02:30 → 03:30 in New York in March.
  return asUtc - before
}

// ---- Printing an instant in the zone the user gave ----

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

function offsetText(offsetMs: number): string {
  const minutes = Math.round(Math.abs(offsetMs) / 60_000)
  return `${offsetMs < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`
}

/** ISO-8601 with the zone's offset, e.g. 2026-12-03T17:07:47.000+01:00 (for --json and files). */
export function isoInZone(instant: Date | number, tz: string): string {
  const ms = typeof instant === 'number' ? instant : instant.getTime()
  const wall = wallClockIn(tz, ms)
  return `${wall.year}-${pad(wall.month)}-${pad(wall.day)}T${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)}.${pad(wall.millisecond, 3)}${offsetText(offsetAt(tz, ms))}`
}

/** For people: 2026-12-03 17:07:47 +01:00 (Europe/Berlin). */
export function formatInZone(instant: Date | number, tz: string): string {
  const ms = typeof instant === 'number' ? instant : instant.getTime()
  const wall = wallClockIn(tz, ms)
  return `${wall.year}-${pad(wall.month)}-${pad(wall.day)} ${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)} ${offsetText(offsetAt(tz, ms))} (${tz})`
}
