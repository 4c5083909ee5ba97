// flip stage: stream a dataset into the shadow db, checksum it on the way, write its manifest.
//
// Order of events, so a failure can never leave a manifest claiming a complete shadow:
//   1. open and check the inputs (missing file, unknown format: nothing is contacted yet) and read
//      the first record (an empty input is refused unless allowEmpty);
//   2. connect to the shadow db only (the live db is never opened by stage);
//   3. refuse a non-empty shadow unless `replace`;
//   4. write the manifest with complete: false, then (replace) empty the shadow db;
//   5. stream: validate each record, add it to the checksum, write it (pipelined per node);
//   6. wait for every acknowledgement, then rewrite the manifest complete.
// Any error in 5-6 rewrites the manifest as failed (still incomplete, with the reason) and is
// rethrown unchanged; stageFailureOf(error) tells the caller which manifest that was.
import type {Readable} from 'node:stream'
import {DatasetChecksum} from '../dataset/checksum.js'
import type {CsvOptions} from '../dataset/csv.js'
import {completeManifest, failManifest, startManifest, writeManifest, type TargetIdentity} from '../dataset/manifest.js'
import type {ValueType} from '../dataset/record.js'
import {emptyDatasetError, openDataset, type DatasetFormat} from '../dataset/source.js'
import {keySlot} from '../util/keyslot.js'
import {InterruptedError, abortableIterable, throwIfAborted} from '../util/interrupt.js'
import type {ServerTarget, WriterOptions} from '../plane/index.js'
import {EXIT} from '../util/exit-codes.js'
import {OpsError} from './errors.js'
import {rate, throttled} from './progress.js'
import {describeTarget, openPlane} from './target.js'
import {MetaLog, checkMetaDb, openMetaStore, type MetaReport, type MetaSettings} from '../registry/meta-db.js'
import {publishManifest} from '../registry/manifests.js'
import type {MetaStore} from '../registry/meta-store.js'

export interface StageOptions {
  /** Input files; "-" is stdin. */
  files: string[]
  format?: DatasetFormat
  csv?: CsvOptions
  shadowDb: number
  /** When given, staging into this db is refused (the shadow must not be the live db). */
  liveDb?: number
  /** Empty a non-empty shadow db first instead of refusing. */
  replace?: boolean
  /** Stage an input without records (0 keys) instead of refusing it: cut over, it empties live. */
  allowEmpty?: boolean
  /** The largest record accepted, in bytes (default 512 MB). */
  maxRecordBytes?: number
  stateDir: string
  target: ServerTarget
  stdin?: Readable
  onProgress?: (progress: StageProgress) => void
  /** Minimum time between onProgress calls (default 250 ms); a last call always follows the end. */
  progressIntervalMs?: number
  writer?: WriterOptions
  /** Stop between batches (Ctrl-C): the manifest is left incomplete with failure "interrupted". */
  signal?: AbortSignal
  /** Publish the manifest in the metadata db too (absent: the state directory only). */
  meta?: MetaSettings
}

export interface StageProgress {
  keys: number
  bytes: number
  /** Known when every input is a regular file. */
  totalBytes?: number
  seconds: number
  keysPerSecond: number
}

export interface StageResult {
  /** Path of the manifest. */
  manifest: string
  id: string
  db: number
  keys: number
  checksum: string
  types: Record<ValueType, number>
  bytes: number
  seconds: number
  keysPerSecond: number
  /** Keys removed from the shadow db first (replace). */
  replaced: number
  /** DBSIZE of the shadow afterwards (differs from keys only if something else wrote or keys expired). */
  dbsize: number
  target: TargetIdentity
  /** Only with `meta`: the metadata db the manifest went to, and the writes that failed. */
  metadata?: MetaReport
}

export interface StageFailure {
  /** The manifest left incomplete, with the failure reason in it. */
  manifest: string
  id: string
  shadowDb: number
  keysWritten: number
}

const failures = new WeakMap<object, StageFailure>()

/** For an error thrown by stage(): the incomplete manifest it left, if it got that far. */
export function stageFailureOf(error: unknown): StageFailure | undefined {
  return typeof error === 'object' && error !== null ? failures.get(error) : undefined
}

export async function stage(options: StageOptions): Promise<StageResult> {
  const {shadowDb} = options
  if (options.liveDb !== undefined && options.liveDb === shadowDb) {
    throw new OpsError(`the shadow db and the live db are both ${shadowDb}: stage writes only to a separate shadow db`, EXIT.usage)
  }
  const roles = options.meta?.roles ?? {live: options.liveDb ?? -1, shadow: shadowDb, archive: -1}
  checkMetaDb(options.meta?.db, {...roles, shadow: shadowDb})
  const log = new MetaLog(options.meta)
  const reader = await openDataset(options.files, {format: options.format, csv: options.csv, stdin: options.stdin, maxRecordBytes: options.maxRecordBytes, firstBatchSize: 1})
  // The first record is read before anything is written, so an empty input is refused while the
  // shadow db (and its manifest) still hold the previous dataset.
  const batches = reader.batches()
  const first = await batches.next()
  if (first.done && !options.allowEmpty) throw emptyDatasetError(reader.files)
  const plane = await openPlane(options.target, shadowDb).catch(async (error: unknown) => {
    await batches.return(undefined)
    throw error
  })
  let store: MetaStore | undefined
  try {
    const target = await describeTarget(plane)
    if (options.meta) store = await openMetaStore(options.target, plane, [roles.live, shadowDb, roles.archive], options.meta)
    const before = await plane.dbsize()
    if (before.total > 0 && !options.replace) {
      throw new OpsError(`shadow db ${shadowDb} is not empty (${before.total} keys): pass --replace to empty it first`, EXIT.usage)
    }

    // The incomplete manifest goes first: from here on, whatever happens to the shadow db, the
    // latest manifest of that db says it is not a complete dataset.
    const started = new Date()
    let manifest = startManifest({db: shadowDb, sources: reader.files.map((f) => ({...f})), csv: options.csv, target, startedAt: started})
    // On the server first: another machine must not take the previous dataset's manifest for
    // what the shadow holds once it is emptied below. Refused if it cannot: nothing changed yet.
    if (store) {
      await publishManifest(store, manifest).catch((error: unknown) => {
        throw new OpsError(`cannot publish manifest ${manifest.id} to metadata db ${store!.db} (${(error as Error).message}); nothing was staged (pass --meta-db to choose another db)`, EXIT.checkFailed)
      })
    }
    const manifestPath = await writeManifest(options.stateDir, manifest)
    const checksum = new DatasetChecksum()
    const seconds = () => (Date.now() - started.getTime()) / 1000
    const progress = (): StageProgress => ({
      keys: checksum.keys,
      bytes: reader.bytesRead,
      totalBytes: reader.totalBytes,
      seconds: seconds(),
      keysPerSecond: rate(checksum.keys, seconds()),
    })
    const report = throttled(options.onProgress, options.progressIntervalMs ?? 250)

    const writer = plane.writer(options.writer)
    try {
      if (before.total > 0) await plane.flushdb()
      let slots = new Uint16Array(0)
      for await (const batch of abortableIterable(startingWith(first, batches), options.signal)) {
        // Each key's slot once, for the checksum and for routing.
        if (slots.length < batch.length) slots = new Uint16Array(batch.length)
        for (let i = 0; i < batch.length; i++) {
          const record = batch[i]
          const slot = keySlot(record.key)
          slots[i] = slot
          checksum.add(record.key, record.value, record.ttl !== undefined, slot)
        }
        await writer.write(batch, slots)
        report(progress)
        throwIfAborted(options.signal)
      }
      await writer.finish()
    } catch (error) {
      // Batches still in flight settle when the plane closes (it drains before closing).
      manifest = failManifest(manifest, error instanceof InterruptedError ? 'interrupted' : (error as Error).message)
      await writeManifest(options.stateDir, manifest).catch(() => undefined)
      if (store) await publishManifest(store, manifest).catch(() => undefined)
      if (typeof error === 'object' && error !== null) {
        failures.set(error, {manifest: manifestPath, id: manifest.id, shadowDb, keysWritten: checksum.keys})
      }
      throw error
    }
    report(progress, true)

    manifest = completeManifest(manifest, {checksum, sources: reader.digests()})
    await writeManifest(options.stateDir, manifest)
    if (store) {
      const published = manifest
      await publishManifest(store, published).catch((error: unknown) =>
        log.warn(`staged, but manifest ${published.id} could not be published to metadata db ${store!.db} (${(error as Error).message}): other machines see it as incomplete; this one uses ${manifestPath}`),
      )
    }
    const after = await plane.dbsize()
    return {
      manifest: manifestPath,
      id: manifest.id,
      db: shadowDb,
      keys: checksum.keys,
      checksum: checksum.checksum,
      types: {...checksum.types},
      bytes: reader.bytesRead,
      seconds: manifest.timings.seconds ?? seconds(),
      keysPerSecond: manifest.timings.keysPerSecond ?? 0,
      replaced: before.total,
      dbsize: after.total,
      target,
      ...(options.meta ? {metadata: log.report(store?.db ?? null)} : {}),
    }
  } finally {
    await batches.return(undefined)
    await store?.close().catch(() => undefined)
    await plane.close()
  }
}

/** The batches of a generator whose first result was already taken. */
async function* startingWith<T>(first: IteratorResult<T>, rest: AsyncGenerator<T>): AsyncGenerator<T> {
  if (first.done) return
  yield first.value
  yield* rest
}
