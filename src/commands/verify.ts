import {Flags} from '@oclif/core'
import {notifyFlag, webhooksFor} from '../cli/notify.js'
import {DataCommand, dbFlag, metaDbFlag} from '../cli/data-command.js'
import {CheckFailedError, EXIT, FlipError} from '../util/exit-codes.js'
import {color, formatCount, formatDuration, startProgress} from '../cli/output.js'
import {datasetFlags, datasetInputOptions} from '../cli/dataset-flags.js'
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
    manifest: Flags.string({summary: "Manifest id or path (default: the shadow db's latest manifest, which must be complete).", exclusive: ['source']}),
    db: dbFlag("Database to check (default: the manifest's db with --manifest, else the shadow db)."),
    source: Flags.string({summary: 'Compare against this dataset file instead of a manifest (repeatable).', multiple: true}),
    'meta-db': metaDbFlag,
    ...datasetFlags,
    notify: notifyFlag,
  }

  async run(): Promise<VerifyResult> {
    const {flags} = await this.parse(Verify)
    const config = await this.settings({...flags, metaDb: flags['meta-db']})
    this.notifyTo(webhooksFor(flags.notify, config, false))
    const input = datasetInputOptions(flags)
    const {format, key, 'max-record-bytes': maxRecordBytes} = flags
    if (!flags.source && (format ?? key ?? maxRecordBytes) !== undefined) {
      throw new FlipError('--format, --key and --max-record-bytes describe --source files: pass --source FILE', EXIT.usage)
    }
    // Without --manifest or --db: the shadow db (what a cutover would switch) and its latest manifest.
    const db = config.db ?? (flags.manifest ? undefined : config.shadow)
    const progress = startProgress('Verifying…')
    // verify only reads: on Ctrl-C / SIGTERM stop waiting for it and leave (the exit ends the reads).
    const interrupts = trapInterrupts()
    let keysRead = 0
    let result: VerifyResult
    try {
      result = await abortable(verify({
        manifest: flags.manifest,
        source: flags.source,
        ...input,
        db,
        stateDir: config.stateDir,
        target: this.target(flags.url, config),
        meta: this.meta(config, (message) => progress.note(message)),
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
    throw new CheckFailedError(`verify failed: db ${result.db} does not match ${against}`, result)
  }
}
