// Archive rotation. A move/atomic cutover leaves live's old data in the archive db: the data its
// rollback restores. The next cutover on the same dbs finds it there. When the archive holds
// exactly what the latest finished cutover recorded leaving there (count and checksum, in the
// 'verified' entry of its journal), it is that cutover's rollback data, and the new cutover may
// discard it (after its own plan is on disk); the older plan is then superseded for good.
// Anything else in the archive is data flip cannot account for, and is refused.
import {readJournal, type JournalEntry} from './journal.js'
import {journalPath, listPlanIds, loadPlan, planPath, readablePlans, startedSwitch, type CutoverPlan, type DbSummary, type LoadedPlan} from './plan.js'
import {crashPoint} from './crash-hook.js'
import {CutoverRefusedError} from './errors.js'
import {scanDb} from '../ops/db-checksum.js'
import {describeSummary, sameSummary, summary, type Session} from './state.js'

export interface ArchiveDiscard {
  /** The finished cutover whose rollback data the archive holds. */
  planId: string
  keys: number
  checksum: string
}

export interface TargetRef {
  url: string
  nodes: Array<{id: string}>
}

/** What a cutover's journal says it left in the archive db when its check passed (undefined: not finished, or failed). */
export function leftInArchive(entries: readonly JournalEntry[]): DbSummary | undefined {
  const verified = entries.findLast((entry) => entry.event === 'verified' && entry.phase === 'cutover')
  if (!verified || verified.event !== 'verified' || !verified.ok || !verified.archive) return undefined
  return {keys: verified.archive.keys, checksum: verified.archive.checksum}
}

function sameServer(plan: CutoverPlan, target: TargetRef): boolean {
  const ids = new Set(target.nodes.map((node) => node.id))
  return plan.target.url === target.url || plan.target.nodes.some((node) => ids.has(node.id))
}

function sharesDb(plan: CutoverPlan, dbs: CutoverPlan['dbs']): boolean {
  const mine = new Set([dbs.live, dbs.shadow, dbs.archive])
  return [plan.dbs.live, plan.dbs.shadow, plan.dbs.archive].some((db) => mine.has(db))
}

/**
 * Decides whether a non-empty archive is the rollback data of the latest cutover on this target
 * and these dbs: `{discard}` when it is, `{reason}` (why it is not rotated) otherwise.
 */
export function archiveRotation(stateDir: string, target: TargetRef, dbs: CutoverPlan['dbs'], archive: DbSummary): {discard: ArchiveDiscard} | {reason: string} {
  let latest: LoadedPlan | undefined
  for (const id of listPlanIds(stateDir).reverse()) {
    if (!startedSwitch(readJournal(journalPath(planPath(stateDir, id))))) continue
    let loaded: LoadedPlan
    try {
      loaded = loadPlan(stateDir, id)
    } catch {
      continue
    }
    if (!sameServer(loaded.plan, target) || !sharesDb(loaded.plan, dbs)) continue
    latest = loaded
    break
  }
  const found = describeSummary(archive)
  if (!latest) return {reason: `no cutover in this state directory left them there (${found})`}
  const {plan} = latest
  const d = plan.dbs
  if (d.live !== dbs.live || d.shadow !== dbs.shadow || d.archive !== dbs.archive) {
    return {reason: `the latest cutover on this target, ${plan.id}, used dbs live ${d.live}/shadow ${d.shadow}/archive ${d.archive}, not ${dbs.live}/${dbs.shadow}/${dbs.archive}`}
  }
  if (plan.strategy === 'swapdb') return {reason: `the latest cutover on these dbs, ${plan.id}, was a swapdb cutover, which leaves nothing in the archive db`}
  const entries = latest.journal.entries()
  if (latest.phase === 'switching') return {reason: `the latest cutover on these dbs, ${plan.id}, never finished (resume or roll it back: ${plan.commands.resume})`}
  if (latest.phase === 'rolling-back' || latest.phase === 'rolled-back') {
    return {reason: `the latest cutover on these dbs, ${plan.id}, was ${latest.phase === 'rolled-back' ? 'rolled back' : 'being rolled back'}, so the archive is not its rollback data`}
  }
  const left = leftInArchive(entries)
  if (!left) {
    const failed = entries.some((entry) => entry.event === 'verified' && entry.phase === 'cutover' && !entry.ok)
    return {
      reason: failed
        ? `the latest cutover on these dbs, ${plan.id}, failed its check, so what it left there is not known to be its rollback data`
        : `the latest cutover on these dbs, ${plan.id}, did not record what it left there (finished before archive rotation, or its check never ran)`,
    }
  }
  if (!sameSummary(left, archive)) {
    return {reason: `it holds ${found}, but the latest cutover on these dbs, ${plan.id}, left ${describeSummary(left)} there: the archive was changed since`}
  }
  return {discard: {planId: plan.id, keys: archive.keys, checksum: archive.checksum}}
}

/**
 * A later cutover whose archive discard removed `plan`'s rollback data (it wrote that in its plan
 * and began: its journal shows the discard or a switch), if any.
 */
export function discardedBy(stateDir: string, plan: CutoverPlan): LoadedPlan | undefined {
  for (const other of readablePlans(stateDir)) {
    if (other.plan.id === plan.id || other.plan.archiveDiscard?.planId !== plan.id) continue
    const entries = other.journal.entries()
    if (other.phase !== 'planned' || entries.some((entry) => entry.event === 'archive-discarded')) return other
  }
  return undefined
}

/**
 * Deletes the archive's old rollback data the plan says it discards, just before the switch (so
 * a cancelled cutover leaves the previous one undoable), and journals it. Idempotent for resume:
 * done already (journal), or an archive already empty (a crash after FLUSHDB), is fine; an
 * archive holding anything else is refused.
 */
export async function discardRotatedArchive(session: Session, loaded: LoadedPlan): Promise<void> {
  const discard = loaded.plan.archiveDiscard
  if (!discard || loaded.journal.entries().some((entry) => entry.event === 'archive-discarded')) return
  const size = (await session.archive.dbsize()).total
  if (size > 0) {
    // Only on resume can the archive differ from what pre-flight found (the lock was released).
    const now = summary((await scanDb(session.archive)).checksum)
    if (!sameSummary(now, discard)) {
      throw new CutoverRefusedError(
        `archive db ${loaded.plan.dbs.archive} holds ${describeSummary(now)}, not the rollback data of cutover ${discard.planId} that plan ${loaded.plan.id} discards (${describeSummary(discard)}); nothing was changed`,
      )
    }
    await session.archive.flushdb()
    crashPoint('archive-flushed')
  }
  loaded.journal.append({event: 'archive-discarded', planId: discard.planId, keys: discard.keys, checksum: discard.checksum})
}
