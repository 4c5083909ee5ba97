// The shapes of `flip cutover` as a function: what it is asked (options), what it reports on the
// way (progress), what it asks to confirm (summary), and what it returns (result).
import type {GuardResult, GuardSettings} from './guards.js'
import type {CountdownTarget, ScheduleOptions} from '../schedule/index.js'
import type {ServerTarget} from '../plane/url.js'
import type {Dbs} from './state.js'
import type {AtomicReport} from './switch.js'
import type {ReplicaAck} from './replicas.js'
import type {ArchiveDiscard} from './rotation.js'
import type {CutoverMode, Strategy} from './plan.js'
import type {MetaReport, MetaSettings} from '../registry/meta-db.js'

export type StrategyChoice = 'auto' | 'move' | 'swapdb'

export interface CutoverOptions extends ServerTarget {
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
  /** Cut over although a shard has a replica down (failed or loading); refused without it. */
  allowDegraded?: boolean
  /** How long to wait after each primary's switch for its online replicas to apply it (default 5000 ms). */
  replicaTimeoutMs?: number
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
  /**
   * Per primary that switched: its online replicas, how many applied the switch, and the time
   * from the primary's switch to their acknowledgement (WAIT). Empty without replicas.
   */
  replicas: ReplicaAck[]
  lock: {kind: 'server' | 'file'; where: string} | null
  summary: CutoverSummary
  /** The guards as judged in pre-flight (absent on --resume: judged when the plan was made). */
  guards?: GuardResult[]
  /** Only with `meta`: the metadata db (null: none) and metadata writes that failed (the switch stands). */
  metadata?: MetaReport
}
