// Which db is the metadata db, and opening it. Default: the highest db the server offers that
// none of live/shadow/archive uses — the lock's default db (lock.ts chooseLockDb), so a cron host,
// a CI runner and a laptop with the same role dbs all find the same one without configuration.
// A server that will not say how many dbs it has (CONFIG refused) has no default: then only an
// explicit --meta-db turns the metadata db on, and flip works from the state directory alone.
import {chooseLockDb, highestFreeDb} from '../cutover/lock.js'
import type {Plane} from '../plane/index.js'
import type {ServerTarget} from '../plane/url.js'
import {openPlane} from '../ops/target.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {MetaStore} from './meta-store.js'

/** What a command passes to the core about the metadata db. Absent: the core uses none. */
export interface MetaSettings {
  /** --meta-db / FLIP_META_DB / config metaDb; default the highest db not in use. */
  db?: number
  /** One line for stderr: what was found on the server, or a metadata write that failed. */
  onNote?: (message: string) => void
  /** The role dbs, for ops that do not know all three (stage, verify): the default skips them. */
  roles?: {live: number; shadow: number; archive: number}
}

/** In results: which metadata db was used (null: none) and the writes that failed. */
export interface MetaReport {
  db: number | null
  warnings: string[]
}

/**
 * --meta-db must not be one of the dbs a cutover switches: its documents would be moved, archived
 * or swapped away with the data.
 */
export function checkMetaDb(metaDb: number | undefined, dbs: {live: number; shadow: number; archive: number}): void {
  if (metaDb === undefined) return
  const role = (['live', 'shadow', 'archive'] as const).find((name) => dbs[name] === metaDb)
  if (role) {
    throw new FlipError(
      `--meta-db ${metaDb} is the ${role} db: flip's manifests and plans would be switched with its data; choose a db the cutover does not use (default: the highest free one)`,
      EXIT.usage,
    )
  }
}

/**
 * THE rule for which db is the metadata db (every command that reads or writes it asks here):
 * `metaDb` (--meta-db, FLIP_META_DB, metaDb) when given, else the highest db the server offers
 * that is not in `dbsInUse` (the lock's default db). Undefined when none was given and the
 * server will not say how many dbs it has. An explicit one is checked by checkMetaDb.
 */
export async function chooseMetaDb(plane: Plane, metaDb: number | undefined, dbsInUse: number[]): Promise<number | undefined> {
  if (metaDb !== undefined) return metaDb
  return chooseLockDb(plane, dbsInUse)
}

/**
 * The metadata store on `target`, or undefined when there is none (no --meta-db and the server
 * does not say how many dbs it has). `probe`: any plane already open on the target (else one on db 0).
 */
export async function openMetaStore(target: ServerTarget, probe: Plane | undefined, dbsInUse: number[], settings: MetaSettings): Promise<MetaStore | undefined> {
  if (settings.db !== undefined) return new MetaStore(await openPlane(target, settings.db))
  const plane = probe ?? (await openPlane(target, dbsInUse[0] ?? 0))
  try {
    const found = await plane.databaseCount()
    if ('refused' in found) {
      // One line for what flip does without it (the lock takes the same default, lock.ts).
      warn(
        settings,
        `the server refused CONFIG GET (${found.refused}), so flip cannot find the highest free db: it keeps no manifests or plans on the server and a cutover locks with a file in the state dir; pass --meta-db and --lock-db, or grant +config|get`,
      )
      return undefined
    }
    const db = highestFreeDb(found.count, dbsInUse)
    return db === undefined ? undefined : new MetaStore(await openPlane(target, db))
  } finally {
    if (!probe) await plane.close()
  }
}

/** The log of the run these settings belong to, so openMetaStore's warnings land in its result too. */
const logs = new WeakMap<MetaSettings, MetaLog>()

function warn(settings: MetaSettings, message: string): void {
  const log = logs.get(settings)
  if (log) log.warn(message)
  else settings.onNote?.(`warning: ${message}`)
}

/** Collects the notes and warnings of one command run. */
export class MetaLog {
  readonly warnings: string[] = []

  constructor(private readonly settings: MetaSettings | undefined) {
    if (settings) logs.set(settings, this)
  }

  note(message: string): void {
    this.settings?.onNote?.(message)
  }

  /** Each warning once: a run may ask for the same fallback twice (e.g. the metadata db on each phase). */
  warn(message: string): void {
    if (this.warnings.includes(message)) return
    this.warnings.push(message)
    this.settings?.onNote?.(`warning: ${message}`)
  }

  /** The warnings array itself: a write that fails after the result is built still shows in it. */
  report(db: number | null): MetaReport {
    return {db, warnings: this.warnings}
  }
}
