// flip diff: what a cutover would change. Compares the live and shadow dbs key by key with
// flat memory: every shadow key is read from both dbs (added / changed / unchanged), then every
// live key is checked for existence in the shadow (removed). Keys are compared by their
// checksum digests (value, type and TTL presence; see src/dataset/checksum.ts).
import {keyDigest} from '../dataset/checksum.js'
import type {DatasetValue, StoredKey} from '../dataset/record.js'
import type {Plane} from '../plane/index.js'
import {keySlot} from '../util/keyslot.js'
import {OpsError} from './errors.js'
import {keyText, Samples, valuePreview} from './key-text.js'
import {rate, throttled} from './progress.js'
import {openPlane, type PlaneTarget} from './target.js'

export interface DiffOptions {
  liveDb: number
  shadowDb: number
  target: PlaneTarget
  /** Keys named per kind (default 10). */
  sampleSize?: number
  onProgress?: (progress: DiffProgress) => void
  progressIntervalMs?: number
}

export interface DiffProgress {
  phase: 'reading shadow' | 'reading live'
  keys: number
  seconds: number
  keysPerSecond: number
}

export interface KeyChange {
  key: string
  /** e.g. 'value "19.90" → "14.90"', 'type string → hash', 'TTL added' */
  change: string
}

/** Counts per key prefix (the text before the first ":"), for "42,118 price changes, 3 product added". */
export interface PrefixCounts {
  prefix: string
  added: number
  removed: number
  changed: number
  unchanged: number
}

export interface DiffResult {
  liveDb: number
  shadowDb: number
  liveKeys: number
  shadowKeys: number
  added: number
  removed: number
  changed: number
  unchanged: number
  samples: {added: string[]; removed: string[]; changed: KeyChange[]}
  /** Largest groups first, at most 20. */
  prefixes: PrefixCounts[]
  seconds: number
}

const MAX_PREFIXES = 10_000
const READS_IN_FLIGHT = 4

export async function diff(options: DiffOptions): Promise<DiffResult> {
  if (options.liveDb === options.shadowDb) throw new OpsError(`live and shadow are both db ${options.liveDb}: nothing to compare`, 2)
  const started = Date.now()
  const seconds = () => (Date.now() - started) / 1000
  const report = throttled(options.onProgress, options.progressIntervalMs ?? 250)
  const sampleSize = options.sampleSize ?? 10
  const live = await openPlane(options.target, options.liveDb)
  let shadow: Plane | undefined
  try {
    shadow = await openPlane(options.target, options.shadowDb)
    const added = new Samples<string>(sampleSize)
    const removed = new Samples<string>(sampleSize)
    const changed = new Samples<KeyChange>(sampleSize)
    const prefixes = new PrefixCounter()
    let unchanged = 0
    let shadowKeys = 0
    let liveKeys = 0

    // Live reads of a shadow batch overlap with the next batches (a few in flight).
    const compare = (batch: StoredKey[], before: StoredKey[]) => {
      batch.forEach((after, i) => {
        const old = before[i]
        shadowKeys++
        if (old.value === null) {
          added.add(after.key, keyText(after.key))
          prefixes.count(after.key, 'added')
        } else if (sameKey(old, after)) {
          unchanged++
          prefixes.count(after.key, 'unchanged')
        } else {
          changed.add(after.key, {key: keyText(after.key), change: describeChange(old as Present, after as Present)})
          prefixes.count(after.key, 'changed')
        }
      })
      report(() => ({phase: 'reading shadow', keys: shadowKeys, seconds: seconds(), keysPerSecond: rate(shadowKeys, seconds())}))
    }
    const inFlight: Array<{batch: StoredKey[]; before: Promise<StoredKey[]>}> = []
    for await (const batch of shadow.scanValues()) {
      const before = live.readValues(batch.map((stored) => stored.key))
      before.catch(() => undefined) // awaited below
      inFlight.push({batch, before})
      if (inFlight.length >= READS_IN_FLIGHT) {
        const oldest = inFlight.shift()!
        compare(oldest.batch, await oldest.before)
      }
    }
    for (const pending of inFlight) compare(pending.batch, await pending.before)

    const inShadow = shadow
    const countRemoved = (keys: Buffer[], exists: unknown[]) => {
      liveKeys += keys.length
      keys.forEach((key, i) => {
        if (exists[i] === 0) {
          removed.add(key, keyText(key))
          prefixes.count(key, 'removed')
        }
      })
      report(() => ({phase: 'reading live', keys: liveKeys, seconds: seconds(), keysPerSecond: rate(liveKeys, seconds())}))
    }
    const checks: Array<{keys: Buffer[]; exists: Promise<unknown[]>}> = []
    for await (const keys of live.scanKeys()) {
      const exists = inShadow.execute(keys.map((key) => ({argv: ['EXISTS', key], slot: keySlot(key)})))
      exists.catch(() => undefined) // awaited below
      checks.push({keys, exists})
      if (checks.length >= READS_IN_FLIGHT) {
        const oldest = checks.shift()!
        countRemoved(oldest.keys, await oldest.exists)
      }
    }
    for (const pending of checks) countRemoved(pending.keys, await pending.exists)

    return {
      liveDb: options.liveDb,
      shadowDb: options.shadowDb,
      liveKeys,
      shadowKeys,
      added: added.count,
      removed: removed.count,
      changed: changed.count,
      unchanged,
      samples: {added: added.list(), removed: removed.list(), changed: changed.list()},
      prefixes: prefixes.largest(20),
      seconds: seconds(),
    }
  } finally {
    await Promise.all([live.close(), shadow?.close()])
  }
}

type Present = StoredKey & {value: DatasetValue}

function sameKey(a: StoredKey, b: StoredKey): boolean {
  return keyDigest(a.key, a.value!, a.hasTtl).equals(keyDigest(b.key, b.value!, b.hasTtl))
}

/** What changed from `before` (live) to `after` (shadow). */
export function describeChange(before: Present, after: Present): string {
  const changes: string[] = []
  if (before.value.type !== after.value.type) {
    changes.push(`type ${before.value.type} → ${after.value.type}`)
  } else if (!keyDigest(before.key, before.value, false).equals(keyDigest(after.key, after.value, false))) {
    if (before.value.type === 'string' && after.value.type === 'string') {
      changes.push(`value ${valuePreview(before.value.value)} → ${valuePreview(after.value.value)}`)
    } else {
      changes.push(`${after.value.type} ${after.value.type === 'hash' ? 'fields' : after.value.type === 'list' ? 'elements' : 'members'} changed`)
    }
  }
  if (before.hasTtl !== after.hasTtl) changes.push(after.hasTtl ? 'TTL added' : 'TTL removed')
  return changes.join('; ')
}

class PrefixCounter {
  private readonly groups = new Map<string, PrefixCounts>()

  count(key: Buffer, kind: 'added' | 'removed' | 'changed' | 'unchanged'): void {
    const colon = key.indexOf(0x3a)
    const prefix = keyText(colon < 0 ? key : key.subarray(0, colon))
    let group = this.groups.get(prefix)
    if (group === undefined) {
      if (this.groups.size >= MAX_PREFIXES) return // keys without a prefix structure: stop grouping
      group = {prefix, added: 0, removed: 0, changed: 0, unchanged: 0}
      this.groups.set(prefix, group)
    }
    group[kind]++
  }

  largest(limit: number): PrefixCounts[] {
    const total = (g: PrefixCounts) => g.added + g.removed + g.changed
    return [...this.groups.values()]
      .sort((a, b) => total(b) - total(a) || b.unchanged - a.unchanged || a.prefix.localeCompare(b.prefix))
      .slice(0, limit)
  }
}
