// The checks after a switch, from checksums of what the dbs hold (src/dataset/checksum.ts).
// Checksums are sums of per-key digests, so "no key lost or changed" is arithmetic:
// live + shadow + archive after = live + shadow + archive before.
//   cutover, move/atomic: shadow empty; live + archive = live before + staged;
//                         replace: live = the manifest, archive = live before
//   cutover, swapdb:      live = the manifest; shadow = live before
//   rollback:             live = live before; shadow = the staged data; archive as before
import type {PlanPhase} from './journal.js'
import type {CutoverPlan, DbSummary} from './plan.js'
import {scanDb} from '../ops/db-checksum.js'
import {addSummaries, describeSummary, sameSummary, summary, type Session} from './state.js'

export interface AfterCheck {
  ok: boolean
  problems: string[]
  live: DbSummary
  shadow: DbSummary
  archive: DbSummary
}

async function readAll(session: Session): Promise<{live: DbSummary; shadow: DbSummary; archive: DbSummary}> {
  const [live, shadow, archive] = await Promise.all([scanDb(session.live), scanDb(session.shadow), scanDb(session.archive)])
  return {live: summary(live.checksum), shadow: summary(shadow.checksum), archive: summary(archive.checksum)}
}

function expect(problems: string[], what: string, actual: DbSummary, wanted: DbSummary): void {
  if (!sameSummary(actual, wanted)) problems.push(`${what} holds ${describeSummary(actual)}, expected ${describeSummary(wanted)}`)
}

export async function checkAfterCutover(session: Session, plan: CutoverPlan): Promise<AfterCheck> {
  const now = await readAll(session)
  const problems: string[] = []
  const {before, dbs} = plan
  const staged: DbSummary = plan.manifest ? {keys: plan.manifest.keys, checksum: plan.manifest.checksum} : before.shadow
  if (plan.strategy === 'swapdb') {
    expect(problems, `live db ${dbs.live}`, now.live, staged)
    expect(problems, `shadow db ${dbs.shadow} (the old live data)`, now.shadow, before.live)
  } else {
    if (now.shadow.keys !== 0) problems.push(`shadow db ${dbs.shadow} still holds ${now.shadow.keys} keys that were not switched`)
    expect(problems, `live + archive (dbs ${dbs.live} + ${dbs.archive})`, addSummaries(now.live, now.archive), addSummaries(before.live, staged))
    if (plan.mode === 'replace') {
      expect(problems, `live db ${dbs.live}`, now.live, staged)
      expect(problems, `archive db ${dbs.archive}`, now.archive, before.live)
    }
  }
  return {ok: problems.length === 0, problems, ...now}
}

export async function checkAfterRollback(session: Session, plan: CutoverPlan): Promise<AfterCheck> {
  const now = await readAll(session)
  const problems: string[] = []
  const {before, dbs} = plan
  expect(problems, `live db ${dbs.live}`, now.live, before.live)
  expect(problems, `shadow db ${dbs.shadow}`, now.shadow, before.shadow)
  if (plan.strategy !== 'swapdb') expect(problems, `archive db ${dbs.archive}`, now.archive, before.archive)
  return {ok: problems.length === 0, problems, ...now}
}

/** What a rollback needs to find before its first change, or why it cannot run. */
export interface BeforeRollback {
  problems: string[]
  /** rollback --discard-shadow: keys in the shadow that will be deleted first (0 = none). */
  shadowToDiscard: number
  live: DbSummary
  shadow: DbSummary
  archive: DbSummary
}

/**
 * Before a rollback changes anything: every db it will write still holds what the plan and its
 * journal say. Otherwise moving keys "back" would mix datasets (MOVE refuses names the target
 * db already has, so live would be left half rolled back) or remove live keys with nothing to
 * restore (an archive discarded by a later cutover).
 *   finished cutover (phase switched):
 *     swapdb      live = the staged data, shadow = live before (unless the cutover's check failed)
 *     move/atomic shadow empty (or, with discardShadow, to be emptied); replace: archive = live
 *                 before and live = the staged data; merge: live + archive = live before + staged.
 *                 When the cutover's own check failed (it said "to undo: flip rollback"), live
 *                 may differ; the archive must not.
 *   interrupted cutover or rollback (switching, rolling-back): no key lost or added over the three
 *     dbs (live + shadow + archive = as before the cutover); swapdb: live and shadow are the two
 *     datasets, either way round.
 */
export async function checkBeforeRollback(
  session: Session,
  plan: CutoverPlan,
  state: {phase: PlanPhase; cutoverCheckFailed: boolean; discardShadow: boolean},
): Promise<BeforeRollback> {
  const now = await readAll(session)
  const problems: string[] = []
  const {before, dbs} = plan
  const staged: DbSummary = plan.manifest ? {keys: plan.manifest.keys, checksum: plan.manifest.checksum} : before.shadow
  let shadowToDiscard = 0
  const mismatch = (what: string, actual: DbSummary, wanted: DbSummary, meaning: string) => {
    if (!sameSummary(actual, wanted)) problems.push(`${what} holds ${describeSummary(actual)}, expected ${meaning} (${describeSummary(wanted)})`)
  }
  if (state.phase === 'switched') {
    if (plan.strategy === 'swapdb') {
      // A failed cutover check means something wrote to live around the switch: the dbs differ
      // from the plan, but swapping back is still whole-db (the caller refuses a re-staged shadow).
      if (!state.cutoverCheckFailed) {
        mismatch(`live db ${dbs.live}`, now.live, staged, 'the data the cutover put there')
        mismatch(`shadow db ${dbs.shadow}`, now.shadow, before.live, 'live’s data from before the cutover, which the SWAPDB put there')
      }
    } else {
      if (now.shadow.keys > 0) {
        if (state.discardShadow) shadowToDiscard = now.shadow.keys
        else problems.push(`shadow db ${dbs.shadow} is not empty (${now.shadow.keys} keys): the cut-over keys cannot move back there`)
      }
      if (plan.mode === 'replace') {
        mismatch(`archive db ${dbs.archive}`, now.archive, before.live, 'live’s data from before the cutover')
        if (!state.cutoverCheckFailed) mismatch(`live db ${dbs.live}`, now.live, staged, 'the data the cutover put there')
      } else if (!state.cutoverCheckFailed) {
        mismatch(`live + archive (dbs ${dbs.live} + ${dbs.archive})`, addSummaries(now.live, now.archive), addSummaries(before.live, staged), 'live before the cutover plus the staged data')
      }
    }
  } else if (state.phase === 'switching' || state.phase === 'rolling-back') {
    if (plan.strategy === 'swapdb') {
      const straight = sameSummary(now.live, before.live) && sameSummary(now.shadow, staged)
      const swapped = sameSummary(now.live, staged) && sameSummary(now.shadow, before.live)
      if (!straight && !swapped) {
        problems.push(
          `live db ${dbs.live} and shadow db ${dbs.shadow} hold ${describeSummary(now.live)} and ${describeSummary(now.shadow)}, expected live’s data from before the cutover (${describeSummary(before.live)}) and the staged data (${describeSummary(staged)}), either way round`,
        )
      }
    } else {
      mismatch(
        `live + shadow + archive (dbs ${dbs.live} + ${dbs.shadow} + ${dbs.archive})`,
        addSummaries(now.live, now.shadow, now.archive),
        addSummaries(before.live, before.shadow, before.archive),
        'what they held together before the cutover',
      )
    }
  }
  return {problems, shadowToDiscard, ...now}
}
