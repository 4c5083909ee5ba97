// flip history, as a function: the cutovers and rollbacks the state directory knows (plans and
// their journals), newest first. Read-only and offline: "can still undo" is decided from the
// plans alone (the latest done cutover that no later cutover superseded, whose rollback data no
// archive rotation or re-stage removed); `flip rollback` still checks the server before acting.
import {latestManifest} from '../dataset/manifest.js'
import type {JournalEntry} from './journal.js'
import {laterPlans, readablePlans, type CutoverPlan, type LoadedPlan} from './plan.js'
import {discardedBy, type ArchiveDiscard} from './rotation.js'
import {localTimeZone, validateTimeZone, wallClockIn} from '../schedule/index.js'

export type HistoryResult = 'done' | 'rolled back' | 'superseded' | 'cancelled' | 'refused' | 'failed' | 'in progress'

export interface HistoryEntry {
  kind: 'cutover' | 'rollback'
  planId: string
  /** When it started (the switch, the rollback; for a cutover that never switched, its plan's creation), ISO-8601 with the zone's offset. */
  at: string
  /** Cutover: the moment it was scheduled for (ISO with offset); rollback: null. */
  scheduledAt: string | null
  scheduleKind: 'at' | 'cron' | 'now' | null
  strategy: CutoverPlan['strategy']
  mode: CutoverPlan['mode']
  target: string
  dbs: CutoverPlan['dbs']
  /** Cutover: keys switched into live; rollback: keys live got back. null: it did not get that far. */
  keys: number | null
  /** The switch (or the rollback's moves) alone, in ms. */
  durationMs: number | null
  /** Start of the switch minus the scheduled moment (ms, positive = late); null for "now" and rollbacks. */
  driftMs: number | null
  result: HistoryResult
  /** Why: the failure or refusal message, or what superseded it. */
  detail: string | null
  /** The later cutover that superseded this one (its data left live, or its rollback data was discarded). */
  supersededBy: string | null
  manifest: string | null
  /** Archive rotation done by this cutover (the older cutover whose rollback data it deleted). */
  archiveDiscarded: ArchiveDiscard | null
  /** `flip rollback` can still undo it (the plans say so; rollback re-checks the server). */
  canUndo: boolean
  rollbackCommand: string | null
}

export interface HistoryOptions {
  stateDir: string
  /** IANA zone for the times (default: local). */
  tz?: string
  /** At most this many entries, newest first (default all). */
  limit?: number
}

export interface History {
  stateDir: string
  tz: string
  /** Entries before --limit. */
  total: number
  entries: HistoryEntry[]
}

export async function history(options: HistoryOptions): Promise<History> {
  const tz = options.tz ? validateTimeZone(options.tz) : localTimeZone()
  const plans = [...readablePlans(options.stateDir)]
  const entries: Array<HistoryEntry & {sortKey: number}> = []
  for (const loaded of plans) {
    const cut = await cutoverEntry(options.stateDir, loaded, tz)
    entries.push(cut)
    const back = rollbackEntry(loaded, tz)
    if (back) entries.push(back)
  }
  // Only the newest undoable cutover per target can be undone: an older one would restore data from before both.
  const undoable = entries.filter((entry) => entry.canUndo).sort((a, b) => b.sortKey - a.sortKey)
  for (const [i, entry] of undoable.entries()) {
    if (undoable.slice(0, i).some((newer) => sameTargetEntry(newer, entry))) {
      entry.canUndo = false
      entry.rollbackCommand = null
    }
  }
  entries.sort((a, b) => b.sortKey - a.sortKey || (a.kind === 'rollback' ? -1 : 1))
  const total = entries.length
  const limited = options.limit !== undefined ? entries.slice(0, Math.max(0, options.limit)) : entries
  return {stateDir: options.stateDir, tz, total, entries: limited.map(({sortKey: _, ...entry}) => entry)}
}

function sameTargetEntry(a: HistoryEntry, b: HistoryEntry): boolean {
  const dbs = new Set([a.dbs.live, a.dbs.shadow, a.dbs.archive])
  return a.target === b.target && [b.dbs.live, b.dbs.shadow, b.dbs.archive].some((db) => dbs.has(db))
}

function last<E extends JournalEntry['event']>(entries: readonly JournalEntry[], event: E): Extract<JournalEntry, {event: E}> | undefined {
  return entries.findLast((entry) => entry.event === event) as Extract<JournalEntry, {event: E}> | undefined
}

async function cutoverEntry(stateDir: string, loaded: LoadedPlan, tz: string): Promise<HistoryEntry & {sortKey: number}> {
  const {plan, phase} = loaded
  const entries = loaded.journal.entries()
  const started = entries.find((entry) => entry.event === 'switch-started') as Extract<JournalEntry, {event: 'switch-started'}> | undefined
  const switched = last(entries, 'switched')
  const checked = entries.findLast((entry) => entry.event === 'verified' && entry.phase === 'cutover') as Extract<JournalEntry, {event: 'verified'}> | undefined
  const failed = entries.findLast((entry) => entry.event === 'failed' && entry.phase === 'cutover') as Extract<JournalEntry, {event: 'failed'}> | undefined
  const startMs = Date.parse(started?.startedAt ?? plan.createdAt)

  let result: HistoryResult
  let detail: string | null = null
  let supersededBy: string | null = null
  if (phase === 'planned') {
    if (failed) {
      result = failed.outcome ?? (/^(cancelled|interrupted)/i.test(failed.message) ? 'cancelled' : 'refused')
      detail = failed.message
    } else {
      result = 'in progress'
      detail = 'planned, waiting for its moment (or stopped before the switch)'
    }
  } else if (phase === 'switching') {
    result = 'in progress'
    detail = `switching (or interrupted: ${plan.commands.resume})`
  } else if (phase === 'rolling-back' || phase === 'rolled-back') {
    result = phase === 'rolled-back' ? 'rolled back' : 'in progress'
    if (phase === 'rolling-back') detail = `being rolled back (or interrupted: ${plan.commands.rollback})`
  } else if (!checked) {
    result = 'in progress'
    detail = 'switched, check not finished'
  } else if (!checked.ok) {
    result = 'failed'
    detail = `check failed: ${checked.detail ?? 'see the journal'}`
  } else {
    result = 'done'
  }

  let canUndo = false
  if (phase === 'switched' && (result === 'done' || result === 'failed')) {
    const inPlace = laterPlans(stateDir, plan).find((other) => other.phase !== 'rolled-back')
    const discarder = discardedBy(stateDir, plan)
    if (inPlace || discarder) {
      supersededBy = (discarder ?? inPlace)!.plan.id
      if (result === 'done') result = 'superseded'
      detail = discarder ? `superseded by ${supersededBy}, whose archive rotation deleted its rollback data` : `superseded by the later cutover ${supersededBy}`
    } else if (plan.strategy === 'swapdb' && (await stagedSince(stateDir, plan))) {
      // The old live data sat in the shadow, which the next stage --replace emptied.
      detail = `its old live data in shadow db ${plan.dbs.shadow} was replaced by a later stage`
    } else {
      canUndo = true
    }
  }

  return {
    sortKey: startMs,
    kind: 'cutover',
    planId: plan.id,
    at: isoInZone(startMs, tz),
    scheduledAt: isoInZone(Date.parse(plan.schedule.scheduledAt), tz),
    scheduleKind: plan.schedule.kind,
    strategy: plan.strategy,
    mode: plan.mode,
    target: plan.target.url,
    dbs: plan.dbs,
    keys: switched ? switched.keys : null,
    durationMs: switched ? switched.durationMs : null,
    driftMs: started && plan.schedule.kind !== 'now' && started.scheduledAt ? Date.parse(started.startedAt) - Date.parse(started.scheduledAt) : null,
    result,
    detail,
    supersededBy,
    manifest: plan.manifest?.id ?? null,
    archiveDiscarded: plan.archiveDiscard && entries.some((entry) => entry.event === 'archive-discarded') ? plan.archiveDiscard : null,
    canUndo,
    rollbackCommand: canUndo ? plan.commands.rollback : null,
  }
}

function rollbackEntry(loaded: LoadedPlan, tz: string): (HistoryEntry & {sortKey: number}) | undefined {
  const {plan, phase} = loaded
  const entries = loaded.journal.entries()
  const started = entries.find((entry) => entry.event === 'rollback-started') as Extract<JournalEntry, {event: 'rollback-started'}> | undefined
  if (!started) return undefined
  const done = last(entries, 'rolled-back')
  const checked = entries.findLast((entry) => entry.event === 'verified' && entry.phase === 'rollback') as Extract<JournalEntry, {event: 'verified'}> | undefined
  let result: HistoryResult = 'in progress'
  let detail: string | null = null
  if (phase === 'rolled-back' && checked) {
    result = checked.ok ? 'done' : 'failed'
    if (!checked.ok) detail = `check failed: ${checked.detail ?? 'see the journal'}`
  } else {
    detail = `rolling back (or interrupted: ${plan.commands.rollback})`
  }
  const startMs = Date.parse(started.startedAt)
  return {
    sortKey: startMs,
    kind: 'rollback',
    planId: plan.id,
    at: isoInZone(startMs, tz),
    scheduledAt: null,
    scheduleKind: null,
    strategy: plan.strategy,
    mode: plan.mode,
    target: plan.target.url,
    dbs: plan.dbs,
    keys: done ? plan.before.live.keys : null,
    durationMs: done ? done.durationMs : null,
    driftMs: null,
    result,
    detail,
    supersededBy: null,
    manifest: plan.manifest?.id ?? null,
    archiveDiscarded: null,
    canUndo: false,
    rollbackCommand: null,
  }
}

/** The newest manifest of the plan's shadow db was staged after the plan. */
async function stagedSince(stateDir: string, plan: CutoverPlan): Promise<boolean> {
  const staged = await latestManifest(stateDir, {db: plan.dbs.shadow}).catch(() => undefined)
  return staged !== undefined && staged.manifest.createdAt > plan.createdAt
}

/** ISO-8601 with the zone's offset at that instant, to the second: 2026-12-02T00:01:00-05:00. */
export function isoInZone(instant: number, tz: string): string {
  const wall = wallClockIn(tz, instant)
  const offsetMin = Math.round((Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) - Math.floor(instant / 1000) * 1000) / 60_000)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  const sign = offsetMin < 0 ? '-' : '+'
  const abs = Math.abs(offsetMin)
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}T${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}
