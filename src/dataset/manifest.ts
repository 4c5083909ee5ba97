// Manifests: what a stage put into a db, written atomically to <stateDir>/manifests/<id>.json.
//
// Life cycle: stage writes the manifest with complete: false BEFORE the first key goes to the
// server and rewrites it with complete: true (and the checksums) only after the last key is
// acknowledged. A stage that fails or is killed therefore leaves a manifest that says
// "incomplete" (with the failure reason when there was one), and nothing ever claims the
// shadow db holds a complete dataset. Passwords are never part of a manifest: the target
// identity is node ids, addresses and slot ranges only.
import {randomBytes} from 'node:crypto'
import {promises as fs} from 'node:fs'
import {join, resolve} from 'node:path'
import {writeJsonAtomic} from '../util/atomic-file.js'
import {CHECKSUM_VERSION, EMPTY_CHECKSUM, type DatasetChecksum} from './checksum.js'
import type {ValueType} from './record.js'
import type {CsvOptions} from './csv.js'
import type {DatasetFormat} from './source.js'

export const MANIFEST_KIND = 'flip-manifest'
export const MANIFEST_VERSION = 1

/** Where and what the data went to: given by the caller (the data plane knows it). */
export interface TargetIdentity {
  mode: 'cluster' | 'standalone'
  /** e.g. "flip-engine 0.1.0", "valkey 9.1.0", "redis 7.0.15" */
  server?: string
  nodes: Array<{id?: string; address: string; slots?: Array<[number, number]>}>
}

export interface ManifestSource {
  /** As given on the command line ("-" for stdin). */
  path: string
  /** Absolute path, so a later verify from another directory finds the file. */
  resolved?: string
  format: DatasetFormat
  size: number
  /** Missing while the stage runs (computed while streaming). */
  sha256?: string
}

export interface Manifest {
  kind: typeof MANIFEST_KIND
  version: typeof MANIFEST_VERSION
  id: string
  createdAt: string
  /** false while staging and after a failed stage. */
  complete: boolean
  /** One line: why the stage did not complete. */
  failure?: string
  db: number
  sources: ManifestSource[]
  /** How CSV sources were turned into keys, so verify can re-read them. */
  csv?: CsvOptions
  keys: number
  types: Record<ValueType, number>
  checksumVersion: number
  checksum: string
  /** Non-empty slots only: [slot, keys, checksum]. */
  slots: Array<[slot: number, keys: number, checksum: string]>
  target: TargetIdentity
  timings: {startedAt: string; finishedAt?: string; seconds?: number; keysPerSecond?: number}
}

/** A manifest that cannot be found or read: bad input, the CLI exits 2. */
export class ManifestError extends Error {
  readonly exitCode = 2

  constructor(message: string) {
    super(message)
    this.name = 'ManifestError'
  }
}

/** A sortable id: UTC time of the stage plus 4 random hex digits, e.g. 20261126-112233-ab12. */
export function newManifestId(now: Date = new Date()): string {
  const iso = now.toISOString() // 2026-11-26T11:22:33.456Z
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`
  return `${stamp}-${randomBytes(2).toString('hex')}`
}

export function manifestsDir(stateDir: string): string {
  return join(stateDir, 'manifests')
}

export function manifestPath(stateDir: string, id: string): string {
  return join(manifestsDir(stateDir), `${id}.json`)
}

/** A manifest for a stage that is about to start (complete: false, no checksums yet). */
export function startManifest(input: {
  id?: string
  db: number
  sources: Array<{path: string; format: DatasetFormat; size?: number}>
  csv?: CsvOptions
  target: TargetIdentity
  startedAt?: Date
}): Manifest {
  const startedAt = input.startedAt ?? new Date()
  return {
    kind: MANIFEST_KIND,
    version: MANIFEST_VERSION,
    id: input.id ?? newManifestId(startedAt),
    createdAt: startedAt.toISOString(),
    complete: false,
    db: input.db,
    sources: input.sources.map((source) => ({
      path: source.path,
      resolved: source.path === '-' ? undefined : resolve(source.path),
      format: source.format,
      size: source.size ?? 0,
    })),
    csv: input.sources.some((source) => source.format === 'csv') ? input.csv : undefined,
    keys: 0,
    types: {string: 0, hash: 0, set: 0, zset: 0, list: 0},
    checksumVersion: CHECKSUM_VERSION,
    checksum: EMPTY_CHECKSUM,
    slots: [],
    target: input.target,
    timings: {startedAt: startedAt.toISOString()},
  }
}

/** The same manifest, completed with what was staged. */
export function completeManifest(
  manifest: Manifest,
  result: {checksum: DatasetChecksum; sources: Array<{size: number; sha256: string}>; finishedAt?: Date},
): Manifest {
  const finishedAt = result.finishedAt ?? new Date()
  const seconds = (finishedAt.getTime() - Date.parse(manifest.timings.startedAt)) / 1000
  return {
    ...manifest,
    complete: true,
    failure: undefined,
    sources: manifest.sources.map((source, i) => ({...source, size: result.sources[i].size, sha256: result.sources[i].sha256})),
    keys: result.checksum.keys,
    types: {...result.checksum.types},
    checksum: result.checksum.checksum,
    slots: result.checksum.slots().map((s) => [s.slot, s.keys, s.checksum]),
    timings: {
      startedAt: manifest.timings.startedAt,
      finishedAt: finishedAt.toISOString(),
      seconds,
      keysPerSecond: seconds > 0 ? Math.round(result.checksum.keys / seconds) : undefined,
    },
  }
}

/** The same manifest, marked failed: still incomplete, with a one-line reason. */
export function failManifest(manifest: Manifest, reason: string, finishedAt: Date = new Date()): Manifest {
  return {
    ...manifest,
    complete: false,
    failure: reason.split('\n')[0],
    timings: {...manifest.timings, finishedAt: finishedAt.toISOString()},
  }
}

/** Writes atomically (temp file, fsync, rename); returns the path. */
export async function writeManifest(stateDir: string, manifest: Manifest): Promise<string> {
  const path = manifestPath(stateDir, manifest.id)
  await writeJsonAtomic(path, manifest)
  return path
}

export interface LoadedManifest {
  path: string
  manifest: Manifest
}

/** Reads a manifest by id ("20261126-112233-ab12") or by path (anything with a "/" or ".json"). */
export async function readManifest(stateDir: string, idOrPath: string): Promise<LoadedManifest> {
  const looksLikePath = idOrPath.includes('/') || idOrPath.endsWith('.json')
  const path = looksLikePath ? idOrPath : manifestPath(stateDir, idOrPath)
  let text: string
  try {
    text = await fs.readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new ManifestError(looksLikePath ? `manifest ${path} does not exist` : `no manifest "${idOrPath}" in ${manifestsDir(stateDir)}`)
    }
    throw new ManifestError(`cannot read manifest ${path}: ${(error as Error).message}`)
  }
  return {path, manifest: parseManifest(text, path)}
}

export function parseManifest(text: string, path: string): Manifest {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new ManifestError(`manifest ${path} is not valid JSON`)
  }
  const manifest = json as Partial<Manifest>
  if (manifest?.kind !== MANIFEST_KIND) throw new ManifestError(`${path} is not a flip manifest`)
  if (manifest.version !== MANIFEST_VERSION) throw new ManifestError(`manifest ${path} has version ${manifest.version}; this flip reads version ${MANIFEST_VERSION}`)
  if (manifest.checksumVersion !== CHECKSUM_VERSION) throw new ManifestError(`manifest ${path} uses checksum version ${manifest.checksumVersion}; this flip computes version ${CHECKSUM_VERSION}: stage the dataset again`)
  return manifest as Manifest
}

/** Every readable manifest in the state dir, oldest first (by createdAt, then id). */
export async function listManifests(stateDir: string): Promise<LoadedManifest[]> {
  const loaded: LoadedManifest[] = []
  for (const name of await manifestNames(stateDir)) {
    const manifest = await readOwnManifest(stateDir, name)
    if (manifest !== undefined) loaded.push(manifest)
  }
  return loaded.sort((a, b) => compareManifests(a.manifest, b.manifest))
}

/**
 * The newest manifest, optionally only for one db and/or only complete ones. Reads newest first
 * and stops at the first match: file names start with the second the stage started
 * (newManifestId), so a state dir holding a year of nightly manifests costs one or two reads,
 * not a year of JSON. Files without that stamp in their name (renamed by hand) are always read.
 */
export async function latestManifest(
  stateDir: string,
  filter: {db?: number; complete?: boolean} = {},
): Promise<LoadedManifest | undefined> {
  const names = await manifestNames(stateDir)
  let best: LoadedManifest | undefined
  const consider = async (name: string) => {
    const loaded = await readOwnManifest(stateDir, name)
    if (loaded === undefined) return
    const {manifest} = loaded
    if (filter.db !== undefined && manifest.db !== filter.db) return
    if (filter.complete !== undefined && manifest.complete !== filter.complete) return
    if (best === undefined || compareManifests(manifest, best.manifest) > 0) best = loaded
  }
  for (const name of names.filter((n) => !STAMPED.test(n))) await consider(name)
  const stamped = names.filter((n) => STAMPED.test(n)).sort().reverse()
  for (let i = 0; i < stamped.length; ) {
    const second = stamped[i].slice(0, 15)
    for (; i < stamped.length && stamped[i].startsWith(second); i++) await consider(stamped[i])
    // Every older file flip wrote started before this second, so before whatever was found so
    // far. (A manifest saved by hand under a stamp-like name of another time can be missed.)
    if (best !== undefined && best.manifest.createdAt >= isoOfStamp(second)) return best
  }
  return best
}

/** The .json file names in the manifests dir (none when it does not exist yet). */
async function manifestNames(stateDir: string): Promise<string[]> {
  try {
    return (await fs.readdir(manifestsDir(stateDir))).filter((name) => name.endsWith('.json') && !name.startsWith('.'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

/** The manifest in that file, or undefined when it is not one of ours (or of a foreign version). */
async function readOwnManifest(stateDir: string, name: string): Promise<LoadedManifest | undefined> {
  try {
    return await readManifest(stateDir, join(manifestsDir(stateDir), name))
  } catch {
    return undefined
  }
}

/** Names newManifestId() gives: "20261126-112233-ab12.json". */
const STAMPED = /^\d{8}-\d{6}-[0-9a-f]+\.json$/

function isoOfStamp(stamp: string): string {
  return `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}.000Z`
}

/** Older before newer: by createdAt, then id. */
function compareManifests(a: Manifest, b: Manifest): number {
  return a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)
}
