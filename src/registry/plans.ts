// Cutover plans on the server: each plan with its journal (kind 'plan'), and for move/atomic
// plans the staged key names that resume and rollback need (kind 'plan-keys', written once and
// apart, so the plan's updates stay small). The state directory stays the first copy (fsynced
// before any change); the metadata db is the copy another machine reads. A command that acts on
// plans first brings the server's plans it lacks into its state directory (syncPlans), so
// everything downstream (latest plan, archive rotation, later plans, history) reads files as before.
import {existsSync, readFileSync} from 'node:fs'
import {writeFileAtomic, writeJsonAtomic} from '../util/atomic-file.js'
import {CutoverRefusedError} from '../cutover/errors.js'
import {phaseOf, readJournal, type JournalEntry} from '../cutover/journal.js'
import {journalPath, keysFilePath, listPlanIds, planPath, type CutoverPlan, type LoadedPlan} from '../cutover/plan.js'
import {checkMetaDb, openMetaStore, type MetaLog, type MetaSettings} from './meta-db.js'
import type {ServerTarget} from '../plane/url.js'
import type {Dbs} from '../cutover/state.js'
import type {MetaStore} from './meta-store.js'

/** The largest staged-key file stored with a plan; a larger one stays on the machine that cut over. */
export const PLAN_KEYS_LIMIT_BYTES = 8 * 1024 * 1024

export type PlanState = 'planned' | 'switching' | 'done' | 'failed' | 'cancelled' | 'refused' | 'rolling back' | 'rolled back'

export interface PlanSummary extends Record<string, unknown> {
  id: string
  createdAt: string
  target: string
  dbs: CutoverPlan['dbs']
  mode: CutoverPlan['mode']
  strategy: CutoverPlan['strategy']
  manifest: string | null
  state: PlanState
  /** Journal entries stored, so a reader fetches the plan only when it knows less. */
  entries: number
}

export interface StoredPlan {
  plan: CutoverPlan
  journal: JournalEntry[]
  /** move/atomic: the staged key names; stored false when larger than PLAN_KEYS_LIMIT_BYTES. */
  keys: {stored: boolean; bytes: number} | null
}

interface StoredKeys {
  id: string
  bytes: number
  base64: string
}

/** Where the plan stands, in one word, from its journal. */
export function planState(entries: readonly JournalEntry[]): PlanState {
  const phase = phaseOf(entries)
  if (phase === 'rolled-back') return 'rolled back'
  if (phase === 'rolling-back') return 'rolling back'
  if (phase === 'switching') return entries.some((entry) => entry.event === 'failed') ? 'failed' : 'switching'
  if (phase === 'switched') {
    const checked = entries.findLast((entry) => entry.event === 'verified' && entry.phase === 'cutover')
    if (!checked || checked.event !== 'verified') return 'switching'
    return checked.ok ? 'done' : 'failed'
  }
  const failed = entries.findLast((entry) => entry.event === 'failed')
  if (failed?.event === 'failed') return failed.outcome ?? 'failed'
  return 'planned'
}

/**
 * Publishes a plan just written (with its staged key names when small enough). Throws when the
 * server refuses: before the switch the caller may still stop with nothing changed.
 */
export async function publishPlan(store: MetaStore, loaded: LoadedPlan, log: MetaLog): Promise<void> {
  const {plan} = loaded
  let keys: StoredPlan['keys'] = null
  if (plan.keysFile) {
    const data = readFileSync(keysPath(loaded))
    keys = {stored: data.length <= PLAN_KEYS_LIMIT_BYTES, bytes: data.length}
    if (keys.stored) {
      const document: StoredKeys = {id: plan.id, bytes: data.length, base64: data.toString('base64')}
      await store.put('plan-keys', plan.id, document, {id: plan.id, bytes: data.length}, new Date(plan.createdAt))
    } else {
      log.warn(
        `the staged key names of plan ${plan.id} (${data.length} bytes) exceed the metadata db's limit of ${PLAN_KEYS_LIMIT_BYTES} bytes: only this machine (${keysPath(loaded)}) can resume or roll it back`,
      )
    }
  }
  await putPlan(store, loaded, keys)
}

/** Republishes a plan with its journal as it is now. Never throws: a failure is a warning. */
export async function updatePlan(store: MetaStore, loaded: LoadedPlan, log: MetaLog): Promise<void> {
  try {
    const previous = await store.get<StoredPlan>('plan', loaded.plan.id)
    await putPlan(store, loaded, previous?.keys ?? null)
  } catch (error) {
    log.warn(`could not record plan ${loaded.plan.id}'s outcome in metadata db ${store.db} (${(error as Error).message}); other machines see an older state of it`)
  }
}

async function putPlan(store: MetaStore, loaded: LoadedPlan, keys: StoredPlan['keys']): Promise<void> {
  const {plan} = loaded
  const journal = readJournal(loaded.journal.path)
  const summary: PlanSummary = {
    id: plan.id,
    createdAt: plan.createdAt,
    target: plan.target.url,
    dbs: plan.dbs,
    mode: plan.mode,
    strategy: plan.strategy,
    manifest: plan.manifest?.id ?? null,
    state: planState(journal),
    entries: journal.length,
  }
  const document: StoredPlan = {plan, journal, keys}
  await store.put('plan', plan.id, document, summary, new Date(plan.createdAt))
}

/**
 * Brings into the state directory the server's plans it lacks, and the journals the server knows
 * more of (a rollback run elsewhere). A failed read is a warning: the local plans still count.
 */
export async function syncPlans(stateDir: string, store: MetaStore, log: MetaLog): Promise<void> {
  try {
    const local = new Set(listPlanIds(stateDir))
    const found: string[] = []
    for (const entry of await store.list<Partial<PlanSummary>>('plan')) {
      const known = local.has(entry.id)
      if (known && (entry.summary.entries ?? 0) <= readJournal(journalPath(planPath(stateDir, entry.id))).length) continue
      const stored = await store.get<StoredPlan>('plan', entry.id)
      if (!stored?.plan || stored.plan.id !== entry.id || !Array.isArray(stored.journal)) continue
      if (!known) await writeJsonAtomic(planPath(stateDir, entry.id), stored.plan)
      const localJournal = readJournal(journalPath(planPath(stateDir, entry.id)))
      // Only a journal that continues ours replaces it: never lose what this machine recorded.
      if (!localJournal.every((line, i) => JSON.stringify(line) === JSON.stringify(stored.journal[i]))) continue
      await writeFileAtomic(journalPath(planPath(stateDir, entry.id)), stored.journal.map((line) => JSON.stringify(line) + '\n').join(''))
      found.push(known ? `${entry.id} (journal)` : entry.id)
    }
    if (found.length > 0) {
      const what = found.length > 3 ? `${found.length} plans (newest ${found[0]})` : `plan${found.length > 1 ? 's' : ''} ${found.join(', ')}`
      log.note(`${what} found on the server (metadata db ${store.db}); saved to ${stateDir}/plans`)
    }
  } catch (error) {
    log.warn(`cannot read the plans of metadata db ${store.db} (${(error as Error).message}); using ${stateDir} only`)
  }
}

/**
 * Resume and rollback of a move/atomic plan need its staged key names: from the state directory,
 * else from the metadata db; refused, naming the file, when neither has them.
 */
export async function ensurePlanKeys(loaded: LoadedPlan, store: MetaStore | undefined, log: MetaLog): Promise<void> {
  const {plan} = loaded
  if (!plan.keysFile || existsSync(keysPath(loaded))) return
  const where = store ? ` nor in metadata db ${store.db}` : ''
  let stored: StoredKeys | undefined
  if (store) {
    const meta = await store.get<StoredPlan>('plan', plan.id).catch(() => undefined)
    stored = await store.get<StoredKeys>('plan-keys', plan.id).catch(() => undefined)
    if (!stored && meta?.keys && !meta.keys.stored) {
      throw new CutoverRefusedError(
        `plan ${plan.id}'s staged key names (${plan.keysFile}, ${meta.keys.bytes} bytes) are not in ${keysPath(loaded)}; they were too large for metadata db ${store.db} (limit ${PLAN_KEYS_LIMIT_BYTES} bytes): copy that file from the machine that ran the cutover; nothing was changed`,
      )
    }
  }
  if (!stored || typeof stored.base64 !== 'string') {
    throw new CutoverRefusedError(`plan ${plan.id}'s staged key names (${plan.keysFile}) are not in ${keysPath(loaded)}${where}: copy that file from the machine that ran the cutover; nothing was changed`)
  }
  const data = Buffer.from(stored.base64, 'base64')
  await writeFileAtomic(keysPath(loaded), data)
  log.note(`the staged key names of plan ${plan.id} found on the server (metadata db ${store!.db}); saved to ${keysPath(loaded)}`)
}

function keysPath(loaded: LoadedPlan): string {
  const file = loaded.plan.keysFile!
  return file.includes('/') ? file : keysFilePath(loaded.path).replace(/[^/]*$/, file)
}

/**
 * Resume and rollback from a state dir that may lack the plan: the metadata db's plans are
 * brought in first (none without `meta`, or when the server has no metadata db).
 */
export async function openRecoveryMeta(options: ServerTarget & {stateDir: string; meta?: MetaSettings}, dbs: Dbs, log: MetaLog): Promise<MetaStore | undefined> {
  if (!options.meta) return undefined
  checkMetaDb(options.meta.db, dbs)
  const store = await openMetaStore(options, undefined, [dbs.live, dbs.shadow, dbs.archive], options.meta)
  if (store) await syncPlans(options.stateDir, store, log)
  return store
}
