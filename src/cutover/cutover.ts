// flip cutover, as a function: schedule → inspect → confirm → (sleep) → pre-flight + plan →
// (sleep) → switch → check. It never prints and never exits: callbacks report progress and
// the countdown and ask for confirmation; errors carry their exit code (errors.ts).
import {mkdirSync} from 'node:fs'
import {redactUrl, resolveTargetUrl} from '../plane/url.js'
import {checkAfterCutover} from './check.js'
import {CutoverCancelledError, CutoverFailedError, CutoverRefusedError, CutoverUsageError, LockLostError} from './errors.js'
import {InterruptedError, abortable} from '../util/interrupt.js'
import {crashPoint} from './crash-hook.js'
import type {KeptLock} from './lock.js'
import {
  keysFilePath,
  loadPlan,
  newPlanId,
  planCommands,
  planPath,
  plansDir,
  writeKeysFile,
  writePlan,
  type CutoverMode,
  type CutoverPlan,
  type LoadedPlan,
  type Strategy,
} from './plan.js'
import type {GuardResult, GuardSettings} from './guards.js'
import {checkHealth, checkLockDb, lockForRecovery, preflight, type Preflight} from './preflight.js'
import type {LoadedManifest} from '../dataset/manifest.js'
import {findManifest} from '../registry/manifests.js'
import {MetaLog, checkMetaDb, openMetaStore, type MetaReport, type MetaSettings} from '../registry/meta-db.js'
import type {MetaStore} from '../registry/meta-store.js'
import {ensurePlanKeys, publishPlan, syncPlans, updatePlan} from '../registry/plans.js'
import {isoInZone, resolveSchedule, waitForMoment, type CountdownTarget, type Firing, type ScheduleOptions} from './schedule.js'
import {openSession, type ConnectOptions, type Dbs, type Session, type SlotKeys} from './state.js'
import {resumeForward, switchForward, type AtomicReport, type SwitchOutcome, type SwitchProgress} from './switch.js'
import {SLOT_COUNT} from '../util/keyslot.js'
import {discardRotatedArchive, type ArchiveDiscard} from './rotation.js'

export type StrategyChoice = 'auto' | 'move' | 'swapdb'

export interface CutoverOptions extends ConnectOptions {
  stateDir: string
  /** Defaults: live 0, shadow 1, archive 2. */
  dbs?: Partial<Dbs>
  /** Db for the lock key; default the highest db not in use (see lock.ts). */
  lockDb?: number
  /** Manifest id or path; default the newest complete manifest of the shadow db. */
  manifest?: string
  /** replace (default): live becomes exactly the dataset. merge: the dataset's keys replace theirs, other live keys stay. */
  mode?: CutoverMode
  /** auto (default): swapdb on a standalone server in replace mode, move otherwise. */
  strategy?: StrategyChoice
  /** Cluster (or standalone move): one script per primary, so the switch appears at one instant. */
  atomic?: boolean
  schedule?: ScheduleOptions
  skipVerify?: boolean
  discardArchive?: boolean
  /**
   * Refuse a non-empty archive even when it holds exactly the rollback data of the latest finished
   * cutover on these dbs (by default that data is rotated: discarded just before the switch).
   */
  keepArchive?: boolean
  /** Replace mode: switch to a dataset of 0 keys although live holds keys (they all leave live). */
  allowEmpty?: boolean
  /** Limits on what the dataset changes, judged in pre-flight (guards.ts); absent: none (the CLI passes its defaults). */
  guards?: GuardSettings
  /** Run every check (lock included) and report what would happen; change nothing, write no plan. */
  dryRun?: boolean
  /** Plan id or path of an interrupted cutover to finish. */
  resume?: string
  /** Asked once, after the first checks and before waiting; false refuses. Absent = yes. */
  confirm?: (summary: CutoverSummary) => boolean | Promise<boolean>
  onProgress?: (event: CutoverProgress) => void
  /** `target`: what is counted down to — the start of pre-flight (`at` = the moment minus --prepare) or the switch. */
  onCountdown?: (remainingMs: number, at: Date, target: CountdownTarget) => void
  /**
   * Aborting before the switch cancels cleanly (nothing changed, lock released, the plan, if
   * written, journaled as failed). Once the switch has started ('switch-started'), it is ignored.
   */
  signal?: AbortSignal
  /**
   * Aborting during the switch stops it after the batch in flight (journal consistent; resume
   * or rollback finish it), or interrupts the check after it. Ignored before the switch.
   */
  stopSignal?: AbortSignal
  lockTtlMs?: number
  /** --atomic: lower bound of each script's duration (default from measured round trips). */
  atomicMinDurationMs?: number
  /** MOVEs per journaled batch of the batched strategy (default 8192). */
  batchCommands?: number
  /** Keep the plan on the server too, and look there for what the state dir lacks (absent: the state dir only). */
  meta?: MetaSettings
}

/**
 * In order: 'preflight' steps (first checks), 'waiting' (the schedule's sleep begins; for a
 * moment further away than --prepare, the full pre-flight runs later, shortly before it, with
 * more 'preflight' steps), 'armed' (pre-flight passed, plan on disk, lock held: only the
 * moment is missing), 'switch' progress, 'check'.
 */
export type CutoverProgress =
  | {phase: 'preflight'; step: string; keys?: number}
  | {phase: 'waiting'; scheduledAt: Date; prepareAt: Date; tz: string}
  | {phase: 'armed'; scheduledAt: Date; planPath: string; preflightMs: number}
  /** The last moment to cancel has passed: from here `signal` is ignored and `stopSignal` counts. */
  | {phase: 'switch-started'; planId: string}
  | {phase: 'switch'; keys: number; slots: number; totalSlots: number}
  | {phase: 'check'}

export interface CutoverSummary {
  /** Target URL with the password hidden. */
  target: string
  topology: 'cluster' | 'standalone'
  nodes: number
  dbs: Dbs
  strategy: Strategy
  mode: CutoverMode
  manifest: {id: string; keys: number; checksum: string}
  /** Keys live holds now (DBSIZE, before the switch). */
  live: {keys: number}
  /**
   * Live keys that leave live: replace mode, all of them (to the archive db; swapdb: to the shadow
   * db); merge mode null (only those the dataset also has, known after the switch).
   */
  liveKeysToArchive: number | null
  /** Where they go: the archive db, or the shadow db for swapdb. */
  archiveDb: number
  schedule: {kind: 'at' | 'cron' | 'now'; scheduledAt: string; tz: string; notAfter?: string}
  dryRun: boolean
}

export interface CutoverResult {
  planId: string | null
  planPath: string | null
  journalPath: string | null
  strategy: Strategy
  mode: CutoverMode
  dryRun: boolean
  resumed: boolean
  /** --resume of a plan that had already finished: nothing was done. */
  alreadyDone?: boolean
  /**
   * Archive rotation: the previous cutover's rollback data deleted from the archive db (dry run:
   * would be). That plan can no longer be rolled back. null: the archive was empty (or swapdb).
   */
  archiveDiscarded: ArchiveDiscard | null
  /** Staged keys now in live. */
  keysSwitched: number
  /** Old live keys set aside (archive db; swapdb: the shadow db). */
  keysArchived: number
  /** The switch alone, from the first change to the last. */
  durationMs: number
  scheduledAt: string
  startedAt: string
  driftMs: number
  rollbackCommand: string | null
  resumeCommand: string | null
  verified: {ok: boolean; problems: string[]}
  conflicts: {count: number; keys: string[]}
  atomic?: AtomicReport
  lock: {kind: 'server' | 'file'; where: string} | null
  summary: CutoverSummary
  /** The guards as judged in pre-flight (absent on --resume: judged when the plan was made). */
  guards?: GuardResult[]
  /** Only with `meta`: the metadata db (null: none) and metadata writes that failed (the switch stands). */
  metadata?: MetaReport
}

const DEFAULT_DBS: Dbs = {live: 0, shadow: 1, archive: 2}

export function resolveDbs(dbs: Partial<Dbs> = {}): Dbs {
  const resolved = {...DEFAULT_DBS, ...Object.fromEntries(Object.entries(dbs).filter(([, v]) => v !== undefined))} as Dbs
  for (const [role, db] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(db) || db < 0) throw new CutoverUsageError(`invalid ${role} db ${db}: expected an integer >= 0`)
  }
  if (new Set([resolved.live, resolved.shadow, resolved.archive]).size !== 3) {
    throw new CutoverUsageError(`live, shadow and archive must be three different dbs (got ${resolved.live}, ${resolved.shadow}, ${resolved.archive})`)
  }
  return resolved
}

export function chooseStrategy(topology: 'cluster' | 'standalone', mode: CutoverMode, choice: StrategyChoice = 'auto', atomic = false): Strategy {
  if (choice === 'swapdb') {
    if (topology === 'cluster') throw new CutoverUsageError('--strategy swapdb needs a standalone server: Valkey refuses SWAPDB in cluster mode (use move)')
    if (mode === 'merge') throw new CutoverUsageError('--strategy swapdb swaps whole dbs, so it cannot --mode merge (use move)')
    if (atomic) throw new CutoverUsageError('--atomic runs scripts; SWAPDB is already atomic (drop --atomic or use --strategy move)')
    return 'swapdb'
  }
  if (atomic) return 'atomic'
  if (choice === 'move') return 'move'
  return topology === 'standalone' && mode === 'replace' ? 'swapdb' : 'move'
}

export async function cutover(options: CutoverOptions): Promise<CutoverResult> {
  if (options.resume) return resumeCutover(options)
  const schedule = resolveSchedule(options.schedule ?? {})
  const dbs = resolveDbs(options.dbs)
  checkLockDb(options.lockDb, dbs)
  checkMetaDb(options.meta?.db, dbs)
  const mode = options.mode ?? 'replace'
  if (mode !== 'replace' && mode !== 'merge') throw new CutoverUsageError(`invalid --mode ${mode} (replace or merge)`)
  const url = resolveTargetUrl(options.url, options.env ?? process.env)
  const displayUrl = url ? redactUrl(url) : '(none)'
  const progress = (step: string, keys?: number) => options.onProgress?.({phase: 'preflight', step, keys})

  // Before the switch one signal stops everything: the caller's cancel, or the lock lost.
  const halt = new AbortController()
  const cancel = () => halt.abort(new CutoverCancelledError())
  if (options.signal?.aborted) cancel()
  else options.signal?.addEventListener('abort', cancel, {once: true})
  let switchStarted = false

  let session: Session | undefined
  let prepared: Preflight | undefined
  let loaded: LoadedPlan | undefined
  const log = new MetaLog(options.meta)
  let store: MetaStore | undefined
  let metaDb: number | null = null
  const openMeta = async (s: Session) => {
    if (options.meta && !store) store = await openMetaStore(options, s.live, [dbs.live, dbs.shadow, dbs.archive], options.meta)
    metaDb = store?.db ?? null
  }
  try {
    session = await abortable(openSession(options, dbs), halt.signal)
    progress('checking the target’s health')
    await abortable(checkHealth(session), halt.signal)
    const strategy = chooseStrategy(session.live.mode, mode, options.strategy, options.atomic)
    await abortable(openMeta(session), halt.signal)
    // Plans other machines ran on this target: archive rotation and rollback read them.
    if (store) await syncPlans(options.stateDir, store, log)
    const manifest = await findManifest({stateDir: options.stateDir, idOrPath: options.manifest, db: dbs.shadow, purpose: 'cutover', meta: store && {store, log}})
    const liveKeys = (await session.live.dbsize()).total
    if (mode === 'replace' && manifest.manifest.keys === 0 && liveKeys > 0 && !options.allowEmpty) {
      throw new CutoverRefusedError(
        `manifest ${manifest.manifest.id} has 0 keys: this replace cutover would remove all ${liveKeys} keys from live db ${dbs.live}; pass --allow-empty if live is meant to become empty`,
      )
    }
    const summary: CutoverSummary = {
      target: displayUrl,
      topology: session.live.mode,
      nodes: session.live.primaries.length,
      dbs,
      strategy,
      mode,
      manifest: {id: manifest.manifest.id, keys: manifest.manifest.keys, checksum: manifest.manifest.checksum},
      live: {keys: liveKeys},
      liveKeysToArchive: mode === 'replace' ? liveKeys : null,
      archiveDb: strategy === 'swapdb' ? dbs.shadow : dbs.archive,
      schedule: {
        kind: schedule.kind,
        scheduledAt: isoInZone(schedule.scheduledAt, schedule.tz),
        tz: schedule.tz,
        notAfter: schedule.notAfter && isoInZone(schedule.notAfter, schedule.tz),
      },
      dryRun: Boolean(options.dryRun),
    }
    if (options.confirm && !(await abortable(Promise.resolve(options.confirm(summary)), halt.signal))) {
      throw new CutoverRefusedError('not confirmed; nothing was changed')
    }

    const planId = newPlanId()
    const purpose = `cutover ${planId}`
    const runPreflight = async (s: Session) =>
      preflight({
        session: s,
        manifest,
        strategy,
        mode,
        stateDir: options.stateDir,
        lockDb: options.lockDb,
        lockTtlMs: options.lockTtlMs,
        purpose,
        skipVerify: options.skipVerify,
        discardArchive: options.discardArchive,
        keepArchive: options.keepArchive,
        targetUrl: displayUrl,
        dryRun: options.dryRun,
        // --allow-empty already consents to every live key leaving live.
        guards: options.guards && {
          settings: options.allowEmpty && manifest.manifest.keys === 0 ? {...options.guards, maxRemoved: null} : options.guards,
          target: {url: options.url, password: options.password, env: options.env},
        },
        onProgress: progress,
        signal: halt.signal,
      })

    if (options.dryRun) {
      prepared = await runPreflight(session)
      return {
        ...emptyResult(strategy, mode, summary, true),
        archiveDiscarded: prepared.archiveDiscard ?? null,
        scheduledAt: summary.schedule.scheduledAt,
        startedAt: isoInZone(new Date(), schedule.tz),
        lock: {kind: prepared.lock.kind, where: prepared.lock.where},
        verified: {ok: true, problems: []},
        guards: prepared.guards?.guards,
        ...(options.meta ? {metadata: log.report(metaDb)} : {}),
      }
    }

    // A long wait: do not hold connections (or the lock) for hours; reconnect to prepare.
    if (schedule.kind !== 'now' && schedule.scheduledAt.getTime() - schedule.prepareMs - Date.now() > 30_000) {
      await session.close()
      session = undefined
      await store?.close()
      store = undefined
    }
    const prepareAt = new Date(schedule.scheduledAt.getTime() - (schedule.kind === 'now' ? 0 : schedule.prepareMs))
    options.onProgress?.({phase: 'waiting', scheduledAt: schedule.scheduledAt, prepareAt, tz: schedule.tz})
    const onCountdown = options.onCountdown
    const firing: Firing = await waitForMoment(schedule, {
      signal: halt.signal,
      onCountdown: onCountdown && ((ms, target) => onCountdown(ms, target === 'preflight' ? prepareAt : schedule.scheduledAt, target)),
      countdownEveryMs: 1000,
      prepare: async () => {
        const started = performance.now()
        session ??= await abortable(openSession(options, dbs), halt.signal)
        if (schedule.kind !== 'now') await abortable(checkHealth(session), halt.signal)
        prepared = await runPreflight(session)
        const lost = prepared.lock.lost
        lost.addEventListener('abort', () => halt.abort(lost.reason), {once: true})
        loaded = await writeCutoverPlan(options.stateDir, planId, session, displayUrl, strategy, mode, manifest, prepared, schedule)
        await abortable(publish(session, loaded), halt.signal)
        crashPoint('planned')
        options.onProgress?.({phase: 'armed', scheduledAt: schedule.scheduledAt, planPath: loaded.path, preflightMs: performance.now() - started})
      },
    })
    // The last look before the first change: the lock is still ours (one round trip), and
    // nobody cancelled. From here on (the archive's rotation is the first change) a stop
    // leaves a plan that --resume finishes.
    await prepared!.lock.ensureHeld()
    if (halt.signal.aborted) throw halt.signal.reason
    switchStarted = true
    options.onProgress?.({phase: 'switch-started', planId})
    const plan = loaded!.plan
    const live = session!
    // Rotation: only now, with the plan on disk and the moment come (a cancel before keeps the
    // previous cutover undoable).
    await discardRotatedArchive(live, loaded!)
    loaded!.journal.append({event: 'switch-started', strategy, scheduledAt: firing.scheduledAt.toISOString(), startedAt: firing.startedAt.toISOString()})
    const stop = switchStop(options, prepared!.lock)
    const outcome = await switchForward(
      {session: live, loaded: loaded!, phase: 'cutover', onProgress: switchProgress(options), atomicMinDurationMs: options.atomicMinDurationMs, batchCommands: options.batchCommands, stop},
      {staged: prepared!.stagedKeys, live: prepared!.liveKeys},
    ).catch((error) => {
      throw switchStopped(error, stop, plan)
    })
    prepared!.stagedKeys = undefined
    prepared!.liveKeys = undefined
    return withMetadata(
      await finish(options, live, loaded!, plan, outcome, firing, summary, {kind: prepared!.lock.kind, where: prepared!.lock.where}, false, prepared!.guards?.guards),
      options.meta && log.report(metaDb),
    )
  } catch (error) {
    if (switchStarted) throw withMetadata(error, options.meta && log.report(metaDb))
    // Nothing changed: say why in one line (a cancel may surface as some other error of the
    // work it cut short), and leave the plan, if one was written, journaled as stopped.
    const reason = halt.signal.aborted ? (halt.signal.reason as Error) : (error as Error)
    const stopped = reason instanceof LockLostError ? new LockLostError(`${reason.message}; stopped before the switch: nothing changed`) : reason
    if (loaded && (stopped instanceof CutoverCancelledError || stopped instanceof CutoverRefusedError)) {
      loaded.journal.append({event: 'failed', phase: 'cutover', message: stopped.message, outcome: stopped instanceof CutoverCancelledError ? 'cancelled' : 'refused'})
    }
    throw stopped
  } finally {
    options.signal?.removeEventListener('abort', cancel)
    // The outcome for other machines (done, failed, cancelled, refused): after the switch a
    // failed write is a warning in the result, never a failure of the switch.
    if (store && loaded) await updatePlan(store, loaded, log)
    await prepared?.lock.release().catch(() => undefined)
    await store?.close().catch(() => undefined)
    await session?.close().catch(() => undefined)
  }

  /** Before the switch: a plan other machines cannot find is refused while nothing has changed. */
  async function publish(s: Session, plan: LoadedPlan): Promise<void> {
    await openMeta(s)
    if (!store) return
    const where = store.db
    await publishPlan(store, plan, log).catch((error: unknown) => {
      throw new CutoverRefusedError(`cannot publish plan ${plan.plan.id} to metadata db ${where} (${(error as Error).message}), so no other machine could roll it back; nothing was changed (pass --meta-db to choose another db)`)
    })
  }
}

/** The metadata report on a result, or on the result a failure carries. */
function withMetadata<T>(value: T, report: MetaReport | undefined): T {
  if (!report) return value
  const target = value instanceof Error ? (value as Error & {result?: CutoverResult}).result : (value as CutoverResult)
  if (target && typeof target === 'object') target.metadata = report
  return value
}

/** Stops the switch between batches: the caller's stop, or the lock lost. */
function switchStop(options: CutoverOptions, lock: KeptLock): AbortSignal {
  return options.stopSignal ? AbortSignal.any([options.stopSignal, lock.lost]) : lock.lost
}

/** A switch cut short by `stop`: one line saying where things are and how to go on. */
function switchStopped(error: unknown, stop: AbortSignal, plan: CutoverPlan): unknown {
  if (!stop.aborted) return error
  const next = `live is partly switched and the journal is up to date: finish with: ${plan.commands.resume} --yes, or undo with: ${plan.commands.rollback} --yes`
  const reason = stop.reason as Error
  if (reason instanceof LockLostError) return new CutoverFailedError(`${reason.message}: the switch stopped after the batch in flight; ${next}`)
  return new InterruptedError(`cutover ${plan.id} ${reason.message}: the switch stopped after the batch in flight; ${next}`)
}

async function writeCutoverPlan(
  stateDir: string,
  id: string,
  session: Session,
  displayUrl: string,
  strategy: Strategy,
  mode: CutoverMode,
  manifest: LoadedManifest,
  prepared: Preflight,
  schedule: ReturnType<typeof resolveSchedule>,
): Promise<LoadedPlan> {
  const identity = session.live.identity()
  const plan: CutoverPlan = {
    kind: 'flip-cutover-plan',
    version: 1,
    id,
    createdAt: new Date().toISOString(),
    target: {mode: identity.mode, url: displayUrl, nodes: identity.nodes},
    dbs: session.dbs,
    strategy,
    mode,
    manifest: {id: manifest.manifest.id, path: manifest.path, keys: manifest.manifest.keys, checksum: manifest.manifest.checksum},
    before: prepared.before,
    schedule: {kind: schedule.kind, scheduledAt: schedule.scheduledAt.toISOString(), tz: schedule.tz},
    commands: planCommands(id, stateDir),
  }
  if (prepared.archiveDiscard) plan.archiveDiscard = prepared.archiveDiscard
  if (strategy !== 'swapdb') {
    // The key names first: a plan on disk always has what resume and rollback need.
    mkdirSync(plansDir(stateDir), {recursive: true})
    writeKeysFile(keysFilePath(planPath(stateDir, id)), flatten(prepared.stagedKeys))
    plan.keysFile = `${id}.keys`
  }
  return writePlan(stateDir, plan)
}

function* flatten(bySlot: SlotKeys | undefined): Iterable<Buffer> {
  if (!bySlot) return
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const keys = bySlot[slot]
    if (keys) yield* keys
  }
}

function switchProgress(options: CutoverOptions): ((progress: SwitchProgress) => void) | undefined {
  if (!options.onProgress) return undefined
  return (progress) => options.onProgress!({phase: 'switch', ...progress})
}

async function finish(
  options: CutoverOptions,
  session: Session,
  loaded: LoadedPlan,
  plan: CutoverPlan,
  outcome: SwitchOutcome,
  firing: Firing,
  summary: CutoverSummary,
  lock: {kind: 'server' | 'file'; where: string},
  resumed: boolean,
  guards?: GuardResult[],
): Promise<CutoverResult> {
  loaded.journal.append({event: 'switched', keys: outcome.keysMoved, durationMs: Math.round(outcome.durationMs)})
  crashPoint('switched')
  options.onProgress?.({phase: 'check'})
  const check = await abortable(checkAfterCutover(session, plan), options.stopSignal).catch((error) => {
    if (!options.stopSignal?.aborted) throw error
    throw new InterruptedError(
      `cutover ${plan.id} switched ${outcome.keysMoved} keys, but the check of live afterwards was ${(error as Error).message}: check with: flip verify --db ${plan.dbs.live}${plan.manifest ? ` --manifest ${plan.manifest.id}` : ''} (undo with: ${plan.commands.rollback} --yes)`,
    )
  })
  const problems = [...check.problems]
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

function emptyResult(strategy: Strategy, mode: CutoverMode, summary: CutoverSummary, dryRun: boolean): CutoverResult {
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
    lock: null,
    summary,
  }
}

/** flip cutover --resume PLAN: finish an interrupted cutover from the server's state. */
async function resumeCutover(options: CutoverOptions): Promise<CutoverResult> {
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

/**
 * Resume and rollback from a state dir that may lack the plan: the metadata db's plans are
 * brought in first (none without `meta`, or when the server has no metadata db).
 */
export async function openRecoveryMeta(options: ConnectOptions & {stateDir: string; meta?: MetaSettings}, dbs: Dbs, log: MetaLog): Promise<MetaStore | undefined> {
  if (!options.meta) return undefined
  checkMetaDb(options.meta.db, dbs)
  const store = await openMetaStore(options, undefined, [dbs.live, dbs.shadow, dbs.archive], options.meta)
  if (store) await syncPlans(options.stateDir, store, log)
  return store
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
        ? {keysMoved: 0, keysSetAside: 0, durationMs: 0, conflicts: {count: 0, keys: []}}
        : await resumeForward({session, loaded, phase: 'cutover', onProgress: switchProgress(options), atomicMinDurationMs: options.atomicMinDurationMs, batchCommands: options.batchCommands, stop}).catch((error) => {
            throw switchStopped(error, stop, plan)
          })
    const firing: Firing = {scheduledAt: new Date(plan.schedule.scheduledAt), startedAt, driftMs: startedAt.getTime() - Date.parse(plan.schedule.scheduledAt)}
    return await finish(options, session, loaded, plan, outcome, firing, summary, {kind: lock.kind, where: lock.where}, true)
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
