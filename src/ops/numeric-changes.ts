// How numeric values move between live and shadow: for a price flip, how many went up or down,
// the distribution of the relative change, and the largest drops and rises by key. Numbers are
// strings that parse as decimal numbers, or such fields of a hash (all of them, or the ones named).
// `flip diff` reports it; the cutover guards (--max-drop / --max-rise) judge by the same figures.

export interface NumericMove {
  key: string
  /** The hash field, for a hash. */
  field?: string
  before: string
  after: string
  /** Relative change in percent: -100 is a drop to zero, +100 a doubling. */
  changePct: number
}

export interface NumericSummary {
  /** Numeric values that changed (a hash counts once per numeric field that changed). */
  changed: number
  up: number
  down: number
  /** Changed from zero, where a relative change has no meaning (not in the figures below). */
  fromZero: number
  /** Counts per range of relative change, in percent: [from, to); the last range has no end (null). */
  histogram: Array<{fromPct: number; toPct: number | null; count: number}>
  /** Percentiles of the relative change of the changed values, in percent (absent when none changed). */
  percentiles?: {p1: number; p5: number; p25: number; p50: number; p75: number; p95: number; p99: number}
  /** Largest drops first, then largest rises first. */
  largestDrops: NumericMove[]
  largestRises: NumericMove[]
  /** With limits: how many values dropped or rose by more than them (the cutover guards' counts). */
  beyondLimits?: {drops: number; rises: number}
}

/** Relative changes, in percent, beyond which values are counted (--max-drop / --max-rise). */
export interface NumericLimits {
  dropPct?: number
  risePct?: number
}

/** Range edges in percent; the first and last ranges are open. */
const EDGES = [-90, -50, -20, -5, 0, 5, 20, 50, 100]

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

export function parseNumeric(value: Buffer): number | undefined {
  if (value.length === 0 || value.length > 40) return undefined
  const text = value.toString('latin1')
  if (!NUMBER.test(text)) return undefined
  const n = Number(text)
  return Number.isFinite(n) ? n : undefined
}

export class NumericChanges {
  private ratios = new Float64Array(1024)
  private count = 0
  private up = 0
  private down = 0
  private fromZero = 0
  private readonly buckets = new Array<number>(EDGES.length + 1).fill(0)
  private readonly drops: NumericMove[] = []
  private readonly rises: NumericMove[] = []
  private beyondDrops = 0
  private beyondRises = 0

  constructor(
    /** How many of the largest drops and rises to keep. */
    private readonly limit = 20,
    /** Hash fields to compare; undefined: every field that is numeric on both sides. */
    readonly fields?: ReadonlySet<string>,
    private readonly limits?: NumericLimits,
  ) {}

  /** A string value, or a hash field, seen in both dbs and different. Ignored unless both are numbers. */
  add(key: string, field: string | undefined, before: Buffer, after: Buffer): void {
    const old = parseNumeric(before)
    const now = parseNumeric(after)
    if (old === undefined || now === undefined || old === now) return
    if (now > old) this.up++
    else this.down++
    if (old === 0) {
      this.fromZero++
      return
    }
    const changePct = ((now - old) / Math.abs(old)) * 100
    this.push(changePct)
    let bucket = 0
    while (bucket < EDGES.length && changePct >= EDGES[bucket]) bucket++
    this.buckets[bucket]++
    if (this.limits?.dropPct !== undefined && -changePct > this.limits.dropPct) this.beyondDrops++
    if (this.limits?.risePct !== undefined && changePct > this.limits.risePct) this.beyondRises++
    const move = {key, ...(field === undefined ? {} : {field}), before: before.toString('latin1'), after: after.toString('latin1'), changePct}
    // Equal changes (a whole catalog at 0.00) by key, so the keys named do not depend on scan order.
    if (changePct < 0) keepLargest(this.drops, move, this.limit, (a, b) => a.changePct - b.changePct || byKey(a, b))
    else keepLargest(this.rises, move, this.limit, (a, b) => b.changePct - a.changePct || byKey(a, b))
  }

  /** Whether a hash field takes part. */
  wants(field: string): boolean {
    return this.fields === undefined || this.fields.has(field)
  }

  summary(): NumericSummary {
    const sorted = this.ratios.subarray(0, this.count).sort()
    const at = (q: number) => round(sorted[Math.min(this.count - 1, Math.floor(q * this.count))])
    return {
      changed: this.up + this.down,
      up: this.up,
      down: this.down,
      fromZero: this.fromZero,
      histogram: this.buckets.map((count, i) => ({fromPct: i === 0 ? -100 : EDGES[i - 1], toPct: i === EDGES.length ? null : EDGES[i], count})),
      percentiles: this.count === 0 ? undefined : {p1: at(0.01), p5: at(0.05), p25: at(0.25), p50: at(0.5), p75: at(0.75), p95: at(0.95), p99: at(0.99)},
      largestDrops: this.drops.map(rounded),
      largestRises: this.rises.map(rounded),
      ...(this.limits ? {beyondLimits: {drops: this.beyondDrops, rises: this.beyondRises}} : {}),
    }
  }

  private push(ratio: number): void {
    if (this.count === this.ratios.length) {
      const grown = new Float64Array(this.ratios.length * 2)
      grown.set(this.ratios)
      this.ratios = grown
    }
    this.ratios[this.count++] = ratio
  }
}

/** Inserts in order and keeps the first `limit` (a short sorted list: limit is small). */
function keepLargest<T>(list: T[], item: T, limit: number, order: (a: T, b: T) => number): void {
  if (list.length >= limit && order(item, list[list.length - 1]) >= 0) return
  let at = list.length
  while (at > 0 && order(item, list[at - 1]) < 0) at--
  list.splice(at, 0, item)
  if (list.length > limit) list.pop()
}

function byKey(a: NumericMove, b: NumericMove): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : (a.field ?? '') < (b.field ?? '') ? -1 : (a.field ?? '') > (b.field ?? '') ? 1 : 0
}

function round(pct: number): number {
  return Math.round(pct * 100) / 100
}

function rounded(move: NumericMove): NumericMove {
  return {...move, changePct: round(move.changePct)}
}
