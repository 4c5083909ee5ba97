// The rollback plan: <stateDir>/plans/<id>.json, written atomically (temp, fsync, rename) and
// fsynced BEFORE the first change. It holds everything needed to finish or undo the cutover
// without the process that wrote it: the target's identity, the dbs by role, strategy and
// mode, the manifest staged in the shadow, the checksums of live/shadow/archive before, and the
// exact commands to resume or roll back. For the move strategies the staged key names are kept
// beside it (<id>.keys): with them, resume and rollback decide every key from the server's
// state alone (a staged key still in the shadow is not switched yet; one in live and no longer
// in the shadow is), whatever point a crash stopped at.
import {randomBytes} from 'node:crypto'
import {closeSync, fsyncSync, openSync, readFileSync, readdirSync, writeSync} from 'node:fs'
import {basename, join} from 'node:path'
import {writeJsonAtomic} from '../util/atomic-file.js'
import {CutoverUsageError} from './errors.js'
import {Journal, phaseOf, readJournal, type JournalEntry, type PlanPhase} from './journal.js'

export const PLAN_KIND = 'flip-cutover-plan'
export const PLAN_VERSION = 1

export type CutoverMode = 'replace' | 'merge'
export type Strategy = 'move' | 'atomic' | 'swapdb'

export interface DbSummary {
  keys: number
  checksum: string
}

export interface CutoverPlan {
  kind: typeof PLAN_KIND
  version: typeof PLAN_VERSION
  id: string
  createdAt: string
  target: {
    mode: 'cluster' | 'standalone'
    /** Seed URL without password. */
    url: string
    nodes: Array<{id: string; address: string; slots: Array<[number, number]>}>
  }
  dbs: {live: number; shadow: number; archive: number}
  strategy: Strategy
  mode: CutoverMode
  manifest: {id: string; path: string; keys: number; checksum: string} | null
  /** What the three dbs held when the plan was written (the state rollback restores). */
  before: {live: DbSummary; shadow: DbSummary; archive: DbSummary}
  /** move/atomic: file of the staged key names (u32 length + bytes each), beside the plan. */
  keysFile?: string
  schedule: {kind: 'at' | 'cron' | 'now'; scheduledAt: string; tz: string}
  /**
   * Archive rotation: the archive held the rollback data of the finished cutover `planId`; this
   * cutover deletes it just before its switch (journal 'archive-discarded'), so `before.archive`
   * is empty. That older plan can no longer be undone.
   */
  archiveDiscard?: {planId: string; keys: number; checksum: string}
  commands: {rollback: string; resume: string}
}

export function plansDir(stateDir: string): string {
  return join(stateDir, 'plans')
}

export function planPath(stateDir: string, id: string): string {
  return join(plansDir(stateDir), `${id}.json`)
}

export function journalPath(planFile: string): string {
  return planFile.replace(/\.json$/, '.journal')
}

/** Sortable: UTC time plus 4 random hex digits, e.g. 20261127-050100-9f3a. */
export function newPlanId(now: Date = new Date()): string {
  const iso = now.toISOString()
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}-${randomBytes(2).toString('hex')}`
}

/** The commands an operator runs to undo or finish this plan (state dir spelled out unless default). */
export function planCommands(id: string, stateDir: string): CutoverPlan['commands'] {
  const dirFlag = stateDir === '.flip' ? '' : ` --state-dir ${shellQuote(stateDir)}`
  return {rollback: `flip rollback ${id}${dirFlag}`, resume: `flip cutover --resume ${id}${dirFlag}`}
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`
}

export interface LoadedPlan {
  path: string
  plan: CutoverPlan
  journal: Journal
  phase: PlanPhase
}

/** Writes the plan and creates its journal with a 'planned' entry; both fsynced. */
export async function writePlan(stateDir: string, plan: CutoverPlan): Promise<LoadedPlan> {
  const path = planPath(stateDir, plan.id)
  await writeJsonAtomic(path, plan)
  const journal = Journal.open(journalPath(path))
  journal.append({event: 'planned'})
  return {path, plan, journal, phase: 'planned'}
}

/**
 * Reads a plan by id or path; without one, the newest plan in the state dir, or with
 * `changedOnly` the newest one whose switch started (a cancelled or refused `--at` changed
 * nothing, so "the latest cutover" is the one before it); the newest of all if none did.
 */
export function loadPlan(stateDir: string, idOrPath?: string, options: {changedOnly?: boolean} = {}): LoadedPlan {
  let path: string
  if (idOrPath === undefined) {
    const ids = listPlanIds(stateDir)
    const latest = ids.at(-1)
    if (latest === undefined) throw new CutoverUsageError(`no cutover plan in ${plansDir(stateDir)}`)
    const changed = options.changedOnly ? ids.findLast((id) => startedSwitch(readJournal(journalPath(planPath(stateDir, id))))) : undefined
    path = planPath(stateDir, changed ?? latest)
  } else {
    path = idOrPath.includes('/') || idOrPath.endsWith('.json') ? idOrPath : planPath(stateDir, idOrPath)
  }
  let plan: CutoverPlan
  try {
    plan = JSON.parse(readFileSync(path, 'utf8')) as CutoverPlan
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new CutoverUsageError(code === 'ENOENT' ? `no cutover plan ${idOrPath ?? path} (looked for ${path})` : `cannot read plan ${path}: not valid JSON`)
  }
  if (plan?.kind !== PLAN_KIND || plan.version !== PLAN_VERSION) throw new CutoverUsageError(`${path} is not a flip cutover plan (version ${PLAN_VERSION})`)
  const journal = Journal.open(journalPath(path))
  return {path, plan, journal, phase: phaseOf(readJournal(journal.path))}
}

/** The switch began (journal), so the plan may have changed the target. */
export function startedSwitch(entries: readonly JournalEntry[]): boolean {
  return phaseOf(entries) !== 'planned'
}

/**
 * Plans created after `plan` that started a switch on the same target and share a db with it
 * (newest last): they may have changed what `plan` left in its dbs.
 */
export function laterPlans(stateDir: string, plan: CutoverPlan): LoadedPlan[] {
  const later: LoadedPlan[] = []
  for (const other of readablePlans(stateDir)) {
    if (other.plan.id === plan.id || other.plan.createdAt <= plan.createdAt || other.phase === 'planned' || !sameTarget(other.plan, plan)) continue
    later.push(other)
  }
  return later
}

/**
 * The state dir's plans, oldest first (or newest first), read one at a time so a caller may stop
 * early. A plan file damaged by hand is skipped: it cannot be acted on, nor undone.
 */
export function* readablePlans(stateDir: string, options: {newestFirst?: boolean} = {}): Generator<LoadedPlan> {
  const ids = listPlanIds(stateDir)
  for (const id of options.newestFirst ? ids.reverse() : ids) {
    let loaded: LoadedPlan
    try {
      loaded = loadPlan(stateDir, id)
    } catch {
      continue
    }
    yield loaded
  }
}

/** Same server (seed URL or a node id in common) and at least one db in common. */
export function sameTarget(a: CutoverPlan, b: CutoverPlan): boolean {
  const ids = new Set(a.target.nodes.map((node) => node.id))
  const server = a.target.url === b.target.url || b.target.nodes.some((node) => ids.has(node.id))
  const dbs = new Set([a.dbs.live, a.dbs.shadow, a.dbs.archive])
  return server && [b.dbs.live, b.dbs.shadow, b.dbs.archive].some((db) => dbs.has(db))
}

/** Plan ids in the state dir, oldest first (by creation time: ids of one second tie). */
export function listPlanIds(stateDir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(plansDir(stateDir))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const created = (id: string): string => {
    try {
      return String((JSON.parse(readFileSync(planPath(stateDir, id), 'utf8')) as CutoverPlan).createdAt ?? '')
    } catch {
      return ''
    }
  }
  return names
    .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
    .map((name) => basename(name, '.json'))
    .map((id) => ({id, createdAt: created(id)}))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
    .map((plan) => plan.id)
}

// ---- The staged key names, written and fsynced before the first change. ----

export function keysFilePath(planFile: string): string {
  return planFile.replace(/\.json$/, '.keys')
}

/** Writes keys as u32 big-endian length + bytes each, fsynced. */
export function writeKeysFile(path: string, keys: Iterable<Buffer>): number {
  const fd = openSync(path, 'w', 0o600)
  let count = 0
  try {
    let chunk = Buffer.allocUnsafe(1 << 20)
    let used = 0
    const flush = () => {
      let written = 0
      while (written < used) written += writeSync(fd, chunk, written, used - written)
      used = 0
    }
    for (const key of keys) {
      if (used + 4 + key.length > chunk.length) {
        flush()
        if (4 + key.length > chunk.length) chunk = Buffer.allocUnsafe(4 + key.length)
      }
      chunk.writeUInt32BE(key.length, used)
      key.copy(chunk, used + 4)
      used += 4 + key.length
      count++
    }
    flush()
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return count
}

export function readKeysFile(path: string): Buffer[] {
  const data = readFileSync(path)
  const keys: Buffer[] = []
  let at = 0
  while (at + 4 <= data.length) {
    const length = data.readUInt32BE(at)
    if (at + 4 + length > data.length) break
    keys.push(data.subarray(at + 4, at + 4 + length))
    at += 4 + length
  }
  return keys
}
