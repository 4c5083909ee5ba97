// Finding a manifest: the one home for "which manifest describes this db". The state directory
// first, then the metadata db on the server (what a stage on another machine published there);
// a manifest found only on the server is written into the state directory (atomically) and the
// caller is told, so the next command finds it locally and a plan can name its path.
// Without an id, the newest manifest of the db wins wherever it is: the newest stage of a db
// decides what it holds, even when it ran on another machine.
import {ManifestError, latestManifest, parseManifest, readManifest, writeManifest, type LoadedManifest, type Manifest} from '../dataset/manifest.js'
import {CutoverRefusedError, CutoverUsageError} from '../cutover/errors.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import type {MetaLog} from './meta-db.js'
import type {MetaStore} from './meta-store.js'

/** What the index of the metadata db says of a manifest, enough to pick one without reading it. */
export interface ManifestSummary extends Record<string, unknown> {
  id: string
  db: number
  keys: number
  checksum: string
  complete: boolean
  createdAt: string
}

export interface ManifestQuery {
  stateDir: string
  /** A manifest id or path; absent: the newest manifest of `db` (of any db when absent too). */
  idOrPath?: string
  db?: number
  /**
   * verify: none found is bad input (exit 2), an incomplete one means the db is not a complete
   * dataset (exit 1). cutover: none, an incomplete one or one of another db is a refusal (exit 1).
   */
  purpose: 'verify' | 'cutover'
  meta?: {store: MetaStore; log: MetaLog}
}

export async function findManifest(query: ManifestQuery): Promise<LoadedManifest> {
  const loaded = query.idOrPath !== undefined ? await byId(query, query.idOrPath) : await newest(query)
  const where = query.meta ? ` or in metadata db ${query.meta.store.db}` : ''
  const {manifest} = loaded ?? {}
  if (query.purpose === 'verify') {
    if (manifest === undefined) {
      const which = query.db === undefined ? '' : ` of db ${query.db}`
      throw new FlipError(`no manifest${which} in ${query.stateDir}${where}: stage a dataset first, or pass --manifest or --source`, EXIT.usage)
    }
    if (!manifest.complete) {
      const why = manifest.failure ? ` (${manifest.failure})` : ' (its stage did not finish)'
      throw new FlipError(`manifest ${manifest.id} is incomplete${why}: db ${manifest.db} does not hold a complete dataset; stage again`, EXIT.checkFailed)
    }
    return loaded!
  }
  const shadowDb = query.db
  if (manifest === undefined) throw new CutoverRefusedError(`no complete manifest for shadow db ${shadowDb} in ${query.stateDir}/manifests${where}: stage the dataset first (flip stage)`)
  if (!manifest.complete) {
    // The newest stage of the shadow decides what it holds: if that one did not finish, an
    // older complete manifest describes data it emptied, so name the unfinished one.
    if (query.idOrPath === undefined) {
      throw new CutoverRefusedError(
        `the newest manifest of shadow db ${shadowDb}, ${manifest.id}, is incomplete (${manifest.failure ?? 'its stage did not finish'}): the shadow holds part of that dataset; stage it again (flip stage --replace)`,
      )
    }
    throw new CutoverRefusedError(`manifest ${manifest.id} is incomplete (${manifest.failure ?? 'its stage did not finish'}): stage again`)
  }
  if (shadowDb !== undefined && manifest.db !== shadowDb) throw new CutoverRefusedError(`manifest ${manifest.id} describes db ${manifest.db}, but the shadow db is ${shadowDb}`)
  return loaded!
}

/**
 * Manifests kept in the metadata db (the oldest go first): a month of nightly stages. A manifest
 * holds a sum per non-empty slot, so a large dataset's is the biggest document flip stores there.
 */
export const MANIFESTS_KEPT = 30

/** Publishes a manifest (complete or not) as the newest of its db; `at` is its creation, so a rewrite keeps its place. */
export async function publishManifest(store: MetaStore, manifest: Manifest): Promise<void> {
  const summary: ManifestSummary = {id: manifest.id, db: manifest.db, keys: manifest.keys, checksum: manifest.checksum, complete: manifest.complete, createdAt: manifest.createdAt}
  await store.put('manifest', manifest.id, manifest, summary, new Date(manifest.createdAt), MANIFESTS_KEPT)
}

async function byId(query: ManifestQuery, idOrPath: string): Promise<LoadedManifest> {
  const isPath = idOrPath.includes('/') || idOrPath.endsWith('.json')
  try {
    return await readManifest(query.stateDir, idOrPath)
  } catch (error) {
    const missing = /^no manifest "/.test((error as Error).message)
    const fromServer = !isPath && missing && query.meta ? await fetchManifest(query, idOrPath) : undefined
    if (fromServer) return fromServer
    const where = missing && query.meta ? ` (nor in metadata db ${query.meta.store.db})` : ''
    // Unreadable or unknown: bad input for both commands (exit 2).
    if (query.purpose === 'cutover') throw new CutoverUsageError(`${(error as Error).message}${where}`)
    throw where ? new ManifestError(`${(error as Error).message}${where}`) : error
  }
}

async function newest(query: ManifestQuery): Promise<LoadedManifest | undefined> {
  // verify takes the latest, complete or not: after a failed stage an older complete manifest
  // no longer describes the db, and verify must say that the db is incomplete, not that it differs.
  const local = await latestManifest(query.stateDir, {db: query.db})
  if (!query.meta) return local
  let entries: Array<{id: string; summary: Partial<ManifestSummary>}>
  try {
    entries = await query.meta.store.list<Partial<ManifestSummary>>('manifest')
  } catch (error) {
    query.meta.log.warn(`cannot read the manifests of metadata db ${query.meta.store.db} (${(error as Error).message}); using ${query.stateDir} only`)
    return local
  }
  const remote = entries.find((entry) => query.db === undefined || entry.summary.db === query.db)
  if (!remote || typeof remote.summary.createdAt !== 'string') return local
  if (local && compare(local.manifest, {createdAt: remote.summary.createdAt, id: remote.id}) >= 0) return local
  return (await fetchManifest(query, remote.id)) ?? local
}

/** Reads a manifest from the metadata db and writes it into the state directory. */
async function fetchManifest(query: ManifestQuery, id: string): Promise<LoadedManifest | undefined> {
  const {store, log} = query.meta!
  let document: unknown
  try {
    document = await store.get('manifest', id)
  } catch (error) {
    log.warn(`cannot read manifest ${id} from metadata db ${store.db} (${(error as Error).message})`)
    return undefined
  }
  if (document === undefined) return undefined
  const manifest = parseManifest(JSON.stringify(document), `metadata db ${store.db}: manifest ${id}`)
  const path = await writeManifest(query.stateDir, manifest)
  log.note(`manifest ${id} found on the server (metadata db ${store.db}); saved to ${path}`)
  return {path, manifest}
}

function compare(a: {createdAt: string; id: string}, b: {createdAt: string; id: string}): number {
  return a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)
}
