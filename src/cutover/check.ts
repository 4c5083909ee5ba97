// The checks after a switch, from checksums of what the dbs hold (src/dataset/checksum.ts).
// Checksums are sums of per-key digests, so "no key lost or changed" is arithmetic:
// live + shadow + archive after = live + shadow + archive before.
//   cutover, move/atomic: shadow empty; live + archive = live before + staged;
//                         replace: live = the manifest, archive = live before
//   cutover, swapdb:      live = the manifest; shadow = live before
//   rollback:             live = live before; shadow = the staged data; archive as before
import type {CutoverPlan, DbSummary} from './plan.js'
import {addSummaries, describeSummary, sameSummary, scanDb, summary, type Session} from './state.js'

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
