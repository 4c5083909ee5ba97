// The batched strategy's engine: for each slot, ONE MULTI on the primary serving it, holding
// SELECT + MOVEs between dbs (Valkey allows SELECT and several MOVEs of one slot in a MULTI;
// two slots would be CROSSSLOT even on one node). Every primary works in parallel on its own
// dedicated connection; many slot transactions are pipelined per write and a couple of
// writes are in flight per node. After each write's replies the batch is journaled (fsynced).
// Slots refused with MOVED/ASK are retried after a topology refresh, TRYAGAIN after a pause.
//
// Every step is safe to repeat: MOVE does nothing (returns 0) when the key is absent from the
// source db or already present in the target db, so a batch that ran but was not journaled
// does no harm when it runs again.
import type {Plane, PrimaryInfo} from '../plane/plane.js'
import type {NodeConnection} from '../plane/connection.js'
import {RespError, retryKind} from '../plane/errors.js'
import {CommandEncoder, type Reply} from '../plane/resp.js'
import {formatAddress} from '../plane/url.js'
import {crashAfterBatch, holdAfterBatch, testBatchCommands} from './crash-hook.js'
import {CutoverFailedError} from './errors.js'
import {mergeAcks, waitForReplicas, type ReplicaAck} from './replicas.js'
import type {Journal} from './journal.js'
import {inFlight} from '../util/in-flight.js'
import {abortError} from '../util/interrupt.js'

export interface MoveStep {
  from: number
  to: number
  keys: Buffer[]
  /** What the moved keys are called in totals ("archived", "moved", …). */
  label: string
  /** A MOVE answering 0 here means a key could not go where it must (the target db has it). */
  zeroIsConflict: boolean
}

export interface SlotJob {
  slot: number
  steps: MoveStep[]
}

export interface MoveOptions {
  plane: Plane
  /** The db each dedicated connection is bound to; every transaction SELECTs back to it. */
  home: number
  jobs: SlotJob[]
  journal: Journal
  phase: 'cutover' | 'rollback'
  onProgress?: (progress: {keys: number; slots: number; totalSlots: number}) => void
  /** MOVE commands per pipelined write (default 8192). */
  batchCommands?: number
  /**
   * Send no further write once aborted: the writes in flight are answered and journaled, then
   * runMoves throws the signal's reason, leaving the server and the journal in step.
   */
  stop?: AbortSignal
  /** After its last write, each primary waits this long for its online replicas (replicas.ts). */
  replicaTimeoutMs?: number
}

export interface MoveTotals {
  /** Keys moved per step label. */
  moved: Record<string, number>
  /** Keys a step could not move where it must (first 20) and how many there were. */
  conflicts: {count: number; keys: Buffer[]}
  batches: number
  rounds: number
  /** Per primary that switched slots: its replicas' acknowledgement. */
  replicas: Map<string, ReplicaAck>
}

const MAX_ROUNDS = 20
const WINDOW = 2

interface Failure {
  job: SlotJob
  kind: 'redirect' | 'retry' | 'fatal'
  message: string
}

export async function runMoves(options: MoveOptions): Promise<MoveTotals> {
  const totals: MoveTotals = {moved: {}, conflicts: {count: 0, keys: []}, batches: 0, rounds: 0, replicas: new Map()}
  let pending = options.jobs.filter((job) => job.steps.some((step) => step.keys.length > 0))
  const totalSlots = pending.length
  let slotsDone = 0
  let keysDone = 0
  const progress = (slots: number, keys: number) => {
    slotsDone += slots
    keysDone += keys
    options.onProgress?.({keys: keysDone, slots: slotsDone, totalSlots})
  }
  const stopped = {skipped: false}
  while (pending.length > 0) {
    if (options.stop?.aborted) throw abortError(options.stop)
    if (totals.rounds >= MAX_ROUNDS) {
      throw new CutoverFailedError(`${pending.length} slots still refused after ${MAX_ROUNDS} attempts (cluster changing?); resume later`)
    }
    totals.rounds++
    const byNode = new Map<PrimaryInfo, SlotJob[]>()
    for (const job of pending) {
      const node = options.plane.nodeForSlot(job.slot)
      let list = byNode.get(node)
      if (list === undefined) byNode.set(node, (list = []))
      list.push(job)
    }
    const failures: Failure[] = []
    // Every node finishes (and journals) what it can before a failed one is reported: the journal
    // then says exactly what was done on the others.
    const outcomes = await Promise.allSettled([...byNode].map(([node, jobs]) => runNode(node, jobs, options, totals, failures, progress, stopped)))
    const broken = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')
    if (broken) throw broken.reason
    if (stopped.skipped) throw abortError(options.stop!)
    const fatal = failures.find((failure) => failure.kind === 'fatal')
    if (fatal) throw new CutoverFailedError(`slot ${fatal.job.slot}: ${fatal.message}`)
    if (failures.some((failure) => failure.kind === 'redirect')) await options.plane.refreshTopology()
    else if (failures.length > 0) await sleep(100)
    pending = failures.map((failure) => failure.job)
  }
  return totals
}

async function runNode(
  node: PrimaryInfo,
  jobs: SlotJob[],
  options: MoveOptions,
  totals: MoveTotals,
  failures: Failure[],
  progress: (slots: number, keys: number) => void,
  stopped: {skipped: boolean},
): Promise<void> {
  const connection: NodeConnection = await options.plane.dedicated(node, {db: options.home})
  const address = formatAddress(node)
  const limit = options.batchCommands ?? testBatchCommands() ?? 8192
  const prefix = options.phase === 'rollback' ? 'rollback-' : ''
  try {
    // Pipelined writes of whole slot transactions, up to `limit` MOVEs each.
    function* writes(): Generator<{jobs: SlotJob[]; encoder: CommandEncoder}> {
      let encoder = new CommandEncoder(256 * 1024)
      let batchJobs: SlotJob[] = []
      let moves = 0
      for (const job of jobs) {
        if (options.stop?.aborted) {
          // The encoded but unsent transactions are simply not sent.
          stopped.skipped = true
          return
        }
        encodeSlot(encoder, job, options.home)
        batchJobs.push(job)
        moves += job.steps.reduce((n, step) => n + step.keys.length, 0)
        if (moves >= limit) {
          yield {jobs: batchJobs, encoder}
          encoder = new CommandEncoder(256 * 1024)
          batchJobs = []
          moves = 0
        }
      }
      if (batchJobs.length > 0) yield {jobs: batchJobs, encoder}
    }
    const send = async ({jobs, encoder}: {jobs: SlotJob[]; encoder: CommandEncoder}) => {
      const count = encoder.count
      return {jobs, replies: await connection.exec(encoder.take(), count)}
    }
    let switchedAt = performance.now()
    // Each write's replies are journaled before the next write beyond the window is sent.
    for await (const batch of inFlight(writes(), send, WINDOW)) {
      switchedAt = performance.now()
      const done = readBatch(batch.jobs, batch.replies, totals, failures)
      totals.batches++
      crashAfterBatch(prefix, false)
      let moved = 0
      let archived = 0
      for (const result of done) {
        for (const [label, n] of Object.entries(result.moved)) {
          if (label === 'archived' || label === 'unstaged') archived += n
          else moved += n
        }
      }
      options.journal.append({
        event: 'batch',
        phase: options.phase,
        node: address,
        slots: toRanges(done.map((result) => result.job.slot)),
        moved,
        archived,
      })
      crashAfterBatch(prefix, true)
      progress(done.length, moved + archived)
      await holdAfterBatch(options.stop)
    }
    if (!stopped.skipped) mergeAcks(totals.replicas, await waitForReplicas(connection, node, switchedAt, options.replicaTimeoutMs))
  } finally {
    await connection.close().catch(() => undefined)
  }
}

const MOVE = Buffer.from('MOVE')
const dbNames = new Map<number, Buffer>()

/** MULTI, then per step SELECT from + MOVE key to…, SELECT home, EXEC. */
function encodeSlot(encoder: CommandEncoder, job: SlotJob, home: number): void {
  encoder.append(['MULTI'])
  for (const step of job.steps) {
    if (step.keys.length === 0) continue
    encoder.append(['SELECT', step.from])
    let to = dbNames.get(step.to)
    if (to === undefined) dbNames.set(step.to, (to = Buffer.from(String(step.to))))
    // The hot loop (two MOVEs per key switched): no argv array per command.
    for (const key of step.keys) encoder.append3(MOVE, key, to)
  }
  encoder.append(['SELECT', home])
  encoder.append(['EXEC'])
}

/** Walks the replies of a batch; returns the jobs that committed, records the others as failures. */
function readBatch(jobs: SlotJob[], replies: Reply[], totals: MoveTotals, failures: Failure[]): Array<{job: SlotJob; moved: Record<string, number>}> {
  const done: Array<{job: SlotJob; moved: Record<string, number>}> = []
  let at = 0
  for (const job of jobs) {
    const queued = 1 + job.steps.reduce((n, step) => n + (step.keys.length > 0 ? 1 + step.keys.length : 0), 0) + 1
    const first = replies[at]
    const exec = replies[at + queued]
    const queuedFrom = at + 1
    at += queued + 1
    if (first instanceof RespError) {
      failures.push(classify(job, first))
      continue
    }
    if (!Array.isArray(exec)) {
      const cause = replies.slice(queuedFrom, queuedFrom + queued - 1).find((reply): reply is RespError => reply instanceof RespError)
      failures.push(classify(job, cause ?? (exec instanceof RespError ? exec : new RespError('EXEC returned nothing (transaction aborted)'))))
      continue
    }
    const runtimeError = exec.find((reply): reply is RespError => reply instanceof RespError)
    if (runtimeError) {
      // Some MOVEs may have run: safe, the retry skips what is done. But an error here is not one retrying fixes.
      failures.push({job, kind: 'fatal', message: runtimeError.message})
      continue
    }
    let index = 0
    const movedHere: Record<string, number> = {}
    for (const step of job.steps) {
      if (step.keys.length === 0) continue
      index++ // SELECT
      let moved = 0
      for (const key of step.keys) {
        const reply = exec[index++]
        if (reply === 1) moved++
        else if (step.zeroIsConflict) {
          totals.conflicts.count++
          if (totals.conflicts.keys.length < 20) totals.conflicts.keys.push(key)
        }
      }
      totals.moved[step.label] = (totals.moved[step.label] ?? 0) + moved
      movedHere[step.label] = (movedHere[step.label] ?? 0) + moved
    }
    done.push({job, moved: movedHere})
  }
  return done
}

function classify(job: SlotJob, error: RespError): Failure {
  const kind = retryKind(error)
  if (kind === 'moved' || kind === 'ask') return {job, kind: 'redirect', message: error.message}
  // BUSY too: a script past busy-reply-threshold ends; the rounds here outlast it, unlike the executor's few waits.
  if (kind === 'wait' || kind === 'busy') return {job, kind: 'retry', message: error.message}
  return {job, kind: 'fatal', message: error.message}
}

/** [3,4,5,9] → [[3,5],[9,9]] */
export function toRanges(slots: number[]): Array<[number, number]> {
  const sorted = [...slots].sort((a, b) => a - b)
  const ranges: Array<[number, number]> = []
  for (const slot of sorted) {
    const last = ranges.at(-1)
    if (last && slot === last[1] + 1) last[1] = slot
    else ranges.push([slot, slot])
  }
  return ranges
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
