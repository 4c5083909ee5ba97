// flip diff: what a cutover would change. Compares the live and shadow dbs key by key with
// flat memory: every shadow key is read from both dbs (added / changed / unchanged), then every
// live key is checked for existence in the shadow (removed). Keys are compared by their
// checksum digests (value, type and TTL presence; see src/dataset/checksum.ts).
import {keyDigest} from '../dataset/checksum.js'
import type {DatasetValue, StoredKey} from '../dataset/record.js'
import type {Plane, ServerTarget} from '../plane/index.js'
import {inFlight} from '../util/in-flight.js'
import {abortableIterable} from '../util/interrupt.js'
import {keySlot} from '../util/keyslot.js'
import {keyText, valuePreview} from '../util/key-text.js'
import {EXIT} from '../util/exit-codes.js'
import {OpsError} from './errors.js'
import {Samples} from './samples.js'
import {NumericChanges, type NumericLimits, type NumericSummary} from './numeric-changes.js'
import {rate, throttled} from './progress.js'
import {openPlane} from './target.js'

export interface DiffOptions {
  liveDb: number
  shadowDb: number
  target: ServerTarget
  /** Keys named per kind (default 10). */
  sampleSize?: number
  /** Hash fields whose numeric values are compared (default: every field numeric on both sides). */
  numericFields?: string[]
  /** Count the numeric values that moved beyond these (numeric.beyondLimits): the cutover guards. */
  numericLimits?: NumericLimits
  onProgress?: (progress: DiffProgress) => void
  progressIntervalMs?: number
  /** Ctrl-C / SIGTERM: stop reading (diff changes nothing, so there is nothing to undo). */
  signal?: AbortSignal
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
  /** How numeric values (prices) moved: up/down, distribution, largest drops and rises. */
  numeric: NumericSummary
  seconds: number
}

const MAX_PREFIXES = 10_000
const READS_IN_FLIGHT = 4

export async function diff(options: DiffOptions): Promise<DiffResult> {
  if (options.liveDb === options.shadowDb) throw new OpsError(`live and shadow are both db ${options.liveDb}: nothing to compare`, EXIT.usage)
  const started = Date.now()
  const seconds = () => (Date.now() - started) / 1000
  const report = throttled(options.onProgress, options.progressIntervalMs ?? 250)
  const sampleSize = options.sampleSize ?? 10
  const live = await openPlane(options.target, options.liveDb)
  let shadow: Plane | undefined
  try {
    shadow = await openPlane(options.target, options.shadowDb)
    const inShadow = shadow
    const progress = (phase: DiffProgress['phase']) => (keys: number) => report(() => ({phase, keys, seconds: seconds(), keysPerSecond: rate(keys, seconds())}))
    // Each pass reads again without repeats if SCAN returned a key twice (Plane.readWithoutRepeats).
    const numericFields = options.numericFields === undefined ? undefined : new Set(options.numericFields)
    const fromShadow = await inShadow.readWithoutRepeats(
      (distinct) => compareShadowWithLive(inShadow, live, {signal: options.signal, distinct, sampleSize, numericFields, numericLimits: options.numericLimits, onKeys: progress('reading shadow')}),
      (pass) => pass.keys,
    )
    const fromLive = await live.readWithoutRepeats(
      (distinct) => findRemoved(live, inShadow, {signal: options.signal, distinct, sampleSize, onKeys: progress('reading live')}),
      (pass) => pass.keys,
    )
    return {
      liveDb: options.liveDb,
      shadowDb: options.shadowDb,
      liveKeys: fromLive.keys,
      shadowKeys: fromShadow.keys,
      added: fromShadow.added.count,
      removed: fromLive.removed.count,
      changed: fromShadow.changed.count,
      unchanged: fromShadow.unchanged,
      samples: {added: fromShadow.added.list(), removed: fromLive.removed.list(), changed: fromShadow.changed.list()},
      prefixes: fromShadow.prefixes.with(fromLive.prefixes).largest(20),
      numeric: fromShadow.numeric.summary(),
      seconds: seconds(),
    }
  } finally {
    await Promise.all([live.close(), shadow?.close()])
  }
}

interface PassOptions {
  signal?: AbortSignal
  distinct: boolean
  sampleSize: number
  numericFields?: ReadonlySet<string>
  numericLimits?: NumericLimits
  onKeys: (keys: number) => void
}

/** Every shadow key read from both dbs: added, changed or unchanged. Live reads of a batch overlap with the next batches. */
async function compareShadowWithLive(shadow: Plane, live: Plane, options: PassOptions) {
  const pass = {
    keys: 0,
    unchanged: 0,
    added: new Samples<string>(options.sampleSize),
    changed: new Samples<KeyChange>(options.sampleSize),
    prefixes: new PrefixCounter(),
    numeric: new NumericChanges(20, options.numericFields, options.numericLimits),
  }
  const compare = (batch: StoredKey[], before: StoredKey[]) => {
    batch.forEach((after, i) => {
      const old = before[i]
      pass.keys++
      if (old.value === null) {
        pass.added.add(after.key, keyText(after.key))
        pass.prefixes.count(after.key, 'added')
      } else if (sameKey(old, after)) {
        pass.unchanged++
        pass.prefixes.count(after.key, 'unchanged')
      } else {
        pass.changed.add(after.key, {key: keyText(after.key), change: describeChange(old as Present, after as Present)})
        pass.prefixes.count(after.key, 'changed')
        compareNumbers(pass.numeric, old as Present, after as Present)
      }
    })
    options.onKeys(pass.keys)
  }
  const scan = abortableIterable(shadow.scanValues({distinct: options.distinct}), options.signal)
  const readLive = async (batch: StoredKey[]) => ({batch, before: await live.readValues(batch.map((stored) => stored.key))})
  for await (const {batch, before} of inFlight(scan, readLive, READS_IN_FLIGHT)) compare(batch, before)
  return pass
}

/** Every live key checked for existence in the shadow: the ones missing there are removed by a cutover. */
async function findRemoved(live: Plane, shadow: Plane, options: PassOptions) {
  const pass = {keys: 0, removed: new Samples<string>(options.sampleSize), prefixes: new PrefixCounter()}
  const countRemoved = (keys: Buffer[], exists: unknown[]) => {
    pass.keys += keys.length
    keys.forEach((key, i) => {
      if (exists[i] === 0) {
        pass.removed.add(key, keyText(key))
        pass.prefixes.count(key, 'removed')
      }
    })
    options.onKeys(pass.keys)
  }
  const scan = abortableIterable(live.scanKeys({distinct: options.distinct}), options.signal)
  const checkShadow = async (keys: Buffer[]) => ({keys, exists: await shadow.execute(keys.map((key) => ({argv: ['EXISTS', key], slot: keySlot(key)})))})
  for await (const {keys, exists} of inFlight(scan, checkShadow, READS_IN_FLIGHT)) countRemoved(keys, exists)
  return pass
}

type Present = StoredKey & {value: DatasetValue}

/** Feeds a changed key's numeric values (a string, or a hash's fields present on both sides) to the tally. */
function compareNumbers(numeric: NumericChanges, before: Present, after: Present): void {
  if (before.value.type === 'string' && after.value.type === 'string') {
    numeric.add(keyText(after.key), undefined, before.value.value, after.value.value)
  } else if (before.value.type === 'hash' && after.value.type === 'hash') {
    const old = new Map(before.value.value.map(([field, value]) => [field.toString('latin1'), value]))
    for (const [field, value] of after.value.value) {
      const name = keyText(field)
      const was = old.get(field.toString('latin1'))
      if (was !== undefined && numeric.wants(name)) numeric.add(keyText(after.key), name, was, value)
    }
  }
}

function sameKey(a: StoredKey, b: StoredKey): boolean {
  return keyDigest(a.key, a.value!, a.hasTtl).equals(keyDigest(b.key, b.value!, b.hasTtl))
}

/** What changed from `before` (live) to `after` (shadow). */
export function describeChange(before: Present, after: Present): string {
  const changes: string[] = []
  if (before.value.type !== after.value.type) {
    changes.push(`type ${before.value.type} → ${after.value.type}`)
  } else if (!keyDigest(before.key, before.value, false).equals(keyDigest(after.key, after.value, false))) {
    changes.push(describeValueChange(before.value, after.value))
  }
  if (before.hasTtl !== after.hasTtl) changes.push(after.hasTtl ? 'TTL added' : 'TTL removed')
  return changes.join('; ')
}

const NAMED_PARTS = 5

/** The change inside a value of one type: the string itself, or which fields/members changed. */
function describeValueChange(before: DatasetValue, after: DatasetValue): string {
  switch (after.type) {
    case 'string':
      return `value ${valuePreview(before.value as Buffer)} → ${valuePreview(after.value)}`
    case 'hash': {
      const parts = compareEntries(before.value as Array<[Buffer, Buffer]>, after.value, (old, now) => `${valuePreview(old, 20)} → ${valuePreview(now, 20)}`)
      return `fields ${parts}`
    }
    case 'zset': {
      const parts = compareEntries(before.value as Array<[Buffer, number]>, after.value, (old, now) => `score ${old} → ${now}`)
      return `members ${parts}`
    }
    case 'set':
      return `members ${compareEntries((before.value as Buffer[]).map((m) => [m, 0]), after.value.map((m) => [m, 0]), () => '')}`
    case 'list':
      return `list elements changed (length ${(before.value as Buffer[]).length} → ${after.value.length})`
  }
}

/** "price "19.90" → "14.90", +color, -size, … 3 more": changed, added (+) and removed (-) entries by name. */
function compareEntries<V>(before: Array<[Buffer, V]>, after: Array<[Buffer, V]>, change: (old: V, now: V) => string): string {
  const old = new Map(before.map(([name, value]) => [name.toString('latin1'), value]))
  const parts: string[] = []
  for (const [name, value] of after) {
    const id = name.toString('latin1')
    if (!old.has(id)) parts.push(`+${keyText(name)}`)
    else if (!sameValue(old.get(id)!, value)) parts.push(`${keyText(name)} ${change(old.get(id)!, value)}`.trimEnd())
    old.delete(id)
  }
  for (const id of old.keys()) parts.push(`-${keyText(Buffer.from(id, 'latin1'))}`)
  const named = parts.slice(0, NAMED_PARTS).join(', ')
  return parts.length > NAMED_PARTS ? `${named}, … ${parts.length - NAMED_PARTS} more` : named
}

function sameValue(a: unknown, b: unknown): boolean {
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : a === b
}

type ChangeKind = 'added' | 'removed' | 'changed' | 'unchanged'

class PrefixCounter {
  private readonly groups = new Map<string, PrefixCounts>()

  count(key: Buffer, kind: ChangeKind): void {
    const colon = key.indexOf(0x3a)
    this.add(keyText(colon < 0 ? key : key.subarray(0, colon)), kind, 1)
  }

  /** This counter with another's counts added (the two passes count different kinds). */
  with(other: PrefixCounter): PrefixCounter {
    for (const group of other.groups.values()) {
      for (const kind of ['added', 'removed', 'changed', 'unchanged'] as const) {
        if (group[kind] > 0) this.add(group.prefix, kind, group[kind])
      }
    }
    return this
  }

  largest(limit: number): PrefixCounts[] {
    const total = (g: PrefixCounts) => g.added + g.removed + g.changed
    return [...this.groups.values()]
      .sort((a, b) => total(b) - total(a) || b.unchanged - a.unchanged || a.prefix.localeCompare(b.prefix))
      .slice(0, limit)
  }

  private add(prefix: string, kind: ChangeKind, n: number): void {
    let group = this.groups.get(prefix)
    if (group === undefined) {
      if (this.groups.size >= MAX_PREFIXES) return // keys without a prefix structure: stop grouping
      group = {prefix, added: 0, removed: 0, changed: 0, unchanged: 0}
      this.groups.set(prefix, group)
    }
    group[kind] += n
  }
}
