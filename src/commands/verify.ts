import {Flags} from '@oclif/core'
import {DataCommand, dbFlag} from '../cli/data-command.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {color, formatCount, formatDuration, startProgress} from '../cli/output.js'
import {DATASET_FORMATS, type DatasetFormat} from '../dataset/source.js'
import {verify, type VerifyResult} from '../ops/index.js'
import {trapInterrupts} from '../cli/interrupt.js'
import {InterruptedError, abortable} from '../util/interrupt.js'

export default class Verify extends DataCommand {
  static summary = 'Prove that a database holds exactly what was staged: counts and checksums per slot.'

  static description = `Re-reads the db (SCAN on every primary, pipelined type-aware reads), recomputes the \
per-slot key counts and checksums and compares them with the manifest (default: the latest complete one) or, \
with --source, with the file itself. On a mismatch it names the keys that are missing, extra or different \
(the first 20 of each, with the count of the rest) and exits 1.`

  static examples = [
    {description: 'Check the shadow db against the latest manifest', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Check against a given manifest', command: '<%= config.bin %> <%= command.id %> --manifest 20261126-201500-ab12'},
    {description: 'Check db 0 against the source file itself', command: '<%= config.bin %> <%= command.id %> --db 0 --source prices.ndjson'},
    {description: 'Machine-readable report (exit 1 on mismatch)', command: '<%= config.bin %> <%= command.id %> --json'},
  ]

  static flags = {
    manifest: Flags.string({summary: 'Manifest id or path (default: the latest complete manifest).', exclusive: ['source']}),
    db: dbFlag("Database to check (default: the manifest's db)."),
    source: Flags.string({summary: 'Compare against this dataset file instead of a manifest (repeatable).', multiple: true}),
    format: Flags.string({summary: 'Format of --source (default: from the extension).', options: [...DATASET_FORMATS]}),
    key: Flags.string({summary: 'CSV --source: key template.'}),
    value: Flags.string({summary: 'CSV --source: value column.'}),
    hash: Flags.boolean({summary: 'CSV --source: rows are hashes.'}),
  }

  async run(): Promise<VerifyResult> {
    const {flags} = await this.parse(Verify)
    const config = this.settings(flags)
    const db = flags.db ?? (flags.source ? config.shadow : undefined)
    const progress = startProgress('Verifying…')
    // verify only reads: on Ctrl-C / SIGTERM stop waiting for it and leave (the exit ends the reads).
    const interrupts = trapInterrupts()
    let keysRead = 0
    let result: VerifyResult
    try {
      result = await abortable(verify({
        manifest: flags.manifest,
        source: flags.source,
        format: flags.format as DatasetFormat | undefined,
        csv: flags.key ? {key: flags.key, value: flags.value, hash: flags.hash} : undefined,
        db,
        stateDir: config.stateDir,
        target: this.target(flags.url, config),
        onProgress(p) {
          keysRead = p.keys
          const of = p.totalKeys ? ` of ${formatCount(p.totalKeys)}` : ''
          progress.update(`Verifying (${p.phase}): ${formatCount(p.keys)}${of} keys, ${formatCount(Math.round(p.keysPerSecond))} keys/s`)
        },
      }), interrupts.signal)
    } catch (error) {
      if (error instanceof InterruptedError) throw new InterruptedError(`verify ${error.message} after ${formatCount(keysRead)} keys read; nothing was changed`)
      throw error
    } finally {
      progress.stop()
      interrupts.dispose()
    }

    const against = result.against === 'manifest' ? `manifest ${result.manifest?.id}` : `source ${result.source?.join(', ')}`
    if (result.ok) {
      this.log(`${color.green('✓')} db ${result.db} matches ${against}: ${formatCount(result.keys)} keys, checksum ${result.checksum} (${formatDuration(result.seconds * 1000)})`)
      return result
    }
    this.log(`${color.red('✗')} db ${result.db} does not match ${against}`)
    this.log(`  keys ${formatCount(result.keys)} (expected ${formatCount(result.expectedKeys)}), checksum ${result.checksum} (expected ${result.expected}), ${formatCount(result.perSlotMismatches)} slot(s) differ`)
    const list = (title: string, items: string[], count: number) => {
      if (count === 0) return
      this.log(`  ${title} (${formatCount(count)}):`)
      for (const item of items) this.log(`    ${item}`)
      if (count > items.length) this.log(`    … and ${formatCount(count - items.length)} more`)
    }
    list('missing', result.missing, result.missingCount)
    list('extra', result.extra, result.extraCount)
    list('different', result.different.map((d) => `${d.key}: ${d.reason}`), result.differentCount)
    if (result.note) this.log(`  note: ${result.note}`)
    if (this.jsonEnabled()) {
      // The report is the result; exit 1 all the same.
      this.logJson(result)
      this.exit(EXIT.checkFailed)
    }
    throw new FlipError(`verify failed: db ${result.db} does not match ${against}`, EXIT.checkFailed)
  }
}
