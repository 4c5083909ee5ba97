// What the target holds, read through the data plane: dbs by role, their checksums (the
// dataset checksum of src/dataset/checksum.ts, so they compare with manifests), and the key
// names per slot that the batched strategy moves.
import type {DatasetChecksum} from '../dataset/checksum.js'
import {connectPlane, type Plane} from '../plane/plane.js'
import type {ServerTarget} from '../plane/url.js'
import {SLOT_COUNT, keySlot} from '../util/keyslot.js'
import type {DbSummary} from './plan.js'

export interface Dbs {
  live: number
  shadow: number
  archive: number
}

/** One plane per db role, sharing a target. */
export interface Session {
  live: Plane
  shadow: Plane
  archive: Plane
  dbs: Dbs
  close(): Promise<void>
}

export async function openSession(connect: ServerTarget, dbs: Dbs): Promise<Session> {
  const open = (db: number) => connectPlane({url: connect.url, password: connect.password, env: connect.env, db})
  const live = await open(dbs.live)
  try {
    const [shadow, archive] = await Promise.all([open(dbs.shadow), open(dbs.archive)])
    return {
      live,
      shadow,
      archive,
      dbs,
      async close() {
        await Promise.all([live.close(), shadow.close(), archive.close()])
      },
    }
  } catch (error) {
    await live.close()
    throw error
  }
}

/** Key names grouped by slot (undefined = none). */
export type SlotKeys = Array<Buffer[] | undefined>

/** Key names by slot without reading values (SCAN only). */
export async function scanKeysBySlot(plane: Plane): Promise<{keysBySlot: SlotKeys; keys: number}> {
  const keysBySlot: SlotKeys = new Array(SLOT_COUNT)
  let keys = 0
  for await (const batch of plane.scanKeys({count: 1000})) {
    for (const key of batch) (keysBySlot[keySlot(key)] ??= []).push(key)
    keys += batch.length
  }
  return {keysBySlot, keys}
}

export function summary(checksum: DatasetChecksum): DbSummary {
  return {keys: checksum.keys, checksum: checksum.checksum}
}

// Dataset checksums are sums of key digests mod 2^128, so db contents can be added up:
// the keys over live + shadow + archive are preserved by every move.
const MOD = 1n << 128n

function addChecksums(...checksums: string[]): string {
  let sum = 0n
  for (const hex of checksums) sum = (sum + BigInt(`0x${hex}`)) % MOD
  return sum.toString(16).padStart(32, '0')
}

export function addSummaries(...parts: DbSummary[]): DbSummary {
  return {keys: parts.reduce((n, part) => n + part.keys, 0), checksum: addChecksums(...parts.map((part) => part.checksum))}
}

export function sameSummary(a: DbSummary, b: DbSummary): boolean {
  return a.keys === b.keys && a.checksum === b.checksum
}

export function describeSummary(s: DbSummary): string {
  return `${s.keys} keys, checksum ${s.checksum}`
}
