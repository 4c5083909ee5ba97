// The end of a cutover, shared by a new run and a resume: how the switch is stopped, what a
// stopped switch says, and the check of live with the result built from it.
import {checkAfterCutover} from './check.js'
import {crashPoint} from './crash-hook.js'
import {CutoverFailedError, LockLostError} from './errors.js'
import {ConnectionError} from '../plane/errors.js'
import {replicaProblems} from './replicas.js'
import type {GuardResult} from './guards.js'
import type {KeptLock} from './lock.js'
import type {CutoverMode, CutoverPlan, LoadedPlan, Strategy} from './plan.js'
import {isoInZone, type Firing} from '../schedule/index.js'
import type {Session} from './state.js'
import type {SwitchOutcome, SwitchProgress} from './switch.js'
import type {CutoverOptions, CutoverResult, CutoverSummary} from './types.js'
import type {MetaReport} from '../registry/meta-db.js'
import {InterruptedError, abortable} from '../util/interrupt.js'

/** The metadata report on a result, or on the result a failure carries. */
export function withMetadata<T>(value: T, report: MetaReport | undefined): T {
  if (!report) return value
  const target = value instanceof Error ? (value as Error & {result?: CutoverResult}).result : (value as CutoverResult)
  if (target && typeof target === 'object') target.metadata = report
  return value
}

/** Stops the switch between batches: the caller's stop, or the lock lost. */
export function switchStop(options: CutoverOptions, lock: KeptLock): AbortSignal {
  return options.stopSignal ? AbortSignal.any([options.stopSignal, lock.lost]) : lock.lost
}

/** A switch cut short by `stop` or by a node lost: one line saying where things are and how to go on. */
export function switchStopped(error: unknown, stop: AbortSignal, plan: CutoverPlan): unknown {
  const next = `live is partly switched and the journal is up to date: finish with: ${plan.commands.resume} --yes, or undo with: ${plan.commands.rollback} --yes`
  if (!stop.aborted) return nodeLost(error, `cutover ${plan.id}`, next)
  const reason = stop.reason as Error
  if (reason instanceof LockLostError) return new CutoverFailedError(`${reason.message}: the switch stopped after the batch in flight; ${next}`)
  return new InterruptedError(`cutover ${plan.id} ${reason.message}: the switch stopped after the batch in flight; ${next}`)
}

/**
 * A primary lost mid-switch (killed, failing over): exit 3 naming it. What it acknowledged is
 * journaled; what it did not reach its replica is simply done again (every step is idempotent).
 */
export function nodeLost(error: unknown, what: string, next: string): unknown {
  if (!(error instanceof ConnectionError)) return error
  return new ConnectionError(`${what} stopped: ${error.message}; once the cluster serves every slot again (its replica promoted), ${next}`)
}

export function switchProgress(options: CutoverOptions): ((progress: SwitchProgress) => void) | undefined {
  if (!options.onProgress) return undefined
  return (progress) => options.onProgress!({phase: 'switch', ...progress})
}

export interface FinishInput {
  options: CutoverOptions
  session: Session
  loaded: LoadedPlan
  outcome: SwitchOutcome
  firing: Firing
  summary: CutoverSummary
  lock: {kind: 'server' | 'file'; where: string}
  resumed: boolean
  /** As judged in pre-flight (absent on resume). */
  guards?: GuardResult[]
}

/** After the switch: journal it, check live, and build the result (a failed check throws it). */
export async function finish(input: FinishInput): Promise<CutoverResult> {
  const {options, session, loaded, outcome, firing, summary, lock, resumed, guards} = input
  const {plan} = loaded
  loaded.journal.append({event: 'switched', keys: outcome.keysMoved, durationMs: Math.round(outcome.durationMs)})
  crashPoint('switched')
  options.onProgress?.({phase: 'check'})
  const check = await abortable(checkAfterCutover(session, plan), options.stopSignal).catch((error) => {
    if (!options.stopSignal?.aborted) throw error
    throw new InterruptedError(
      `cutover ${plan.id} switched ${outcome.keysMoved} keys, but the check of live afterwards was ${(error as Error).message}: check with: flip verify --db ${plan.dbs.live}${plan.manifest ? ` --manifest ${plan.manifest.id}` : ''} (undo with: ${plan.commands.rollback} --yes)`,
    )
  })
  const problems = [...check.problems, ...replicaProblems(outcome.replicas, options.replicaTimeoutMs)]
  if (outcome.conflicts.count > 0) {
    problems.unshift(`${outcome.conflicts.count} staged keys could not move into live (already there): ${outcome.conflicts.keys.slice(0, 5).join(', ')}`)
  }
  // What it leaves in the archive db is its rollback data: recorded, so the next cutover can rotate it.
  const archive = problems.length === 0 && plan.strategy !== 'swapdb' ? {db: plan.dbs.archive, keys: check.archive.keys, checksum: check.archive.checksum} : undefined
  loaded.journal.append({event: 'verified', phase: 'cutover', ok: problems.length === 0, detail: problems[0], ...(archive ? {archive} : {})})
  const result: CutoverResult = {
    planId: plan.id,
    planPath: loaded.path,
    journalPath: loaded.journal.path,
    strategy: plan.strategy,
    mode: plan.mode,
    dryRun: false,
    resumed,
    archiveDiscarded: plan.archiveDiscard ?? null,
    keysSwitched: outcome.keysMoved,
    keysArchived: outcome.keysSetAside,
    durationMs: Math.round(outcome.durationMs * 100) / 100,
    scheduledAt: isoInZone(firing.scheduledAt, plan.schedule.tz),
    startedAt: isoInZone(firing.startedAt, plan.schedule.tz),
    driftMs: firing.driftMs,
    rollbackCommand: plan.commands.rollback,
    resumeCommand: plan.commands.resume,
    verified: {ok: problems.length === 0, problems},
    conflicts: outcome.conflicts,
    atomic: outcome.atomic,
    replicas: outcome.replicas,
    lock,
    summary,
    ...(guards ? {guards} : {}),
  }
  if (problems.length > 0) {
    throw Object.assign(
      new CutoverFailedError(`switched, but the check failed: ${problems[0]}; to undo: ${plan.commands.rollback}`),
      {result},
    )
  }
  return result
}

export function emptyResult(strategy: Strategy, mode: CutoverMode, summary: CutoverSummary, dryRun: boolean): CutoverResult {
  return {
    planId: null,
    planPath: null,
    journalPath: null,
    strategy,
    mode,
    dryRun,
    resumed: false,
    archiveDiscarded: null,
    keysSwitched: 0,
    keysArchived: 0,
    durationMs: 0,
    scheduledAt: summary.schedule.scheduledAt,
    startedAt: summary.schedule.scheduledAt,
    driftMs: 0,
    rollbackCommand: null,
    resumeCommand: null,
    verified: {ok: true, problems: []},
    conflicts: {count: 0, keys: []},
    replicas: [],
    lock: null,
    summary,
  }
}
