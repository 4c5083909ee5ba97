// Pre-flight: everything checked before a cutover may change anything. Each refusal is one
// line that says what is wrong and what to do.
//   1. the target is healthy (cluster_state ok, all slots served, nothing migrating, every
//      primary reachable) — the data plane's health()
//   2. the manifest is complete, for the shadow db (src/registry/manifests.ts findManifest, before)
//   3. the lock is ours (lock.ts)
//   3b. the guards hold (guards.ts): the dataset compared with live, before anything changes
//   4. the archive db is empty (or emptied with discardArchive), or holds exactly the rollback
//      data of the latest finished cutover on these dbs, which is then rotated (rotation.ts) —
//      move/atomic only
//   5. the shadow still matches its manifest: every key read back and checksummed (a full
//      verify), or with skipVerify only its key count
//   6. live is read and checksummed: the "before" a rollback must restore
import type {LoadedManifest} from '../dataset/manifest.js'
import {CutoverRefusedError, CutoverUsageError} from './errors.js'
import {degradedShard} from '../plane/health.js'
import {acquireLock, type KeptLock} from './lock.js'
import {checkSwitchPermissions} from './permissions.js'
import {checkGuards, type GuardReport, type GuardSettings} from './guards.js'
import type {ServerTarget} from '../plane/index.js'
import {hostname} from 'node:os'
import {abortable} from '../util/interrupt.js'
import type {CutoverMode, CutoverPlan, DbSummary, Strategy} from './plan.js'
import {archiveRotation, type ArchiveDiscard} from './rotation.js'
import {scanDb} from '../ops/db-checksum.js'
import {describeSummary, scanKeysBySlot, summary, type Session, type SlotKeys} from './state.js'

/**
 * `refuseDegraded`: a new cutover refuses a shard with a replica down (its readers would be
 * served by fewer nodes, and nothing would confirm that the missing replica saw the switch);
 * resume and rollback finish what was started and only wait for the replicas that are online.
 */
export async function checkHealth(session: Session, refuseDegraded = false): Promise<void> {
  const health = await session.live.health()
  if (!health.ok) throw new CutoverRefusedError(`target not healthy: ${listed(health.problems)}`)
  const degraded = refuseDegraded ? session.live.primaries.flatMap(degradedShard) : []
  if (degraded.length > 0) {
    throw new CutoverRefusedError(`target degraded: ${listed(degraded)}; nothing was changed (pass --allow-degraded to cut over anyway)`)
  }
}

function listed(problems: string[]): string {
  return `${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`
}

export interface PreflightInput {
  session: Session
  manifest: LoadedManifest
  strategy: Strategy
  mode: CutoverMode
  stateDir: string
  lockDb?: number
  lockTtlMs?: number
  purpose: string
  skipVerify?: boolean
  discardArchive?: boolean
  /** Refuse a non-empty archive even when it is the previous cutover's rollback data (no rotation). */
  keepArchive?: boolean
  /** Seed URL without password, as plans record it (to recognise this target's plans). */
  targetUrl?: string
  /** Go on although a shard has a replica down (--allow-degraded). */
  allowDegraded?: boolean
  /** Check only: a non-empty archive with discardArchive is reported, not emptied. */
  dryRun?: boolean
  /** Limits on what the dataset changes (guards.ts), judged from a diff through `target`. */
  guards?: {settings: GuardSettings; target: ServerTarget}
  onProgress?: (step: string, keys?: number) => void
  /** Stop at once (the lock is released); the error is the signal's reason. */
  signal?: AbortSignal
}

export interface Preflight {
  lock: KeptLock
  before: {live: DbSummary; shadow: DbSummary; archive: DbSummary}
  /** Key names by slot (move/atomic: the staged keys, and for move+replace live's too). */
  stagedKeys?: SlotKeys
  liveKeys?: SlotKeys
  /**
   * Archive rotation: the archive holds the rollback data of this finished cutover; the caller
   * deletes it after writing its plan (`before.archive` is then the empty db it leaves).
   */
  archiveDiscard?: ArchiveDiscard
  guards?: GuardReport
}

/**
 * A non-empty archive (move/atomic), without --discard-archive: rotated when it holds exactly what
 * the latest finished cutover on these dbs left there; otherwise refused, saying why.
 */
async function rotatableArchive(input: PreflightInput, keys: number, progress: (step: string, keys?: number) => void, stop: AbortSignal): Promise<ArchiveDiscard> {
  const {session} = input
  const db = session.dbs.archive
  const advice = 'roll back the cutover that left them there, or pass --discard-archive to delete them'
  if (input.keepArchive) {
    throw new CutoverRefusedError(`archive db ${db} is not empty (${keys} keys, perhaps the old data of an earlier cutover; --keep-archive: not rotated): ${advice}`)
  }
  progress(`reading archive db ${db} (${keys} keys: the rollback data of the previous cutover?)`)
  const found = summary((await abortable(scanDb(session.archive, {onKeys: (n) => progress('reading archive', n)}), stop)).checksum)
  const identity = session.live.identity()
  const rotation = archiveRotation(input.stateDir, {url: input.targetUrl ?? '', nodes: identity.nodes}, session.dbs, found)
  if ('reason' in rotation) throw new CutoverRefusedError(`archive db ${db} is not empty (${keys} keys) and is not rotated: ${rotation.reason}; ${advice}`)
  progress(`archive db ${db} holds the rollback data of cutover ${rotation.discard.planId}: ${input.dryRun ? 'it would be discarded' : 'it is discarded just before the switch'}`)
  return rotation.discard
}

export async function preflight(input: PreflightInput): Promise<Preflight> {
  const {session, manifest, strategy, mode} = input
  const progress = input.onProgress ?? (() => {})
  progress('checking the target’s health')
  await abortable(checkHealth(session, !input.allowDegraded), input.signal)
  progress('taking the cutover lock')
  const lock = await acquireLock({
    plane: session.live,
    dbsInUse: [session.dbs.live, session.dbs.shadow, session.dbs.archive],
    lockDb: input.lockDb,
    stateDir: input.stateDir,
    ttlMs: input.lockTtlMs,
    purpose: input.purpose,
  })
  // The reads below can take minutes: stop them when asked to, or when the lock is lost.
  const stop = input.signal ? AbortSignal.any([input.signal, lock.lost]) : lock.lost
  try {
    // A user without a command the switch needs is refused here, before any plan exists.
    await abortable(checkSwitchPermissions(session.live, session.dbs, strategy), stop)
    const guards = input.guards && (await abortable(checkGuards({...input.guards, dbs: session.dbs, mode, signal: stop, onProgress: progress}), stop))
    let archive: DbSummary = {keys: 0, checksum: '0'.repeat(32)}
    let archiveDiscard: ArchiveDiscard | undefined
    if (strategy !== 'swapdb') {
      const size = await session.archive.dbsize()
      if (size.total > 0) {
        if (input.discardArchive) {
          if (input.dryRun) progress(`archive db ${session.dbs.archive} holds ${size.total} keys: --discard-archive would delete them`)
          else {
            progress(`emptying archive db ${session.dbs.archive} (--discard-archive)`)
            await session.archive.flushdb()
          }
        } else {
          archiveDiscard = await rotatableArchive(input, size.total, progress, stop)
        }
      }
    } else {
      archive = summary((await abortable(scanDb(session.archive), stop)).checksum)
    }

    const needKeys = strategy !== 'swapdb'
    const expected: DbSummary = {keys: manifest.manifest.keys, checksum: manifest.manifest.checksum}
    let shadow: DbSummary
    let stagedKeys: SlotKeys | undefined
    if (input.skipVerify) {
      progress(`counting shadow db ${session.dbs.shadow} (--skip-verify)`)
      const scan = needKeys ? await abortable(scanKeysBySlot(session.shadow), stop) : {keys: (await session.shadow.dbsize()).total, keysBySlot: undefined}
      if (scan.keys !== expected.keys) {
        throw new CutoverRefusedError(`shadow db ${session.dbs.shadow} has ${scan.keys} keys, manifest ${manifest.manifest.id} says ${expected.keys}: run flip verify`)
      }
      shadow = expected
      stagedKeys = scan.keysBySlot
    } else {
      progress(`verifying shadow db ${session.dbs.shadow} against manifest ${manifest.manifest.id}`)
      const scan = await abortable(scanDb(session.shadow, {collectKeys: needKeys, onKeys: (n) => progress('verifying shadow', n)}), stop)
      shadow = summary(scan.checksum)
      if (shadow.keys !== expected.keys || shadow.checksum !== expected.checksum) {
        throw new CutoverRefusedError(
          `shadow db ${session.dbs.shadow} no longer matches manifest ${manifest.manifest.id} (${describeSummary(shadow)}; manifest: ${describeSummary(expected)}): run flip verify for the keys`,
        )
      }
      stagedKeys = scan.keysBySlot
    }

    progress(`reading live db ${session.dbs.live} (the state a rollback restores)`)
    const liveScan = await abortable(scanDb(session.live, {collectKeys: strategy === 'move' && mode === 'replace', onKeys: (n) => progress('reading live', n)}), stop)
    return {lock, before: {live: summary(liveScan.checksum), shadow, archive}, stagedKeys, liveKeys: liveScan.keysBySlot, archiveDiscard, guards}
  } catch (error) {
    await lock.release()
    throw error
  }
}

/**
 * Before resuming or undoing a plan: the target is healthy, the operator agrees, and the lock
 * is ours (released by the caller).
 */
export async function lockForRecovery(
  session: Session,
  plan: CutoverPlan,
  options: {lockDb?: number; stateDir: string; lockTtlMs?: number},
  confirm: (() => boolean | Promise<boolean>) | undefined,
  purpose: string,
): Promise<KeptLock> {
  await checkHealth(session)
  if (confirm && !(await confirm())) throw new CutoverRefusedError('not confirmed; nothing was changed')
  return acquireLock({
    plane: session.live,
    dbsInUse: [plan.dbs.live, plan.dbs.shadow, plan.dbs.archive],
    lockDb: options.lockDb,
    stateDir: options.stateDir,
    ttlMs: options.lockTtlMs,
    purpose: `${purpose} ${plan.id} on ${hostname()}`,
  })
}

/**
 * --lock-db must be a db flip does not switch: in live, the lock key would be archived (or
 * swapped away) with live's data; in the shadow or archive it would be moved or deleted.
 */
export function checkLockDb(lockDb: number | undefined, dbs: {live: number; shadow: number; archive: number}): void {
  if (lockDb === undefined) return
  const role = (['live', 'shadow', 'archive'] as const).find((name) => dbs[name] === lockDb)
  if (role) throw new CutoverUsageError(`--lock-db ${lockDb} is the ${role} db: the lock key would be switched with its data; choose a db the cutover does not use (default: the highest free one)`)
}
