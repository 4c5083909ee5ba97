// The switch itself, both ways, for each strategy:
//   move   — per slot, one MULTI moving live → archive and shadow → live (move.ts)
//   atomic — one script per primary (atomic.ts); finished with `move` if a script fails
//   swapdb — standalone: one SWAPDB live shadow; rollback is one more SWAPDB
//
// A first run uses the key lists read during pre-flight. Resume and rollback re-read the key
// names from the server and decide each key from where it is now, with the staged key names
// of the plan (<id>.keys):
//   cutover, per slot:  archive = (replace) live keys not staged, plus staged keys whose new
//                                 value is still in the shadow (so live holds the old one)
//                                 (merge) the staged keys still in the shadow (their old value, if any)
//                       to live = the keys still in the shadow
//   rollback, per slot: to shadow = every staged key (MOVE skips those the shadow still holds)
//                       to live   = every key in the archive
// Whatever a crash interrupted, this finishes it without moving a key twice.
import {RespError} from '../plane/errors.js'
import {dirname, join} from 'node:path'
import {keyText} from '../util/key-text.js'
import {SLOT_COUNT, keySlot} from '../util/keyslot.js'
import {runAtomic, type AtomicResult} from './atomic.js'
import {crashPoint} from './crash-hook.js'
import {CutoverFailedError} from './errors.js'
import {sortedAcks, waitForReplicas, type ReplicaAck} from './replicas.js'
import {runMoves, type MoveTotals, type SlotJob} from './move.js'
import {readKeysFile, type CutoverPlan, type LoadedPlan} from './plan.js'
import {scanDb} from '../ops/db-checksum.js'
import {scanKeysBySlot, type Session, type SlotKeys} from './state.js'

export interface SwitchProgress {
  keys: number
  slots: number
  totalSlots: number
}

export interface SwitchContext {
  session: Session
  loaded: LoadedPlan
  phase: 'cutover' | 'rollback'
  onProgress?: (progress: SwitchProgress) => void
  atomicMinDurationMs?: number
  /** MOVEs per pipelined write of the batched strategy (each write is journaled). */
  batchCommands?: number
  /** The batched strategy stops before its next write (after journaling the ones in flight) and throws. */
  stop?: AbortSignal
  /** How long each primary waits for its online replicas after its switch (replicas.ts). */
  replicaTimeoutMs?: number
}

export interface AtomicReport {
  overlapProven: boolean
  overlapMarginMs: number
  scriptMs: number
  clientStallMs: number
  /** BUSY errors other clients got while a script ran past busy-reply-threshold (5 s by default). */
  busyReplies: number
  minDurationMs: number
  /** Scripts that failed; their nodes were finished with the batched strategy. */
  failedNodes: Array<{node: string; message: string}>
  /**
   * From the last primary's script reply to the last replica's acknowledgement (null: no
   * replicas). Replicas apply each node's script at once too, but not all at one instant:
   * for this long a reader of replicas may see some shards switched and others not.
   */
  replicasCaughtUpMs: number | null
}

export interface SwitchOutcome {
  /** From the first change to the last (reading the key names to move comes before). */
  durationMs: number
  /** cutover: staged keys now in live; rollback: old keys back in live. */
  keysMoved: number
  /** cutover: old keys moved to the archive; rollback: staged keys back in the shadow. */
  keysSetAside: number
  conflicts: {count: number; keys: string[]}
  atomic?: AtomicReport
  /** Per primary that switched: its replicas' acknowledgement (empty: no replicas). */
  replicas: ReplicaAck[]
}

/** A first cutover run, with the key lists read during pre-flight. */
export async function switchForward(ctx: SwitchContext, lists: {staged?: SlotKeys; live?: SlotKeys}): Promise<SwitchOutcome> {
  const {plan} = ctx.loaded
  if (plan.strategy === 'swapdb') return swapdb(ctx)
  if (plan.strategy === 'atomic') return atomic(ctx, plan.mode === 'replace' ? 'cutover-replace' : 'cutover-merge')
  const jobs: SlotJob[] = []
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const staged = lists.staged?.[slot] ?? []
    const archive = plan.mode === 'replace' ? (lists.live?.[slot] ?? []) : staged
    if (staged.length === 0 && archive.length === 0) continue
    jobs.push(forwardJob(plan, slot, archive, staged))
  }
  return moveOutcome(ctx, jobs, performance.now())
}

/** Finishes an interrupted cutover from the server's current state. */
export async function resumeForward(ctx: SwitchContext): Promise<SwitchOutcome> {
  const {plan} = ctx.loaded
  if (plan.strategy === 'swapdb') {
    const where = await swapdbState(ctx)
    if (where === 'switched') return {keysMoved: 0, keysSetAside: 0, durationMs: 0, conflicts: {count: 0, keys: []}, replicas: []}
    return swapdb(ctx)
  }
  const jobs = await forwardJobsFromServer(ctx)
  return moveOutcome(ctx, jobs, performance.now())
}

/** Undoes a cutover (complete or interrupted). `fresh`: the cutover finished and no rollback ran yet. */
export async function switchBack(ctx: SwitchContext, fresh: boolean): Promise<SwitchOutcome> {
  const {plan} = ctx.loaded
  if (plan.strategy === 'swapdb') {
    const where = await swapdbState(ctx)
    if (where === 'original') return {keysMoved: 0, keysSetAside: 0, durationMs: 0, conflicts: {count: 0, keys: []}, replicas: []}
    return swapdb(ctx)
  }
  // The whole-node script is only right when every slot is switched and none rolled back yet.
  if (plan.strategy === 'atomic' && plan.mode === 'replace' && fresh) return atomic(ctx, 'rollback-replace')
  const jobs = await backwardJobsFromServer(ctx)
  return moveOutcome(ctx, jobs, performance.now())
}

function forwardJob(plan: CutoverPlan, slot: number, archive: Buffer[], staged: Buffer[]): SlotJob {
  return {
    slot,
    steps: [
      {from: plan.dbs.live, to: plan.dbs.archive, keys: archive, label: 'archived', zeroIsConflict: false},
      {from: plan.dbs.shadow, to: plan.dbs.live, keys: staged, label: 'moved', zeroIsConflict: true},
    ],
  }
}

async function moveOutcome(ctx: SwitchContext, jobs: SlotJob[], started: number): Promise<SwitchOutcome> {
  const {plan} = ctx.loaded
  const totals: MoveTotals = await runMoves({
    plane: ctx.session.live,
    home: plan.dbs.live,
    jobs,
    journal: ctx.loaded.journal,
    phase: ctx.phase,
    onProgress: ctx.onProgress,
    batchCommands: ctx.batchCommands,
    stop: ctx.stop,
    replicaTimeoutMs: ctx.replicaTimeoutMs,
  })
  const forward = ctx.phase === 'cutover'
  return {
    keysMoved: (forward ? totals.moved.moved : totals.moved.restored) ?? 0,
    keysSetAside: (forward ? totals.moved.archived : totals.moved.unstaged) ?? 0,
    durationMs: performance.now() - started,
    conflicts: {count: totals.conflicts.count, keys: totals.conflicts.keys.map(keyText)},
    replicas: sortedAcks(totals.replicas),
  }
}

async function atomic(ctx: SwitchContext, op: 'cutover-replace' | 'cutover-merge' | 'rollback-replace'): Promise<SwitchOutcome> {
  const result: AtomicResult = await runAtomic({
    plane: ctx.session.live,
    dbs: ctx.session.dbs,
    op,
    journal: ctx.loaded.journal,
    phase: ctx.phase,
    minDurationMs: ctx.atomicMinDurationMs,
    replicaTimeoutMs: ctx.replicaTimeoutMs,
  })
  let keysMoved = result.runs.reduce((n, run) => n + run.second, 0)
  let keysSetAside = result.runs.reduce((n, run) => n + run.first, 0)
  const shortfall = result.runs.reduce((n, run) => n + (run.expected - run.second), 0)
  const conflicts = {count: shortfall, keys: [] as string[]}
  let durationMs = result.switchMs
  const replicas = new Map(result.replicas.map((ack) => [ack.primary, ack]))
  if (result.failures.length > 0) {
    // A failed script keeps what it did; the batched strategy finishes from the server's state.
    const rest = ctx.phase === 'cutover' ? await forwardJobsFromServer(ctx) : await backwardJobsFromServer(ctx)
    const finish = await moveOutcome(ctx, rest, performance.now())
    durationMs += finish.durationMs
    keysMoved += finish.keysMoved
    keysSetAside += finish.keysSetAside
    conflicts.count = finish.conflicts.count
    conflicts.keys = finish.conflicts.keys
    for (const ack of finish.replicas) replicas.set(ack.primary, ack)
  }
  return {
    keysMoved,
    keysSetAside,
    durationMs,
    conflicts,
    replicas: sortedAcks(replicas),
    atomic: {
      overlapProven: result.overlap.proven,
      overlapMarginMs: result.overlap.marginMs,
      scriptMs: result.scriptMs,
      clientStallMs: result.clientStallMs,
      busyReplies: result.busyReplies,
      minDurationMs: result.minDurationMs,
      failedNodes: result.failures,
      replicasCaughtUpMs: result.replicasCaughtUpMs,
    },
  }
}

/** The switch is the SWAPDB round trip: the connection is opened and the journal written around it. */
async function swapdb(ctx: SwitchContext): Promise<SwitchOutcome> {
  const {plan} = ctx.loaded
  const plane = ctx.session.live
  const connection = await plane.dedicated(plane.primaries[0], {db: plan.dbs.live})
  let durationMs: number
  let ack: ReplicaAck | undefined
  try {
    ctx.loaded.journal.append({event: 'swapdb', phase: ctx.phase, acknowledged: false})
    const started = performance.now()
    const reply = await connection.call(['SWAPDB', plan.dbs.live, plan.dbs.shadow])
    const switchedAt = performance.now()
    durationMs = switchedAt - started
    crashPoint(ctx.phase === 'rollback' ? 'rollback-swapdb' : 'swapdb')
    if (reply instanceof RespError) throw new CutoverFailedError(`SWAPDB refused: ${reply.message}`)
    ctx.loaded.journal.append({event: 'swapdb', phase: ctx.phase, acknowledged: true})
    ack = await waitForReplicas(connection, plane.primaries[0], switchedAt, ctx.replicaTimeoutMs)
  } finally {
    await connection.close().catch(() => undefined)
  }
  const moved = ctx.phase === 'cutover' ? plan.before.shadow.keys : plan.before.live.keys
  const setAside = ctx.phase === 'cutover' ? plan.before.live.keys : plan.before.shadow.keys
  return {keysMoved: moved, keysSetAside: setAside, durationMs, conflicts: {count: 0, keys: []}, replicas: ack ? [ack] : []}
}

/** Standalone: which way round live and shadow are, told by live's checksum. */
async function swapdbState(ctx: SwitchContext): Promise<'original' | 'switched'> {
  const {plan} = ctx.loaded
  const live = (await scanDb(ctx.session.live)).checksum
  const matches = (s: {keys: number; checksum: string}) => live.keys === s.keys && live.checksum === s.checksum
  // When both match (identical data) either answer is right; prefer the one that needs no change.
  if (ctx.phase === 'cutover' ? matches(plan.before.shadow) : matches(plan.before.live)) return ctx.phase === 'cutover' ? 'switched' : 'original'
  if (ctx.phase === 'cutover' ? matches(plan.before.live) : matches(plan.before.shadow)) return ctx.phase === 'cutover' ? 'original' : 'switched'
  throw new CutoverFailedError(
    `live db ${plan.dbs.live} holds neither the data from before the cutover nor the staged data (${live.keys} keys, checksum ${live.checksum}); refusing to SWAPDB blindly`,
  )
}

function readStagedKeys(plan: CutoverPlan, planPath: string): Buffer[] {
  if (!plan.keysFile) throw new CutoverFailedError(`plan ${plan.id} has no staged key list; cannot resume or roll back a ${plan.strategy} cutover without it`)
  const file = plan.keysFile.includes('/') ? plan.keysFile : join(dirname(planPath), plan.keysFile)
  return readKeysFile(file)
}

function stagedKeySet(plan: CutoverPlan, planPath: string): Set<string> {
  return new Set(readStagedKeys(plan, planPath).map((key) => key.toString('latin1')))
}

async function forwardJobsFromServer(ctx: SwitchContext): Promise<SlotJob[]> {
  const {plan} = ctx.loaded
  // Merge needs only the shadow: its keys' old values (if any) go to the archive, then they go live.
  const replace = plan.mode === 'replace'
  const staged = replace ? stagedKeySet(plan, ctx.loaded.path) : new Set<string>()
  const [live, shadow] = await Promise.all([replace ? scanKeysBySlot(ctx.session.live) : undefined, scanKeysBySlot(ctx.session.shadow)])
  const jobs: SlotJob[] = []
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const inShadow = shadow.keysBySlot[slot] ?? []
    const inLive = live?.keysBySlot[slot] ?? []
    let archive: Buffer[]
    if (!replace) archive = inShadow
    else {
      const stillStaged = new Set(inShadow.map((key) => key.toString('latin1')))
      archive = inLive.filter((key) => {
        const name = key.toString('latin1')
        return !staged.has(name) || stillStaged.has(name)
      })
    }
    if (archive.length === 0 && inShadow.length === 0) continue
    jobs.push(forwardJob(plan, slot, archive, inShadow))
  }
  return jobs
}

async function backwardJobsFromServer(ctx: SwitchContext): Promise<SlotJob[]> {
  const {plan} = ctx.loaded
  // Every staged key goes back from live to the shadow: MOVE does nothing where the shadow
  // still (or again) holds it, or where live does not have it. Only the archive is read.
  const unstage: SlotKeys = new Array(SLOT_COUNT)
  for (const key of readStagedKeys(plan, ctx.loaded.path)) (unstage[keySlot(key)] ??= []).push(key)
  const archive = await scanKeysBySlot(ctx.session.archive)
  const jobs: SlotJob[] = []
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const back = unstage[slot] ?? []
    const restore = archive.keysBySlot[slot] ?? []
    if (back.length === 0 && restore.length === 0) continue
    jobs.push({
      slot,
      steps: [
        {from: plan.dbs.live, to: plan.dbs.shadow, keys: back, label: 'unstaged', zeroIsConflict: false},
        {from: plan.dbs.archive, to: plan.dbs.live, keys: restore, label: 'restored', zeroIsConflict: true},
      ],
    })
  }
  return jobs
}
