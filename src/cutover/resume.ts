// flip cutover --resume PLAN: finish an interrupted cutover from its plan and the server's state
// (every step decided from where the keys are now), or report one that already finished.
import {resolveDbs} from './dbs.js'
import {CutoverFailedError, CutoverRefusedError} from './errors.js'
import {emptyResult, finish, switchProgress, switchStop, switchStopped, withMetadata} from './finish.js'
import type {KeptLock} from './lock.js'
import {loadPlan, type LoadedPlan} from './plan.js'
import {checkLockDb, lockForRecovery} from './preflight.js'
import {discardRotatedArchive} from './rotation.js'
import {isoInZone, type Firing} from '../schedule/index.js'
import {openSession} from './state.js'
import {resumeForward} from './switch.js'
import type {CutoverOptions, CutoverResult, CutoverSummary} from './types.js'
import {MetaLog, checkMetaDb} from '../registry/meta-db.js'
import type {MetaStore} from '../registry/meta-store.js'
import {ensurePlanKeys, openRecoveryMeta, updatePlan} from '../registry/plans.js'

/** flip cutover --resume PLAN: finish an interrupted cutover from the server's state. */
export async function resumeCutover(options: CutoverOptions): Promise<CutoverResult> {
  const log = new MetaLog(options.meta)
  const store = await openRecoveryMeta(options, resolveDbs(options.dbs), log)
  try {
    const result = await resumeWith(options, store, log)
    return withMetadata(result, options.meta && log.report(store?.db ?? null))
  } catch (error) {
    throw withMetadata(error, options.meta && log.report(store?.db ?? null))
  } finally {
    await store?.close().catch(() => undefined)
  }
}

async function resumeWith(options: CutoverOptions, store: MetaStore | undefined, log: MetaLog): Promise<CutoverResult> {
  const loaded = loadPlan(options.stateDir, options.resume)
  const {plan} = loaded
  checkLockDb(options.lockDb, plan.dbs)
  checkMetaDb(options.meta?.db, plan.dbs)
  if (loaded.phase === 'rolling-back' || loaded.phase === 'rolled-back') {
    throw new CutoverRefusedError(`plan ${plan.id} is ${loaded.phase === 'rolled-back' ? 'rolled back' : 'being rolled back'}; finish with: ${plan.commands.rollback}`)
  }
  const stopped = loaded.phase === 'planned' ? loaded.journal.entries().find((entry) => entry.event === 'failed') : undefined
  if (stopped && stopped.event === 'failed') {
    throw new CutoverRefusedError(`cutover ${plan.id} stopped before changing anything (${stopped.message}); start a new cutover instead`)
  }
  const summary: CutoverSummary = {
    target: plan.target.url,
    topology: plan.target.mode,
    nodes: plan.target.nodes.length,
    dbs: plan.dbs,
    strategy: plan.strategy,
    mode: plan.mode,
    manifest: {id: plan.manifest?.id ?? '', keys: plan.manifest?.keys ?? plan.before.shadow.keys, checksum: plan.manifest?.checksum ?? plan.before.shadow.checksum},
    live: {keys: plan.before.live.keys},
    liveKeysToArchive: plan.mode === 'replace' ? plan.before.live.keys : null,
    archiveDb: plan.strategy === 'swapdb' ? plan.dbs.shadow : plan.dbs.archive,
    schedule: {kind: plan.schedule.kind, scheduledAt: isoInZone(new Date(plan.schedule.scheduledAt), plan.schedule.tz), tz: plan.schedule.tz},
    dryRun: false,
  }
  // Finished and checked: the shadow may hold the next dataset by now, so check nothing again.
  const checked = loaded.phase === 'switched' ? loaded.journal.entries().findLast((entry) => entry.event === 'verified' && entry.phase === 'cutover') : undefined
  if (checked && checked.event === 'verified') return alreadyFinished(loaded, summary, checked)
  if (loaded.phase !== 'switched') await ensurePlanKeys(loaded, store, log)
  const session = await openSession(options, plan.dbs)
  let lock: KeptLock | undefined
  try {
    lock = await lockForRecovery(session, plan, options, options.confirm && (() => options.confirm!(summary)), 'resume of cutover')
    if (loaded.phase === 'planned') await discardRotatedArchive(session, loaded)
    const startedAt = new Date()
    await lock.ensureHeld()
    options.onProgress?.({phase: 'switch-started', planId: plan.id})
    if (loaded.phase === 'planned') loaded.journal.append({event: 'switch-started', strategy: plan.strategy, startedAt: startedAt.toISOString()})
    const stop = switchStop(options, lock)
    const outcome =
      loaded.phase === 'switched'
        ? {keysMoved: 0, keysSetAside: 0, durationMs: 0, conflicts: {count: 0, keys: []}, replicas: []}
        : await resumeForward({session, loaded, phase: 'cutover', onProgress: switchProgress(options), atomicMinDurationMs: options.atomicMinDurationMs, batchCommands: options.batchCommands, stop, replicaTimeoutMs: options.replicaTimeoutMs}).catch((error) => {
            throw switchStopped(error, stop, plan)
          })
    const firing: Firing = {scheduledAt: new Date(plan.schedule.scheduledAt), startedAt, driftMs: startedAt.getTime() - Date.parse(plan.schedule.scheduledAt)}
    return await finish({options, session, loaded, outcome, firing, summary, lock: {kind: lock.kind, where: lock.where}, resumed: true})
  } finally {
    if (store) await updatePlan(store, loaded, log)
    await lock?.release().catch(() => undefined)
    await session.close().catch(() => undefined)
  }
}

/** --resume of a plan whose switch and check already ran: report them, change nothing. */
function alreadyFinished(loaded: LoadedPlan, summary: CutoverSummary, checked: {ok: boolean; detail?: string; at: string}): CutoverResult {
  const {plan} = loaded
  const switched = loaded.journal.entries().findLast((entry) => entry.event === 'switched')
  const started = loaded.journal.entries().findLast((entry) => entry.event === 'switch-started')
  const result: CutoverResult = {
    ...emptyResult(plan.strategy, plan.mode, summary, false),
    planId: plan.id,
    planPath: loaded.path,
    journalPath: loaded.journal.path,
    resumed: true,
    alreadyDone: true,
    archiveDiscarded: plan.archiveDiscard ?? null,
    scheduledAt: plan.schedule.scheduledAt,
    startedAt: started?.event === 'switch-started' ? started.startedAt : plan.schedule.scheduledAt,
    durationMs: switched?.event === 'switched' ? switched.durationMs : 0,
    rollbackCommand: plan.commands.rollback,
    resumeCommand: plan.commands.resume,
    verified: {ok: checked.ok, problems: checked.detail ? [checked.detail] : []},
  }
  if (!checked.ok) {
    throw Object.assign(new CutoverFailedError(`cutover ${plan.id} already finished (nothing done now), but its check failed then: ${checked.detail ?? 'see the journal'}; to undo: ${plan.commands.rollback}`), {result})
  }
  return result
}
