import {Flags} from '@oclif/core'
import {DataCommand, dbFlag} from '../cli/data-command.js'
import {trapInterrupts} from '../cli/interrupt.js'
import {InterruptedError} from '../util/interrupt.js'
import {color, formatCount, formatDuration, startProgress} from '../cli/output.js'
import {diff, type DiffResult} from '../ops/index.js'
import type {NumericMove, NumericSummary} from '../ops/numeric-changes.js'

export default class Diff extends DataCommand {
  static summary = 'What a cutover would change: keys added, removed, changed and unchanged between live and shadow.'

  static examples = [
    {description: 'Compare live (0) with shadow (1)', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Other databases', command: '<%= config.bin %> <%= command.id %> --live 3 --shadow 4'},
    {description: 'Machine-readable', command: '<%= config.bin %> <%= command.id %> --json'},
  ]

  static flags = {
    live: dbFlag('Live database (default 0).'),
    shadow: dbFlag('Shadow database (default 1).'),
    field: Flags.string({summary: 'Hash field whose numeric values are compared, e.g. price (repeatable; default: every numeric field).', multiple: true}),
  }

  async run(): Promise<DiffResult> {
    const {flags} = await this.parse(Diff)
    const config = await this.settings(flags)
    const progress = startProgress('Comparing…')
    const interrupts = trapInterrupts()
    let result: DiffResult
    try {
      result = await diff({
        liveDb: config.live,
        shadowDb: config.shadow,
        numericFields: flags.field,
        signal: interrupts.signal,
        target: this.target(flags.url, config),
        onProgress(p) {
          progress.update(`Comparing (${p.phase}): ${formatCount(p.keys)} keys, ${formatCount(Math.round(p.keysPerSecond))} keys/s`)
        },
      })
    } catch (error) {
      if (error instanceof InterruptedError) throw new InterruptedError(`diff ${error.message}; nothing was changed`)
      throw error
    } finally {
      progress.stop()
      interrupts.dispose()
    }
    this.log(`live db ${result.liveDb} (${formatCount(result.liveKeys)} keys) → shadow db ${result.shadowDb} (${formatCount(result.shadowKeys)} keys), compared in ${formatDuration(result.seconds * 1000)}`)
    this.log(`  ${color.green(`+${formatCount(result.added)} added`)}  ${color.red(`-${formatCount(result.removed)} removed`)}  ${color.yellow(`~${formatCount(result.changed)} changed`)}  ${formatCount(result.unchanged)} unchanged`)
    for (const p of result.prefixes.slice(0, 10)) {
      const parts = [p.changed && `${formatCount(p.changed)} changed`, p.added && `${formatCount(p.added)} added`, p.removed && `${formatCount(p.removed)} removed`].filter(Boolean)
      if (parts.length > 0) this.log(`  ${p.prefix}: ${parts.join(', ')}`)
    }
    for (const line of renderNumeric(result.numeric)) this.log(line)
    for (const key of result.samples.added) this.log(`  + ${key}`)
    for (const key of result.samples.removed) this.log(`  - ${key}`)
    for (const c of result.samples.changed) this.log(`  ~ ${c.key}: ${c.change}`)
    return result
  }
}

/** Numeric values that moved: counts, percentiles, a small histogram, the largest drops and rises. */
function renderNumeric(numeric: NumericSummary): string[] {
  if (numeric.changed === 0) return []
  const pct = (n: number) => `${n > 0 ? '+' : ''}${n.toFixed(1)} %`
  const p = numeric.percentiles
  const lines = [
    `  numeric values: ${formatCount(numeric.changed)} changed (${color.red(`${formatCount(numeric.down)} down`)}, ${color.green(`${formatCount(numeric.up)} up`)}${numeric.fromZero ? `, ${formatCount(numeric.fromZero)} from zero` : ''})` +
      (p ? `; median ${pct(p.p50)}, p1 ${pct(p.p1)}, p99 ${pct(p.p99)}` : ''),
  ]
  const widest = Math.max(...numeric.histogram.map((bucket) => bucket.count))
  for (const bucket of numeric.histogram) {
    if (bucket.count === 0) continue
    const range = bucket.toPct === null ? `≥ ${pct(bucket.fromPct)}` : bucket.fromPct === -100 ? `< ${pct(bucket.toPct)}` : `${pct(bucket.fromPct)} .. ${pct(bucket.toPct)}`
    const bar = '█'.repeat(Math.max(1, Math.round((bucket.count / widest) * 30)))
    lines.push(`    ${range.padStart(20)}  ${bar} ${formatCount(bucket.count)}`)
  }
  const move = (m: NumericMove) => `${m.key}${m.field === undefined ? '' : ` ${m.field}`} ${m.before} → ${m.after} (${pct(m.changePct)})`
  if (numeric.largestDrops.length) lines.push(`  largest drops: ${numeric.largestDrops.slice(0, 5).map(move).join(', ')}`)
  if (numeric.largestRises.length) lines.push(`  largest rises: ${numeric.largestRises.slice(0, 5).map(move).join(', ')}`)
  return lines
}
