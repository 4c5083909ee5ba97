// flip rollback [PLAN], as a function: undo a cutover from its plan (default: the newest).
// Cluster/move: staged keys back to the shadow, archived keys back to live; standalone: one
// more SWAPDB. Journaled, idempotent (every key decided from where it is now, see switch.ts),
// so an interrupted rollback is finished by running it again. Afterwards live must match the
// "before" checksum in the plan, and the shadow the staged data.
//
// Before its first change a rollback proves the plan can still be undone (a rollback that
// cannot finish would leave live half rolled back): no later cutover on these dbs is still in
// place, and every db it will write holds what the plan and journal say (check.ts,
// checkBeforeRollback). Otherwise it refuses, naming the later plan or the db.
import {abortable, throwIfAborted} from '../util/interrupt.js'
import {latestManifest} from '../dataset/manifest.js'
import {checkAfterRollback, checkBeforeRollback, type AfterCheck} from './check.js'
import {CutoverFailedError, CutoverRefusedError} from './errors.js'
import {replicaProblems, type ReplicaAck} from './replicas.js'
import {nodeLost} from './finish.js'
import type {HeldLock} from './lock.js'
import type {PlanPhase} from './journal.js'
import {laterPlans, loadPlan, type CutoverPlan, type LoadedPlan} from './plan.js'
import {checkLockDb, lockForRecovery} from './preflight.js'
import {discardedBy} from './rotation.js'
import type {ServerTarget} from '../plane/url.js'
import {openSession, type Session} from './state.js'
import {switchBack, type SwitchProgress} from './switch.js'
import {resolveDbs} from './dbs.js'
import {MetaLog, checkMetaDb, type MetaReport, type MetaSettings} from '../registry/meta-db.js'
import type {MetaStore} from '../registry/meta-store.js'
import {ensurePlanKeys, openRecoveryMeta, updatePlan} from '../registry/plans.js'

export interface RollbackOptions extends ServerTarget {
  stateDir: string
  /** Plan id or path; default the newest plan in <stateDir>/plans whose switch started. */
  plan?: string
  /**
   * Move back a finished move/atomic cutover although the shadow holds keys again (a dataset
   * staged since): delete them first. Without it such a rollback is refused.
   */
  discardShadow?: boolean
  lockDb?: number
  lockTtlMs?: number
  /** MOVEs per journaled batch of the batched strategy (default 8192). */
  batchCommands?: number
  /** How long each primary waits for its online replicas after moving keys back (default 5000 ms). */
  replicaTimeoutMs?: number
  /** Asked once before anything changes; false refuses. Absent = yes. */
  confirm?: (summary: RollbackSummary) => boolean | Promise<boolean>
  onProgress?: (progress: SwitchProgress & {phase: 'rollback'}) => void
  /** Ctrl-C / SIGTERM: honoured until the first change (nothing changed, lock released); the moves back always finish. */
  signal?: AbortSignal
  /** Look for the plan in the metadata db when the state dir lacks it, and record the rollback there (absent: the state dir only). */
  meta?: MetaSettings
  /** The role dbs, for the metadata db's default (the plan's own dbs are checked once it is read). */
  dbs?: {live: number; shadow: number; archive: number}
}

export interface RollbackSummary {
  planId: string
  target: string
  strategy: CutoverPlan['strategy']
  mode: CutoverPlan['mode']
  dbs: CutoverPlan['dbs']
  /** Where the plan stood before this rollback. */
  phase: PlanPhase
  /** What live will hold again. */
  restores: {keys: number; checksum: string}
  /** Keys the shadow holds that --discard-shadow deletes before the rollback (0: none). */
  shadowToDiscard: number
}

export interface RollbackResult {
  planId: string
  planPath: string
  journalPath: string
  /** Nothing had changed (plan never started) or it was already rolled back. */
  alreadyDone: boolean
  /** Old keys back in live. */
  keysRestored: number
  /** Staged keys back in the shadow. */
  keysUnstaged: number
  durationMs: number
  verified: {ok: boolean; problems: string[]}
  /** Per primary that moved keys back: its replicas' acknowledgement (empty: no replicas). */
  replicas: ReplicaAck[]
  live: {keys: number; checksum: string}
  expected: {keys: number; checksum: string}
  /** A later cutover on these dbs ran after this plan (only for alreadyDone: live was not compared then). */
  supersededBy: string | null
  summary: RollbackSummary
  /** Only with `meta`: the metadata db (null: none) and metadata writes that failed (the rollback stands). */
  metadata?: MetaReport
}

export async function rollback(options: RollbackOptions): Promise<RollbackResult> {
  const log = new MetaLog(options.meta)
  const store = await abortable(openRecoveryMeta(options, resolveDbs(options.dbs), log), options.signal)
  const report = options.meta && log.report(store?.db ?? null)
  let loaded: LoadedPlan | undefined
  try {
    loaded = loadPlan(options.stateDir, options.plan, {changedOnly: true})
    const result = await rollbackPlan(options, loaded, store, log)
    return report ? {...result, metadata: report} : result
  } catch (error) {
    const failed = error as Error & {result?: RollbackResult}
    if (report && failed.result) failed.result.metadata = report
    throw error
  } finally {
    // Other machines learn that this plan is rolled back (or how far it got); never a failure.
    if (store && loaded) await updatePlan(store, loaded, log)
    await store?.close().catch(() => undefined)
  }
}

async function rollbackPlan(options: RollbackOptions, loaded: LoadedPlan, store: MetaStore | undefined, log: MetaLog): Promise<RollbackResult> {
  const {plan} = loaded
  checkLockDb(options.lockDb, plan.dbs)
  checkMetaDb(options.meta?.db, plan.dbs)
  // Undoing an older cutover under a newer one would restore data from before both.
  const later = laterPlans(options.stateDir, plan)
  const inPlace = later.find((other) => other.phase !== 'rolled-back')
  const alreadyDone = loaded.phase === 'planned' || loaded.phase === 'rolled-back'
  // Archive rotation deleted this plan's rollback data, or that of a later cutover that must be
  // undone first: no rollback can bring this plan's "before" back.
  if (!alreadyDone) {
    const latest = inPlace ? ` (to undo the latest cutover: ${later.findLast((other) => other.phase !== 'rolled-back')!.plan.commands.rollback})` : ''
    const discarder = discardedBy(options.stateDir, plan)
    if (discarder) {
      throw new CutoverRefusedError(
        `cannot roll back plan ${plan.id}: it was superseded by plan ${discarder.plan.id}, whose archive discard removed its rollback data (${discarder.plan.archiveDiscard!.keys} keys from archive db ${plan.dbs.archive})${latest}; nothing was changed`,
      )
    }
    for (const next of later) {
      const gone = discardedBy(options.stateDir, next.plan)
      if (gone) {
        throw new CutoverRefusedError(
          `cannot roll back plan ${plan.id}: it was superseded by plan ${next.plan.id}, whose rollback data plan ${gone.plan.id}'s archive discard removed, so this plan can no longer be undone${latest}; nothing was changed`,
        )
      }
    }
  }
  if (inPlace && !alreadyDone) {
    throw new CutoverRefusedError(
      `cannot roll back plan ${plan.id}: the later cutover ${inPlace.plan.id} on the same dbs is ${inPlace.phase} (it superseded this plan); roll that back first: ${inPlace.plan.commands.rollback}; nothing was changed`,
    )
  }
  const summary: RollbackSummary = {
    planId: plan.id,
    target: plan.target.url,
    strategy: plan.strategy,
    mode: plan.mode,
    dbs: plan.dbs,
    phase: loaded.phase,
    restores: plan.before.live,
    shadowToDiscard: 0,
  }
  const cancelled = options.signal
  const session = await abortable(openSession(options, plan.dbs), cancelled)
  let lock: HeldLock | undefined
  try {
    lock = await abortable(lockForRecovery(session, plan, options, undefined, 'rollback of cutover'), cancelled)
    if (alreadyDone) return await nothingToUndo(session, loaded, summary, later.at(-1))
    await ensurePlanKeys(loaded, store, log)
    const before = await abortable(checkBeforeRollback(session, plan, {
      phase: loaded.phase,
      cutoverCheckFailed: loaded.journal.entries().some((entry) => entry.event === 'verified' && entry.phase === 'cutover' && !entry.ok),
      discardShadow: Boolean(options.discardShadow),
    }), cancelled)
    const restaged = await stagedSince(options.stateDir, plan)
    if (restaged && plan.strategy === 'swapdb' && loaded.phase === 'switched' && before.problems.length === 0) {
      before.problems.push(`shadow db ${plan.dbs.shadow} was staged again after this plan, over live’s data from before the cutover`)
    }
    if (before.problems.length > 0) throw new CutoverRefusedError(refusal(loaded, before.problems, later.at(-1), restaged))
    summary.shadowToDiscard = before.shadowToDiscard
    if (options.confirm && !(await abortable(Promise.resolve(options.confirm(summary)), cancelled))) throw new CutoverRefusedError('not confirmed; nothing was changed')
    throwIfAborted(cancelled)

    if (before.shadowToDiscard > 0) {
      // Before 'rollback-started': a crash here leaves the plan 'switched', so running the same
      // command again empties what is left of the shadow and goes on.
      loaded.journal.append({event: 'shadow-discarded', keys: before.shadowToDiscard})
      await session.shadow.flushdb()
    }
    if (loaded.phase !== 'rolling-back') loaded.journal.append({event: 'rollback-started', startedAt: new Date().toISOString()})
    const outcome = await switchBack(
      {
        session,
        loaded,
        phase: 'rollback',
        batchCommands: options.batchCommands,
        replicaTimeoutMs: options.replicaTimeoutMs,
        onProgress: options.onProgress ? (progress) => options.onProgress!({phase: 'rollback', ...progress}) : undefined,
      },
      loaded.phase === 'switched',
    ).catch((error) => {
      throw nodeLost(error, `rollback of plan ${plan.id}`, `the journal is up to date: run the same rollback again to finish it: ${plan.commands.rollback} --yes`)
    })
    loaded.journal.append({event: 'rolled-back', durationMs: Math.round(outcome.durationMs)})
    const checked = await checkAfterRollback(session, plan)
    const problems = [...checked.problems, ...replicaProblems(outcome.replicas, options.replicaTimeoutMs)]
    const check = {...checked, ok: problems.length === 0, problems}
    loaded.journal.append({event: 'verified', phase: 'rollback', ok: check.ok, detail: check.problems[0]})
    const result = rollbackResult(loaded, summary, check, {
      alreadyDone: false,
      keysRestored: outcome.keysMoved,
      keysUnstaged: outcome.keysSetAside,
      durationMs: outcome.durationMs,
      supersededBy: null,
      replicas: outcome.replicas,
    })
    if (!check.ok) throw Object.assign(new CutoverFailedError(`rolled back, but the check failed: ${check.problems[0]}`), {result})
    return result
  } finally {
    await lock?.release().catch(() => undefined)
    await session.close().catch(() => undefined)
  }
}

/**
 * The plan never changed anything, or it was rolled back already. Live is compared with the
 * plan's "before" only when no later cutover ran on these dbs (after one, live rightly differs).
 */
async function nothingToUndo(session: Session, loaded: LoadedPlan, summary: RollbackSummary, later: LoadedPlan | undefined): Promise<RollbackResult> {
  const {plan} = loaded
  const check = await checkAfterRollback(session, plan)
  if (later || loaded.phase === 'planned') {
    return rollbackResult(loaded, summary, {...check, ok: true, problems: []}, {alreadyDone: true, keysRestored: 0, keysUnstaged: 0, durationMs: 0, supersededBy: later?.plan.id ?? null, replicas: []})
  }
  const result = rollbackResult(loaded, summary, check, {alreadyDone: true, keysRestored: 0, keysUnstaged: 0, durationMs: 0, supersededBy: null, replicas: []})
  if (!check.ok) throw Object.assign(new CutoverFailedError(`plan ${plan.id} is rolled back, but the check failed: ${check.problems[0]}`), {result})
  return result
}

function rollbackResult(
  loaded: LoadedPlan,
  summary: RollbackSummary,
  check: AfterCheck,
  done: Pick<RollbackResult, 'alreadyDone' | 'keysRestored' | 'keysUnstaged' | 'durationMs' | 'supersededBy' | 'replicas'>,
): RollbackResult {
  return {
    planId: loaded.plan.id,
    planPath: loaded.path,
    journalPath: loaded.journal.path,
    ...done,
    durationMs: Math.round(done.durationMs * 100) / 100,
    verified: {ok: check.ok, problems: check.problems},
    live: check.live,
    expected: loaded.plan.before.live,
    summary,
  }
}

/** One line: which db does not hold what the plan expects, who changed it if we know, and what to do. */
/** The newest manifest of the plan's shadow db, if it was staged after the plan. */
async function stagedSince(stateDir: string, plan: CutoverPlan): Promise<string | undefined> {
  const staged = await latestManifest(stateDir, {db: plan.dbs.shadow}).catch(() => undefined)
  return staged && staged.manifest.createdAt > plan.createdAt ? staged.manifest.id : undefined
}

function refusal(loaded: LoadedPlan, problems: string[], later: LoadedPlan | undefined, restaged: string | undefined): string {
  const {plan} = loaded
  const reasons: string[] = [problems[0] + (problems.length > 1 ? ` (+${problems.length - 1} more: ${problems.slice(1).join('; ')})` : '')]
  if (later) reasons.push(`the later cutover ${later.plan.id} (rolled back since) changed these dbs after this plan`)
  if (restaged) reasons.push(`manifest ${restaged} was staged into shadow db ${plan.dbs.shadow} after this plan`)
  let advice = 'it can no longer be undone from this plan'
  const about = (db: string) => problems.every((problem) => problem.startsWith(db))
  if (about(`shadow db ${plan.dbs.shadow} is not empty`)) advice = 'pass --discard-shadow to delete the shadow’s keys first (stage that dataset again afterwards)'
  else if (about(`live db ${plan.dbs.live}`) || about(`live + archive`)) {
    advice = 'live changed since the cutover (something wrote to it), so a rollback would not bring back exactly what was live before'
  }
  else if (plan.strategy === 'swapdb' && problems.some((problem) => problem.startsWith(`shadow db ${plan.dbs.shadow}`))) {
    advice = 'the old live data was overwritten in the shadow, so this swapdb cutover can no longer be undone'
  }
  return `cannot roll back plan ${plan.id}: ${reasons.join('; ')}; ${advice}; nothing was changed`
}
