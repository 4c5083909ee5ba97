// The checksum of whatever a db holds right now (the same definition as a manifest's), for
// callers that need "before" and "after" figures: verify, cutover, rollback, rotation.
import {DatasetChecksum} from '../dataset/checksum.js'
import type {ValueType} from '../dataset/record.js'
import type {SlotKeys} from '../cutover/state.js'
import type {Plane, ServerTarget} from '../plane/index.js'
import {SLOT_COUNT, keySlot} from '../util/keyslot.js'
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

export interface DbScan {
  checksum: DatasetChecksum
  /** Present when asked for (collectKeys). */
  keysBySlot?: SlotKeys
}

export interface ScanDbOptions {
  /** Also keep the key names by slot (the batched cutover moves them). */
  collectKeys?: boolean
  onKeys?: (keys: number) => void
  /** The type most keys have (a manifest knows): read first. */
  typeHint?: ValueType
}

/**
 * The one scan of a db into a checksum: every key of the plane's db with its value (SCAN on
 * every primary, pipelined reads), optionally the key names by slot. Read again without repeats
 * when SCAN returned a key twice (Plane.readWithoutRepeats), so every caller gets that rule.
 */
export async function scanDb(plane: Plane, options: ScanDbOptions = {}): Promise<DbScan> {
  return plane.readWithoutRepeats((distinct) => scanOnce(plane, options, distinct), (scan) => scan.checksum.keys)
}

/** scanDb's checksum alone. */
export async function checksumPlane(plane: Plane, onKeys?: (keys: number) => void, typeHint?: ValueType): Promise<DatasetChecksum> {
  return (await scanDb(plane, {onKeys, typeHint})).checksum
}

async function scanOnce(plane: Plane, options: ScanDbOptions, distinct: boolean): Promise<DbScan> {
  const checksum = new DatasetChecksum()
  const keysBySlot: SlotKeys | undefined = options.collectKeys ? new Array(SLOT_COUNT) : undefined
  for await (const batch of plane.scanValues({typeHint: options.typeHint, distinct})) {
    for (const stored of batch) {
      if (stored.value === null) continue
      const slot = keySlot(stored.key)
      checksum.add(stored.key, stored.value, stored.hasTtl, slot)
      if (keysBySlot) (keysBySlot[slot] ??= []).push(stored.key)
    }
    options.onKeys?.(checksum.keys)
  }
  return {checksum, keysBySlot}
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
