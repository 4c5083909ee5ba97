// flip status: keys per db (summed and per node), the latest manifest of each db and whether
// the db still matches it by counts (total, and per node from the manifest's per-slot counts:
// a fast check, no values are read), and the target's identity.
import {latestManifest, type LoadedManifest, type Manifest, type TargetIdentity} from '../dataset/manifest.js'
import {readablePlans} from '../cutover/plan.js'
import type {Plane, PrimaryInfo, ServerTarget} from '../plane/index.js'
import {formatAddress} from '../plane/index.js'
import {describeTarget, openPlane} from './target.js'

export interface StatusOptions {
  target: ServerTarget
  stateDir: string
  /** Dbs to report even when empty, with their role (live, shadow, archive, meta: the metadata db, lock: a lock db apart from it). */
  dbs: Array<{db: number; role?: string}>
}

export interface NodeKeys {
  id: string
  address: string
  keys: number
}

export interface ManifestSummary {
  id: string
  path: string
  db: number
  createdAt: string
  complete: boolean
  failure?: string
  keys: number
  checksum: string
}

export interface DbStatus {
  db: number
  role?: string
  keys: number
  perNode: NodeKeys[]
  /** The latest manifest written for this db, if any. */
  manifest?: ManifestSummary
  /** Counts match the manifest (total and per node); undefined without a manifest. */
  matchesManifest?: boolean
  /** Why it does not match, one line. */
  mismatch?: string
  /** The manifest's data went live: the cutover plan that switched it (so "differs" is expected). */
  cutOver?: {planId: string; liveDb: number; phase: string}
}

export interface StatusResult {
  target: TargetIdentity
  /** The requested dbs, then any other non-empty db, in db order. */
  dbs: DbStatus[]
  latestManifest?: ManifestSummary
}

export async function status(options: StatusOptions): Promise<StatusResult> {
  const firstDb = options.dbs[0]?.db ?? 0
  const plane = await openPlane(options.target, firstDb)
  try {
    const target = await describeTarget(plane)
    const counts = (await keyspaceCounts(plane)) ?? (await dbsizeCounts(options, plane))
    const roles = new Map(options.dbs.map((entry) => [entry.db, entry.role]))
    const dbs = [...new Set([...options.dbs.map((entry) => entry.db), ...[...counts.keys()].filter((db) => total(counts.get(db)!) > 0)])].sort((a, b) => a - b)

    const result: DbStatus[] = []
    for (const db of dbs) {
      const perNode = plane.primaries.map((primary, i) => ({id: primary.id, address: formatAddress(primary), keys: counts.get(db)?.[i] ?? 0}))
      const entry: DbStatus = {db, role: roles.get(db), keys: perNode.reduce((sum, node) => sum + node.keys, 0), perNode}
      const loaded = await latestManifest(options.stateDir, {db})
      if (loaded) {
        entry.manifest = summary(loaded)
        entry.mismatch = countMismatch(loaded.manifest, entry, plane.primaries)
        entry.matchesManifest = entry.mismatch === undefined
        if (!entry.matchesManifest && loaded.manifest.complete) {
          entry.cutOver = cutOverBy(options.stateDir, loaded.manifest.id)
          if (entry.cutOver) entry.mismatch = `manifest ${loaded.manifest.id} was cut over to live db ${entry.cutOver.liveDb} by plan ${entry.cutOver.planId}`
        }
      }
      result.push(entry)
    }
    const latest = await latestManifest(options.stateDir)
    return {target, dbs: result, latestManifest: latest ? summary(latest) : undefined}
  } finally {
    await plane.close()
  }
}

/** The newest cutover plan that switched (or is switching) this manifest and was not rolled back. */
function cutOverBy(stateDir: string, manifestId: string): DbStatus['cutOver'] {
  for (const {plan, phase} of readablePlans(stateDir, {newestFirst: true})) {
    if (plan.manifest?.id !== manifestId) continue
    if (phase === 'switched' || phase === 'switching') return {planId: plan.id, liveDb: plan.dbs.live, phase}
  }
  return undefined
}

/** db → keys per primary (in plane.primaries order), from INFO keyspace; undefined if INFO is refused. */
async function keyspaceCounts(plane: Plane): Promise<Map<number, number[]> | undefined> {
  const counts = new Map<number, number[]>()
  try {
    const infos = await Promise.all(plane.primaries.map((primary) => plane.command(primary, ['INFO', 'keyspace'])))
    infos.forEach((info, node) => {
      for (const match of String(info).matchAll(/^db(\d+):keys=(\d+)/gm)) {
        const db = Number(match[1])
        if (!counts.has(db)) counts.set(db, new Array(plane.primaries.length).fill(0))
        counts.get(db)![node] = Number(match[2])
      }
    })
    return counts
  } catch {
    return undefined
  }
}

/** Fallback when INFO is not allowed: DBSIZE on every primary, only for the requested dbs. */
async function dbsizeCounts(options: StatusOptions, plane: Plane): Promise<Map<number, number[]>> {
  const counts = new Map<number, number[]>()
  for (const {db} of options.dbs) {
    const dbPlane = db === plane.db ? plane : await openPlane(options.target, db)
    try {
      const size = await dbPlane.dbsize()
      counts.set(db, size.perNode.map((node) => node.keys))
    } finally {
      if (dbPlane !== plane) await dbPlane.close()
    }
  }
  return counts
}

function total(perNode: number[]): number {
  return perNode.reduce((sum, keys) => sum + keys, 0)
}

function summary({manifest, path}: LoadedManifest): ManifestSummary {
  return {
    id: manifest.id,
    path,
    db: manifest.db,
    createdAt: manifest.createdAt,
    complete: manifest.complete,
    failure: manifest.failure,
    keys: manifest.keys,
    checksum: manifest.checksum,
  }
}

/** Undefined when the db's counts match the manifest, else a one-line reason. */
function countMismatch(manifest: Manifest, db: DbStatus, primaries: PrimaryInfo[]): string | undefined {
  if (!manifest.complete) return `manifest ${manifest.id} is incomplete: ${manifest.failure ?? 'its stage did not finish'}`
  if (db.keys !== manifest.keys) return `db ${db.db} has ${db.keys} keys, manifest ${manifest.id} has ${manifest.keys}`
  // Per node: the manifest's per-slot counts summed over each primary's slot ranges.
  const expected = primaries.map(() => 0)
  for (const [slot, keys] of manifest.slots) {
    const node = primaries.findIndex((primary) => primary.slots.some(([first, last]) => slot >= first && slot <= last))
    if (node >= 0) expected[node] += keys
  }
  for (let i = 0; i < primaries.length; i++) {
    if (db.perNode[i].keys !== expected[i]) {
      return `node ${db.perNode[i].address} has ${db.perNode[i].keys} keys of db ${db.db}, manifest ${manifest.id} expects ${expected[i]}`
    }
  }
  return undefined
}
