// A new cutover, top to bottom: inspect the target and the manifest, confirm, (wait), arm
// (pre-flight, plan on disk and on the server, lock held), (wait for the moment), switch,
// finish. Before the switch one signal stops everything (the caller's cancel, or the lock
// lost); from 'switch-started' on only `stopSignal` stops the switch, between batches.
import type {LoadedManifest} from '../dataset/manifest.js'
import {findManifest} from '../registry/manifests.js'
import {MetaLog, checkMetaDb, openMetaStore} from '../registry/meta-db.js'
import type {MetaStore} from '../registry/meta-store.js'
import {publishPlan, syncPlans, updatePlan} from '../registry/plans.js'
import {abortable} from '../util/interrupt.js'
import {crashPoint} from './crash-hook.js'
import {resolveDbs} from './dbs.js'
import {CutoverCancelledError, CutoverRefusedError, CutoverUsageError, LockLostError} from './errors.js'
import {emptyResult, finish, switchProgress, switchStop, switchStopped, withMetadata} from './finish.js'
import {newPlanId, type CutoverMode, type LoadedPlan, type Strategy} from './plan.js'
import {checkHealth, checkLockDb, preflight, type Preflight} from './preflight.js'
import {discardRotatedArchive} from './rotation.js'
import {isoInZone, resolveSchedule, waitForMoment, type Firing, type Schedule} from '../schedule/index.js'
import {openSession, type Dbs, type Session} from './state.js'
import {switchForward} from './switch.js'
import type {CutoverOptions, CutoverResult, CutoverSummary, StrategyChoice} from './types.js'
import {writeCutoverPlan} from './write-plan.js'

/** What a cutover is about, settled before any wait: the dbs, the strategy, the manifest, the summary confirmed. */
interface Inspected {
  dbs: Dbs
  mode: CutoverMode
  strategy: Strategy
  manifest: LoadedManifest
  summary: CutoverSummary
  schedule: Schedule
  displayUrl: string
}

/** Ready to switch: pre-flight passed, plan written and published, lock held. */
interface Armed {
  session: Session
  prepared: Preflight
  loaded: LoadedPlan
}

export async function runCutover(options: CutoverOptions): Promise<CutoverResult> {
  const schedule = resolveSchedule(options.schedule ?? {})
  const dbs = resolveDbs(options.dbs)
  checkLockDb(options.lockDb, dbs)
  checkMetaDb(options.meta?.db, dbs)
  const mode = options.mode ?? 'replace'
  if (mode !== 'replace' && mode !== 'merge') throw new CutoverUsageError(`invalid --mode ${mode} (replace or merge)`)

  const halt = new AbortController()
  const cancel = () => halt.abort(new CutoverCancelledError())
  if (options.signal?.aborted) cancel()
  else options.signal?.addEventListener('abort', cancel, {once: true})
  const meta = new MetaConnection(options, dbs)
  let session: Session | undefined
  let armed: Armed | undefined
  let switchStarted = false
  try {
    session = await abortable(openSession(options, dbs), halt.signal)
    const inspected = await inspect(options, session, meta, {dbs, mode, schedule, displayUrl: session.live.displayUrl}, halt.signal)
    const planId = newPlanId()
    if (options.dryRun) return await dryRun(options, session, meta, inspected, planId, halt.signal)

    // A long wait: do not hold connections (or the lock) for hours; reconnect to prepare.
    if (schedule.kind !== 'now' && schedule.scheduledAt.getTime() - schedule.prepareMs - Date.now() > 30_000) {
      await session.close()
      session = undefined
      await meta.close()
    }
    const prepareAt = new Date(schedule.scheduledAt.getTime() - (schedule.kind === 'now' ? 0 : schedule.prepareMs))
    options.onProgress?.({phase: 'waiting', scheduledAt: schedule.scheduledAt, prepareAt, tz: schedule.tz})
    const onCountdown = options.onCountdown
    const waited = await waitArmed(schedule, {
      signal: halt.signal,
      onCountdown: onCountdown && ((ms, target) => onCountdown(ms, target === 'preflight' ? prepareAt : schedule.scheduledAt, target)),
      countdownEveryMs: 1000,
      prepare: () => arm(options, session, meta, inspected, planId, halt),
      onArmed: (ready) => {
        armed = ready
      },
    })
    session = waited.armed.session
    // The last look before the first change: the lock is still ours (one round trip), and
    // nobody cancelled. From here on (the archive's rotation is the first change) a stop
    // leaves a plan that --resume finishes.
    await armed!.prepared.lock.ensureHeld()
    if (halt.signal.aborted) throw halt.signal.reason
    switchStarted = true
    return withMetadata(await switchNow(options, armed!, inspected, waited.firing), meta.report())
  } catch (error) {
    if (switchStarted) throw withMetadata(error, meta.report())
    const stopped = stopReason(error, halt.signal)
    if (armed) journalStopped(armed.loaded, stopped)
    throw stopped
  } finally {
    options.signal?.removeEventListener('abort', cancel)
    // The outcome for other machines (done, failed, cancelled, refused): after the switch a
    // failed write is a warning in the result, never a failure of the switch.
    if (armed) await meta.update(armed.loaded)
    await armed?.prepared.lock.release().catch(() => undefined)
    await meta.close().catch(() => undefined)
    await (armed?.session ?? session)?.close().catch(() => undefined)
  }
}

/** The first checks, the manifest (from the state dir or the server) and the operator's yes. */
async function inspect(
  options: CutoverOptions,
  session: Session,
  meta: MetaConnection,
  settled: {dbs: Dbs; mode: CutoverMode; schedule: Schedule; displayUrl: string},
  signal: AbortSignal,
): Promise<Inspected> {
  const {dbs, mode, schedule, displayUrl} = settled
  options.onProgress?.({phase: 'preflight', step: 'checking the target’s health'})
  await abortable(checkHealth(session, !options.allowDegraded), signal)
  const strategy = chooseStrategy(session.live.mode, mode, options.strategy, options.atomic)
  const store = await abortable(meta.open(session), signal)
  // Plans other machines ran on this target: archive rotation and rollback read them.
  if (store) await syncPlans(options.stateDir, store, meta.log)
  const manifest = await findManifest({stateDir: options.stateDir, idOrPath: options.manifest, db: dbs.shadow, purpose: 'cutover', meta: store && {store, log: meta.log}})
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
  if (options.confirm && !(await abortable(Promise.resolve(options.confirm(summary)), signal))) {
    throw new CutoverRefusedError('not confirmed; nothing was changed')
  }
  return {dbs, mode, strategy, manifest, summary, schedule, displayUrl}
}

/** Pre-flight with this run's settings (the lock is taken in it). */
function runPreflight(options: CutoverOptions, session: Session, inspected: Inspected, planId: string, signal: AbortSignal): Promise<Preflight> {
  const {manifest, strategy, mode, displayUrl} = inspected
  return preflight({
    session,
    manifest,
    strategy,
    mode,
    stateDir: options.stateDir,
    lockDb: options.lockDb,
    lockTtlMs: options.lockTtlMs,
    purpose: `cutover ${planId}`,
    skipVerify: options.skipVerify,
    discardArchive: options.discardArchive,
    keepArchive: options.keepArchive,
    targetUrl: displayUrl,
    dryRun: options.dryRun,
    allowDegraded: options.allowDegraded,
    // --allow-empty already consents to every live key leaving live.
    guards: options.guards && {
      settings: options.allowEmpty && manifest.manifest.keys === 0 ? {...options.guards, maxRemoved: null} : options.guards,
      target: {url: options.url, password: options.password, env: options.env},
    },
    onProgress: (step, keys) => options.onProgress?.({phase: 'preflight', step, keys}),
    signal,
  })
}

/** --dry-run: every check, the lock taken and released; no plan, no change. */
async function dryRun(options: CutoverOptions, session: Session, meta: MetaConnection, inspected: Inspected, planId: string, signal: AbortSignal): Promise<CutoverResult> {
  const {strategy, mode, summary, schedule} = inspected
  const prepared = await runPreflight(options, session, inspected, planId, signal)
  try {
    return {
      ...emptyResult(strategy, mode, summary, true),
      archiveDiscarded: prepared.archiveDiscard ?? null,
      scheduledAt: summary.schedule.scheduledAt,
      startedAt: isoInZone(new Date(), schedule.tz),
      lock: {kind: prepared.lock.kind, where: prepared.lock.where},
      verified: {ok: true, problems: []},
      guards: prepared.guards?.guards,
      ...(options.meta ? {metadata: meta.report()} : {}),
    }
  } finally {
    await prepared.lock.release().catch(() => undefined)
  }
}

/**
 * Shortly before the moment: pre-flight, then the plan on disk and on the server. A failure here
 * releases what it took and journals a written plan as stopped; nothing changed on the target.
 */
async function arm(options: CutoverOptions, open: Session | undefined, meta: MetaConnection, inspected: Inspected, planId: string, halt: AbortController): Promise<Armed> {
  const started = performance.now()
  const session = open ?? (await abortable(openSession(options, inspected.dbs), halt.signal))
  let prepared: Preflight | undefined
  let loaded: LoadedPlan | undefined
  try {
    if (inspected.schedule.kind !== 'now') await abortable(checkHealth(session, !options.allowDegraded), halt.signal)
    prepared = await runPreflight(options, session, inspected, planId, halt.signal)
    const lost = prepared.lock.lost
    lost.addEventListener('abort', () => halt.abort(lost.reason), {once: true})
    loaded = await writeCutoverPlan({stateDir: options.stateDir, id: planId, session, ...inspected, prepared})
    await abortable(publish(session, meta, loaded), halt.signal)
    crashPoint('planned')
    options.onProgress?.({phase: 'armed', scheduledAt: inspected.schedule.scheduledAt, planPath: loaded.path, preflightMs: performance.now() - started})
    return {session, prepared, loaded}
  } catch (error) {
    if (loaded) {
      journalStopped(loaded, stopReason(error, halt.signal))
      await meta.update(loaded)
    }
    await prepared?.lock.release().catch(() => undefined)
    // A session it opened itself; the caller closes the one it passed.
    if (!open) await session.close().catch(() => undefined)
    throw error
  }
}

/** Before the switch: a plan other machines cannot find is refused while nothing has changed. */
async function publish(session: Session, meta: MetaConnection, loaded: LoadedPlan): Promise<void> {
  const store = await meta.open(session)
  if (!store) return
  await publishPlan(store, loaded, meta.log).catch((error: unknown) => {
    throw new CutoverRefusedError(
      `cannot publish plan ${loaded.plan.id} to metadata db ${store.db} (${(error as Error).message}), so no other machine could roll it back; nothing was changed (pass --meta-db to choose another db)`,
    )
  })
}

/** The switch and the check after it; from here a stop leaves a plan that --resume finishes. */
async function switchNow(options: CutoverOptions, armed: Armed, inspected: Inspected, firing: Firing): Promise<CutoverResult> {
  const {session, prepared, loaded} = armed
  const {plan} = loaded
  options.onProgress?.({phase: 'switch-started', planId: plan.id})
  // Rotation: only now, with the plan on disk and the moment come (a cancel before keeps the
  // previous cutover undoable).
  await discardRotatedArchive(session, loaded)
  loaded.journal.append({event: 'switch-started', strategy: inspected.strategy, scheduledAt: firing.scheduledAt.toISOString(), startedAt: firing.startedAt.toISOString()})
  const stop = switchStop(options, prepared.lock)
  const outcome = await switchForward(
    {session, loaded, phase: 'cutover', onProgress: switchProgress(options), atomicMinDurationMs: options.atomicMinDurationMs, batchCommands: options.batchCommands, stop, replicaTimeoutMs: options.replicaTimeoutMs},
    {staged: prepared.stagedKeys, live: prepared.liveKeys},
  ).catch((error) => {
    throw switchStopped(error, stop, plan)
  })
  prepared.stagedKeys = undefined
  prepared.liveKeys = undefined
  return finish({options, session, loaded, outcome, firing, summary: inspected.summary, lock: {kind: prepared.lock.kind, where: prepared.lock.where}, resumed: false, guards: prepared.guards?.guards})
}

/** Nothing changed: why, in one line (a cancel may surface as some other error of the work it cut short). */
function stopReason(error: unknown, halt: AbortSignal): Error {
  const reason = halt.aborted ? (halt.reason as Error) : (error as Error)
  return reason instanceof LockLostError ? new LockLostError(`${reason.message}; stopped before the switch: nothing changed`) : reason
}

/** A plan written but never switched: journaled as cancelled or refused, so history and rollback know. */
function journalStopped(loaded: LoadedPlan, stopped: Error): void {
  if (stopped instanceof CutoverCancelledError || stopped instanceof CutoverRefusedError) {
    loaded.journal.append({event: 'failed', phase: 'cutover', message: stopped.message, outcome: stopped instanceof CutoverCancelledError ? 'cancelled' : 'refused'})
  }
}

/** waitForMoment, with what `prepare` returns handed back beside the firing. */
async function waitArmed(
  schedule: Schedule,
  wait: Omit<NonNullable<Parameters<typeof waitForMoment>[1]>, 'prepare'> & {prepare: () => Promise<Armed>; onArmed: (armed: Armed) => void},
): Promise<{firing: Firing; armed: Armed}> {
  let armed: Armed | undefined
  const firing = await waitForMoment(schedule, {
    ...wait,
    prepare: async () => {
      armed = await wait.prepare()
      wait.onArmed(armed)
    },
  })
  return {firing, armed: armed!}
}

/** The metadata db of one run: opened when first needed, closed for a long wait, the notes kept. */
class MetaConnection {
  readonly log: MetaLog
  private store: MetaStore | undefined
  private db: number | null = null

  constructor(
    private readonly options: CutoverOptions,
    private readonly dbs: Dbs,
  ) {
    this.log = new MetaLog(options.meta)
  }

  async open(session: Session): Promise<MetaStore | undefined> {
    if (this.options.meta && !this.store) this.store = await openMetaStore(this.options, session.live, [this.dbs.live, this.dbs.shadow, this.dbs.archive], this.options.meta)
    this.db = this.store?.db ?? this.db
    return this.store
  }

  /** Republishes the plan with its journal; a failure is a warning, never thrown. */
  async update(loaded: LoadedPlan): Promise<void> {
    if (this.store) await updatePlan(this.store, loaded, this.log)
  }

  report() {
    return this.options.meta && this.log.report(this.db)
  }

  async close(): Promise<void> {
    const store = this.store
    this.store = undefined
    await store?.close()
  }
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

