// Pre-flight: everything checked before a cutover may change anything. Each refusal is one
// line that says what is wrong and what to do.
//   1. the target is healthy (cluster_state ok, all slots served, nothing migrating, every
//      primary reachable) — the data plane's health()
//   2. the manifest is complete, for the shadow db
//   3. the lock is ours (lock.ts)
//   3b. the guards hold (guards.ts): the dataset compared with live, before anything changes
//   4. the archive db is empty (or emptied with discardArchive) — move/atomic only
//   5. the shadow still matches its manifest: every key read back and checksummed (a full
//      verify), or with skipVerify only its key count
//   6. live is read and checksummed: the "before" a rollback must restore
import {latestManifest, readManifest, type LoadedManifest} from '../dataset/manifest.js'
import {formatAddress} from '../plane/url.js'
import {CutoverRefusedError, CutoverUsageError} from './errors.js'
import {acquireLock, type HeldLock} from './lock.js'
import {checkGuards, type GuardReport, type GuardSettings} from './guards.js'
import type {PlaneTarget} from '../ops/target.js'
import {hostname} from 'node:os'
import type {CutoverMode, CutoverPlan, DbSummary, Strategy} from './plan.js'
import {describeSummary, scanDb, scanKeysBySlot, summary, type Session, type SlotKeys} from './state.js'

export async function findManifest(stateDir: string, shadowDb: number, idOrPath?: string): Promise<LoadedManifest> {
  let loaded: LoadedManifest | undefined
  if (idOrPath) {
    try {
      loaded = await readManifest(stateDir, idOrPath)
    } catch (error) {
      throw new CutoverUsageError((error as Error).message)
    }
  } else {
    // The newest stage of the shadow decides what it holds: if that one did not finish, an
    // older complete manifest describes data it emptied, so name the unfinished one.
    loaded = await latestManifest(stateDir, {db: shadowDb})
    if (loaded && !loaded.manifest.complete) {
      throw new CutoverRefusedError(
        `the newest manifest of shadow db ${shadowDb}, ${loaded.manifest.id}, is incomplete (${loaded.manifest.failure ?? 'its stage did not finish'}): the shadow holds part of that dataset; stage it again (flip stage --replace)`,
      )
    }
    if (!loaded) throw new CutoverRefusedError(`no complete manifest for shadow db ${shadowDb} in ${stateDir}/manifests: stage the dataset first (flip stage)`)
  }
  const {manifest} = loaded
  if (!manifest.complete) throw new CutoverRefusedError(`manifest ${manifest.id} is incomplete (${manifest.failure ?? 'its stage did not finish'}): stage again`)
  if (manifest.db !== shadowDb) throw new CutoverRefusedError(`manifest ${manifest.id} describes db ${manifest.db}, but the shadow db is ${shadowDb}`)
  return loaded
}

export async function checkHealth(session: Session): Promise<void> {
  const health = await session.live.health()
  if (!health.ok) throw new CutoverRefusedError(`target not healthy: ${health.problems.slice(0, 3).join('; ')}${health.problems.length > 3 ? ` (+${health.problems.length - 3} more)` : ''}`)
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
  /** Check only: a non-empty archive with discardArchive is reported, not emptied. */
  dryRun?: boolean
  /** Limits on what the dataset changes (guards.ts), judged from a diff through `target`. */
  guards?: {settings: GuardSettings; target: PlaneTarget}
  onProgress?: (step: string, keys?: number) => void
}

export interface Preflight {
  lock: HeldLock
  before: {live: DbSummary; shadow: DbSummary; archive: DbSummary}
  /** Key names by slot (move/atomic: the staged keys, and for move+replace live's too). */
  stagedKeys?: SlotKeys
  liveKeys?: SlotKeys
  guards?: GuardReport
}

export async function preflight(input: PreflightInput): Promise<Preflight> {
  const {session, manifest, strategy, mode} = input
  const progress = input.onProgress ?? (() => {})
  progress('checking the target’s health')
  await checkHealth(session)
  progress('taking the cutover lock')
  const lock = await acquireLock({
    plane: session.live,
    dbsInUse: [session.dbs.live, session.dbs.shadow, session.dbs.archive],
    lockDb: input.lockDb,
    stateDir: input.stateDir,
    ttlMs: input.lockTtlMs,
    purpose: input.purpose,
  })
  try {
    const guards = input.guards && (await checkGuards({...input.guards, dbs: session.dbs, mode, onProgress: progress}))
    let archive: DbSummary = {keys: 0, checksum: '0'.repeat(32)}
    if (strategy !== 'swapdb') {
      const size = await session.archive.dbsize()
      if (size.total > 0) {
        if (!input.discardArchive) {
          throw new CutoverRefusedError(
            `archive db ${session.dbs.archive} is not empty (${size.total} keys, perhaps the old data of an earlier cutover): roll that back, or pass --discard-archive to delete them`,
          )
        }
        if (input.dryRun) progress(`archive db ${session.dbs.archive} holds ${size.total} keys: --discard-archive would delete them`)
        else {
          progress(`emptying archive db ${session.dbs.archive} (--discard-archive)`)
          await session.archive.flushdb()
        }
      }
    } else {
      archive = summary((await scanDb(session.archive)).checksum)
    }

    const needKeys = strategy !== 'swapdb'
    const expected: DbSummary = {keys: manifest.manifest.keys, checksum: manifest.manifest.checksum}
    let shadow: DbSummary
    let stagedKeys: SlotKeys | undefined
    if (input.skipVerify) {
      progress(`counting shadow db ${session.dbs.shadow} (--skip-verify)`)
      const scan = needKeys ? await scanKeysBySlot(session.shadow) : {keys: (await session.shadow.dbsize()).total, keysBySlot: undefined}
      if (scan.keys !== expected.keys) {
        throw new CutoverRefusedError(`shadow db ${session.dbs.shadow} has ${scan.keys} keys, manifest ${manifest.manifest.id} says ${expected.keys}: run flip verify`)
      }
      shadow = expected
      stagedKeys = scan.keysBySlot
    } else {
      progress(`verifying shadow db ${session.dbs.shadow} against manifest ${manifest.manifest.id}`)
      const scan = await scanDb(session.shadow, {collectKeys: needKeys, onKeys: (n) => progress('verifying shadow', n)})
      shadow = summary(scan.checksum)
      if (shadow.keys !== expected.keys || shadow.checksum !== expected.checksum) {
        throw new CutoverRefusedError(
          `shadow db ${session.dbs.shadow} no longer matches manifest ${manifest.manifest.id} (${describeSummary(shadow)}; manifest: ${describeSummary(expected)}): run flip verify for the keys`,
        )
      }
      stagedKeys = scan.keysBySlot
    }

    progress(`reading live db ${session.dbs.live} (the state a rollback restores)`)
    const liveScan = await scanDb(session.live, {collectKeys: strategy === 'move' && mode === 'replace', onKeys: (n) => progress('reading live', n)})
    return {lock, before: {live: summary(liveScan.checksum), shadow, archive}, stagedKeys, liveKeys: liveScan.keysBySlot, guards}
  } catch (error) {
    await lock.release()
    throw error
  }
}

export function describeNodes(session: Session): string {
  return session.live.primaries.map((primary) => formatAddress(primary)).join(', ')
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
): Promise<HeldLock> {
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
