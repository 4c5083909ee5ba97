// The checksum of whatever a db holds right now (the same definition as a manifest's), for
// callers that need "before" and "after" figures: cutover, rollback, status checks.
import {DatasetChecksum} from '../dataset/checksum.js'
import type {ValueType} from '../dataset/record.js'
import type {Plane, ServerTarget} from '../plane/index.js'
import {rate, throttled} from './progress.js'
import {openPlane} from './target.js'

export interface DbChecksum {
  db: number
  keys: number
  checksum: string
  types: Record<ValueType, number>
  /** Non-empty slots only: [slot, keys, checksum], as in a manifest. */
  slots: Array<[slot: number, keys: number, checksum: string]>
  seconds: number
}

/**
 * Reads every key of the plane's db (SCAN on every primary, pipelined reads) into a
 * DatasetChecksum; read again without repeats if SCAN returned a key twice (readWithoutRepeats).
 */
export async function checksumPlane(plane: Plane, onKeys?: (keys: number) => void, typeHint?: ValueType): Promise<DatasetChecksum> {
  return plane.readWithoutRepeats((distinct) => sumOfScan(plane, {typeHint, distinct}, onKeys), (sum) => sum.keys)
}

async function sumOfScan(plane: Plane, options: {typeHint?: ValueType; distinct?: boolean}, onKeys?: (keys: number) => void): Promise<DatasetChecksum> {
  const sum = new DatasetChecksum()
  for await (const batch of plane.scanValues(options)) {
    for (const stored of batch) sum.add(stored.key, stored.value!, stored.hasTtl)
    onKeys?.(sum.keys)
  }
  return sum
}

export async function checksumDb(options: {
  target: ServerTarget
  db: number
  onProgress?: (progress: {keys: number; seconds: number; keysPerSecond: number}) => void
}): Promise<DbChecksum> {
  const started = Date.now()
  const seconds = () => (Date.now() - started) / 1000
  const report = throttled(options.onProgress, 250)
  const plane = await openPlane(options.target, options.db)
  try {
    const sum = await checksumPlane(plane, (keys) => report(() => ({keys, seconds: seconds(), keysPerSecond: rate(keys, seconds())})))
    return {
      db: options.db,
      keys: sum.keys,
      checksum: sum.checksum,
      types: {...sum.types},
      slots: sum.slots().map((s) => [s.slot, s.keys, s.checksum]),
      seconds: seconds(),
    }
  } finally {
    await plane.close()
  }
}
