// flip rollback [PLAN], as a function: undo a cutover from its plan (default: the newest).
// Cluster/move: staged keys back to the shadow, archived keys back to live; standalone: one
// more SWAPDB. Journaled, idempotent (every key decided from where it is now, see switch.ts),
// so an interrupted rollback is finished by running it again. Afterwards live must match the
// "before" checksum in the plan, and the shadow the staged data.
import {checkAfterRollback} from './check.js'
import {CutoverFailedError, CutoverRefusedError} from './errors.js'
import type {HeldLock} from './lock.js'
import type {PlanPhase} from './journal.js'
import {listPlanIds, loadPlan, type CutoverPlan} from './plan.js'
import {lockForRecovery} from './preflight.js'
import {openSession, type ConnectOptions} from './state.js'
import {switchBack, type SwitchProgress} from './switch.js'

export interface RollbackOptions extends ConnectOptions {
  stateDir: string
  /** Plan id or path; default the newest plan in <stateDir>/plans. */
  plan?: string
  lockDb?: number
  lockTtlMs?: number
  /** MOVEs per journaled batch of the batched strategy (default 8192). */
  batchCommands?: number
  /** Asked once before anything changes; false refuses. Absent = yes. */
  confirm?: (summary: RollbackSummary) => boolean | Promise<boolean>
  onProgress?: (progress: SwitchProgress & {phase: 'rollback'}) => void
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
  live: {keys: number; checksum: string}
  expected: {keys: number; checksum: string}
  summary: RollbackSummary
}

export async function rollback(options: RollbackOptions): Promise<RollbackResult> {
  const loaded = loadPlan(options.stateDir, options.plan)
  const {plan} = loaded
  // Undoing an older cutover under a newer one would restore data from before both.
  for (const id of listPlanIds(options.stateDir).filter((other) => other !== plan.id)) {
    const later = loadPlan(options.stateDir, id)
    if (later.plan.createdAt > plan.createdAt && later.phase !== 'planned' && later.phase !== 'rolled-back' && sameTarget(later.plan, plan)) {
      throw new CutoverRefusedError(`a later cutover (${id}) is ${later.phase}; roll that back first: ${later.plan.commands.rollback}`)
    }
  }
  const summary: RollbackSummary = {
    planId: plan.id,
    target: plan.target.url,
    strategy: plan.strategy,
    mode: plan.mode,
    dbs: plan.dbs,
    phase: loaded.phase,
    restores: plan.before.live,
  }
  const session = await openSession(options, plan.dbs)
  let lock: HeldLock | undefined
  try {
    lock = await lockForRecovery(session, plan, options, options.confirm && (() => options.confirm!(summary)), 'rollback of cutover')
    const alreadyDone = loaded.phase === 'planned' || loaded.phase === 'rolled-back'
    let keysRestored = 0
    let keysUnstaged = 0
    let durationMs = 0
    if (!alreadyDone) {
      if (loaded.phase !== 'rolling-back') loaded.journal.append({event: 'rollback-started', startedAt: new Date().toISOString()})
      const outcome = await switchBack(
        {
          session,
          loaded,
          phase: 'rollback',
          batchCommands: options.batchCommands,
          onProgress: options.onProgress ? (progress) => options.onProgress!({phase: 'rollback', ...progress}) : undefined,
        },
        loaded.phase === 'switched',
      )
      keysRestored = outcome.keysMoved
      keysUnstaged = outcome.keysSetAside
      durationMs = outcome.durationMs
      loaded.journal.append({event: 'rolled-back', durationMs: Math.round(durationMs)})
    }
    const check = await checkAfterRollback(session, plan)
    loaded.journal.append({event: 'verified', phase: 'rollback', ok: check.ok, detail: check.problems[0]})
    const result: RollbackResult = {
      planId: plan.id,
      planPath: loaded.path,
      journalPath: loaded.journal.path,
      alreadyDone,
      keysRestored,
      keysUnstaged,
      durationMs: Math.round(durationMs * 100) / 100,
      verified: {ok: check.ok, problems: check.problems},
      live: check.live,
      expected: plan.before.live,
      summary,
    }
    if (!check.ok) throw Object.assign(new CutoverFailedError(`rolled back, but the check failed: ${check.problems[0]}`), {result})
    return result
  } finally {
    await lock?.release().catch(() => undefined)
    await session.close().catch(() => undefined)
  }
}

function sameTarget(a: CutoverPlan, b: CutoverPlan): boolean {
  return a.target.url === b.target.url && a.dbs.live === b.dbs.live
}
