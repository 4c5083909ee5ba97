// flip verify: does a db hold exactly a dataset? Re-reads the db (SCAN on every primary with
// pipelined type-aware reads), recomputes counts and the checksum per slot, and compares them
// with a manifest or with the source files themselves.
//
// When slots differ, verify names the wrong keys: it re-reads the source (--source, or the
// manifest's own source files if they still have the size and SHA-256 recorded in it) keeping
// only the keys of mismatching slots, reads the same slots back from the db, and compares per
// key digests. Memory for that step grows with the keys of the mismatching slots only.
import type {Readable} from 'node:stream'
import {createHash} from 'node:crypto'
import {createReadStream, promises as fs} from 'node:fs'
import {DatasetChecksum, EMPTY_CHECKSUM, keyDigest} from '../dataset/checksum.js'
import type {CsvOptions} from '../dataset/csv.js'
import type {LoadedManifest, Manifest, ManifestSource} from '../dataset/manifest.js'
import {MetaLog, checkMetaDb, openMetaStore, type MetaReport, type MetaSettings} from '../registry/meta-db.js'
import {findManifest} from '../registry/manifests.js'
import type {DatasetValue, StoredKey, ValueType} from '../dataset/record.js'
import {openDataset, STDIN, type DatasetFormat, type OpenDatasetOptions} from '../dataset/source.js'
import type {Plane, ServerTarget} from '../plane/index.js'
import {SLOT_COUNT, keySlot} from '../util/keyslot.js'
import {keyText, valuePreview} from '../util/key-text.js'
import {checksumPlane} from './db-checksum.js'
import {EXIT} from '../util/exit-codes.js'
import {OpsError} from './errors.js'
import {Samples} from './samples.js'
import {rate, throttled} from './progress.js'
import {openPlane} from './target.js'

export interface VerifyOptions {
  /** Manifest id or path; default the latest manifest (of `db` when given), which must be complete. */
  manifest?: string
  /** Compare against these files instead of a manifest. */
  source?: string[]
  format?: DatasetFormat
  csv?: CsvOptions
  /** The largest record accepted in `source`, in bytes (default 512 MB). */
  maxRecordBytes?: number
  stdin?: Readable
  /** The db to check; default the manifest's db. Required with `source`. */
  db?: number
  stateDir: string
  target: ServerTarget
  onProgress?: (progress: VerifyProgress) => void
  progressIntervalMs?: number
  /** How many keys to name per kind (default 20). */
  sampleSize?: number
  /** Expected keys held in memory at once while naming wrong keys (default 250,000). */
  namingKeysPerPass?: number
  /** Look for the manifest in the metadata db too when the state directory lacks it. */
  meta?: MetaSettings
}

export interface VerifyProgress {
  phase: 'reading source' | 'reading db' | 'naming keys'
  keys: number
  /** Keys expected in the db, when known (manifest). */
  totalKeys?: number
  seconds: number
  keysPerSecond: number
}

export interface KeyDifference {
  key: string
  /** e.g. 'value "21.00", expected "19.90"', 'type hash, expected string', 'has no TTL, expected one' */
  reason: string
}

/** The keys verify names, first `sampleSize` of each kind with the full counts. */
export interface NamedKeys {
  missing: string[]
  missingCount: number
  extra: string[]
  extraCount: number
  different: KeyDifference[]
  differentCount: number
}

export interface VerifyResult extends NamedKeys {
  ok: boolean
  db: number
  against: 'manifest' | 'source'
  manifest?: {id: string; path: string}
  source?: string[]
  keys: number
  expectedKeys: number
  checksum: string
  expected: string
  types: Record<ValueType, number>
  expectedTypes: Record<ValueType, number>
  /** Number of slots whose count or checksum differs, and the first of them. */
  perSlotMismatches: number
  mismatchedSlots: number[]
  /** Whether the lists above name the wrong keys (false: only slots are known; see note). */
  named: boolean
  note?: string
  seconds: number
  keysPerSecond: number
  /** Only with `meta`: the metadata db looked in (null: none), and reads that failed. */
  metadata?: MetaReport
}

interface Expectation {
  keys: number
  checksum: string
  types: Record<ValueType, number>
  slotKeys(slot: number): number
  slotChecksum(slot: number): string
  /** Inputs to re-read to name keys, or why there are none. */
  naming: Naming
}

type Naming = {paths: string[]; options: OpenDatasetOptions; recorded?: ManifestSource[]} | {unavailable: string}

export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const started = Date.now()
  const sampleSize = options.sampleSize ?? 20
  const seconds = () => (Date.now() - started) / 1000
  const report = throttled(options.onProgress, options.progressIntervalMs ?? 250)

  const log = new MetaLog(options.meta)
  let metaDb: number | null = null
  let expectation: Expectation
  let loaded: LoadedManifest | undefined
  let db: number
  if (options.source !== undefined) {
    if (options.db === undefined) throw new OpsError('verify --source needs the db to check (--db N)', EXIT.usage)
    db = options.db
    expectation = await expectationFromSource(options, (keys) => report(() => ({phase: 'reading source', keys, seconds: seconds(), keysPerSecond: rate(keys, seconds())})))
  } else {
    ;({loaded, metaDb} = await findVerifyManifest(options, log))
    db = options.db ?? loaded.manifest.db
    expectation = expectationFromManifest(loaded.manifest)
  }

  const plane = await openPlane(options.target, db)
  try {
    const progress = (keys: number) => (): VerifyProgress => ({phase: 'reading db', keys, totalKeys: expectation.keys, seconds: seconds(), keysPerSecond: rate(keys, seconds())})
    const actual = await checksumPlane(plane, (keys) => report(progress(keys)), mostCommonType(expectation.types))
    report(progress(actual.keys), true)
    const readSeconds = seconds()

    const mismatched = new Uint8Array(SLOT_COUNT)
    const mismatchedSlots: number[] = []
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (actual.slotKeyCount(slot) !== expectation.slotKeys(slot) || actual.slotChecksum(slot) !== expectation.slotChecksum(slot)) {
        mismatched[slot] = 1
        mismatchedSlots.push(slot)
      }
    }
    const ok = mismatchedSlots.length === 0 && actual.checksum === expectation.checksum && actual.keys === expectation.keys

    const result: VerifyResult = {
      ok,
      db,
      against: loaded ? 'manifest' : 'source',
      manifest: loaded ? {id: loaded.manifest.id, path: loaded.path} : undefined,
      source: options.source,
      keys: actual.keys,
      expectedKeys: expectation.keys,
      checksum: actual.checksum,
      expected: expectation.checksum,
      types: {...actual.types},
      expectedTypes: {...expectation.types},
      perSlotMismatches: mismatchedSlots.length,
      mismatchedSlots: mismatchedSlots.slice(0, sampleSize),
      missing: [],
      missingCount: 0,
      extra: [],
      extraCount: 0,
      different: [],
      differentCount: 0,
      named: ok,
      seconds: readSeconds,
      keysPerSecond: rate(actual.keys, readSeconds),
      ...(options.meta ? {metadata: {db: metaDb, warnings: log.warnings}} : {}),
    }
    if (ok) return result

    const naming = expectation.naming
    if ('unavailable' in naming) {
      result.note = naming.unavailable
      return result
    }
    const changed = naming.recorded && (await sourcesChanged(naming.recorded))
    if (changed) {
      result.note = `${changed}: pass --source FILE to name the wrong keys`
      return result
    }
    const groups = slotGroups(mismatchedSlots, (slot) => expectation.slotKeys(slot), options.namingKeysPerPass ?? NAMING_KEYS_PER_PASS)
    const named = await nameKeys(plane, naming, groups, sampleSize, (keys) =>
      report(() => ({phase: 'naming keys', keys, seconds: seconds(), keysPerSecond: rate(keys, seconds())})),
    )
    Object.assign(result, named, {named: true})
    return result
  } finally {
    await plane.close()
  }
}

/** The manifest to compare with: the state directory's, else the metadata db's (meta). */
async function findVerifyManifest(options: VerifyOptions, log: MetaLog): Promise<{loaded: LoadedManifest; metaDb: number | null}> {
  if (!options.meta) return {loaded: await findManifest({stateDir: options.stateDir, idOrPath: options.manifest, db: options.db, purpose: 'verify'}), metaDb: null}
  if (options.meta.roles) checkMetaDb(options.meta.db, options.meta.roles)
  const roles = options.meta.roles
  const store = await openMetaStore(options.target, undefined, roles ? [roles.live, roles.shadow, roles.archive] : [], options.meta)
  try {
    return {loaded: await findManifest({stateDir: options.stateDir, idOrPath: options.manifest, db: options.db, purpose: 'verify', meta: store && {store, log}}), metaDb: store?.db ?? null}
  } finally {
    await store?.close().catch(() => undefined)
  }
}

/** The type most keys have (undefined for an empty dataset): verify reads that type first. */
function mostCommonType(types: Record<ValueType, number>): ValueType | undefined {
  let best: ValueType | undefined
  for (const type of Object.keys(types) as ValueType[]) if (types[type] > 0 && (best === undefined || types[type] > types[best])) best = type
  return best
}

function expectationFromManifest(manifest: Manifest): Expectation {
  const slotKeys = new Uint32Array(SLOT_COUNT)
  const slotSums: string[] = new Array(SLOT_COUNT).fill(EMPTY_CHECKSUM)
  for (const [slot, keys, checksum] of manifest.slots) {
    slotKeys[slot] = keys
    slotSums[slot] = checksum
  }
  return {
    keys: manifest.keys,
    checksum: manifest.checksum,
    types: manifest.types,
    slotKeys: (slot) => slotKeys[slot],
    slotChecksum: (slot) => slotSums[slot],
    naming: manifestNaming(manifest),
  }
}

function manifestNaming(manifest: Manifest): Naming {
  if (manifest.sources.length === 0) return {unavailable: 'the manifest lists no source files: pass --source FILE to name the wrong keys'}
  if (manifest.sources.some((source) => source.path === STDIN)) {
    return {unavailable: 'the dataset was staged from stdin, which verify cannot re-read: pass --source FILE to name the wrong keys'}
  }
  return {
    paths: manifest.sources.map((source) => source.resolved ?? source.path),
    // Each file in the format it was staged in (`stage a.ndjson b.json` has two).
    // The files were read whole once by the stage and are re-read only if unchanged: no size limit.
    options: {formats: manifest.sources.map((source) => source.format), csv: manifest.csv, allowDuplicates: true, maxRecordBytes: Number.MAX_SAFE_INTEGER},
    recorded: manifest.sources,
  }
}

/** Why the manifest's sources cannot be used any more, or undefined when they still match. */
async function sourcesChanged(recorded: ManifestSource[]): Promise<string | undefined> {
  for (const source of recorded) {
    const path = source.resolved ?? source.path
    const stat = await fs.stat(path).catch(() => undefined)
    if (stat === undefined) return `the source file ${source.path} is gone`
    if (stat.size !== source.size || (await sha256Of(path)) !== source.sha256) return `the source file ${source.path} changed since the stage`
  }
  return undefined
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, {highWaterMark: 256 * 1024})) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function expectationFromSource(options: VerifyOptions, onKeys: (keys: number) => void): Promise<Expectation> {
  const openOptions: OpenDatasetOptions = {format: options.format, csv: options.csv, stdin: options.stdin, maxRecordBytes: options.maxRecordBytes}
  const reader = await openDataset(options.source!, openOptions)
  const expected = new DatasetChecksum()
  for await (const batch of reader.batches()) {
    for (const record of batch) expected.add(record.key, record.value, record.ttl !== undefined)
    onKeys(expected.keys)
  }
  return {
    keys: expected.keys,
    checksum: expected.checksum,
    types: {...expected.types},
    slotKeys: (slot) => expected.slotKeyCount(slot),
    slotChecksum: (slot) => expected.slotChecksum(slot),
    naming: options.source!.includes(STDIN)
      ? {unavailable: 'the source is stdin, which cannot be read twice: pass a file to name the wrong keys'}
      : {paths: options.source!, options: {...openOptions, allowDuplicates: true}},
  }
}

/** Expected keys held in memory at once while naming wrong keys. */
const NAMING_KEYS_PER_PASS = 250_000

/** Splits slots into masks of at most `limit` expected keys each (a single slot may exceed it). */
export function slotGroups(slots: number[], keysOf: (slot: number) => number, limit: number): Uint8Array[] {
  const groups: Uint8Array[] = []
  let current: Uint8Array | undefined
  let keys = 0
  for (const slot of slots) {
    const slotKeys = keysOf(slot)
    if (current === undefined || (keys > 0 && keys + slotKeys > limit)) {
      current = new Uint8Array(SLOT_COUNT)
      groups.push(current)
      keys = 0
    }
    current[slot] = 1
    keys += slotKeys
  }
  return groups
}

interface ExpectedKey {
  digest: Buffer
  type: ValueType
  hasTtl: boolean
  /** Strings only, for a readable "value …, expected …" reason. */
  value?: Buffer
}

/**
 * Compares key by key within the mismatching slots: the source's keys of those slots go into a
 * map (key → digest, type, TTL presence), then the db's keys of those slots are read and checked
 * off against it. What is left in the map is missing from the db. To bound memory, the slots are
 * taken in groups of at most NAMING_KEYS_PER_PASS expected keys, one source pass and one db scan
 * per group (a wholly wrong db of 1M keys costs 4 passes instead of a 1M-entry map).
 */
async function nameKeys(
  plane: Plane,
  naming: {paths: string[]; options: OpenDatasetOptions},
  groups: Uint8Array[],
  sampleSize: number,
  onKeys: (keys: number) => void,
): Promise<NamedKeys> {
  const missing = new Samples<string>(sampleSize)
  const extra = new Samples<string>(sampleSize)
  const different = new Samples<KeyDifference>(sampleSize)
  let seen = 0
  for (const mismatched of groups) {
    const expected = new Map<string, ExpectedKey>()
    const reader = await openDataset(naming.paths, naming.options)
    for await (const batch of reader.batches()) {
      for (const record of batch) {
        if (mismatched[keySlot(record.key)] === 0) continue
        const hasTtl = record.ttl !== undefined
        expected.set(record.key.toString('latin1'), {
          digest: keyDigest(record.key, record.value, hasTtl),
          type: record.value.type,
          hasTtl,
          // A copy: the record's bytes may be a view into a whole chunk of the file.
          value: record.value.type === 'string' ? Buffer.from(record.value.value) : undefined,
        })
      }
    }

    for await (const keys of plane.scanKeys()) {
      const wanted = keys.filter((key) => mismatched[keySlot(key)] === 1)
      if (wanted.length === 0) continue
      for (const stored of await plane.readValues(wanted)) {
        if (stored.value === null) continue // expired or deleted since SCAN
        seen++
        const name = stored.key.toString('latin1')
        const want = expected.get(name)
        if (want === undefined) {
          extra.add(stored.key, keyText(stored.key))
          continue
        }
        expected.delete(name)
        if (!keyDigest(stored.key, stored.value, stored.hasTtl).equals(want.digest)) {
          different.add(stored.key, {key: keyText(stored.key), reason: differenceReason(stored as StoredKey & {value: DatasetValue}, want)})
        }
      }
      onKeys(seen)
    }
    for (const name of expected.keys()) {
      const key = Buffer.from(name, 'latin1')
      missing.add(key, keyText(key))
    }
  }
  return {
    missing: missing.list(),
    missingCount: missing.count,
    extra: extra.list(),
    extraCount: extra.count,
    different: different.list(),
    differentCount: different.count,
  }
}

function differenceReason(stored: StoredKey & {value: DatasetValue}, want: ExpectedKey): string {
  const reasons: string[] = []
  if (stored.value.type !== want.type) {
    reasons.push(`type ${stored.value.type}, expected ${want.type}`)
  } else if (!keyDigest(stored.key, stored.value, want.hasTtl).equals(want.digest)) {
    reasons.push(
      stored.value.type === 'string' && want.value !== undefined
        ? `value ${valuePreview(stored.value.value)}, expected ${valuePreview(want.value)}`
        : `${stored.value.type} ${stored.value.type === 'hash' ? 'fields differ' : stored.value.type === 'list' ? 'elements differ' : 'members differ'}`,
    )
  }
  if (stored.hasTtl !== want.hasTtl) reasons.push(stored.hasTtl ? 'has a TTL, expected none' : 'has no TTL, expected one')
  return reasons.join('; ')
}
