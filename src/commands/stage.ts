import {Args, Flags} from '@oclif/core'
import {notifyFlag, webhooksFor} from '../cli/notify.js'
import {DataCommand, dbFlag, metaDbFlag} from '../cli/data-command.js'
import {datasetFlags, datasetInputOptions} from '../cli/dataset-flags.js'
import {color, formatCount, formatDuration, startProgress} from '../cli/output.js'
import {formatBytes} from '../util/bytes.js'
import {trapInterrupts} from '../cli/interrupt.js'
import {InterruptedError} from '../util/interrupt.js'
import {exitCodeOf, FlipError} from '../util/exit-codes.js'
import {stage, stageFailureOf, type StageResult} from '../ops/index.js'

export default class Stage extends DataCommand {
  static summary = 'Stream a dataset into the shadow database of every primary and write its manifest.'

  static description = `Reads NDJSON, JSON or CSV (or stdin with "-") and writes every record into the shadow db, \
pipelined per primary. A manifest with key counts and an order-independent checksum is written to \
<state-dir>/manifests/ once every write is acknowledged; a failed stage leaves the manifest marked incomplete. \
The live db is never touched.

NDJSON record: {"key": "...", "type": "string|hash|set|zset|list", "value": ..., "ttl": seconds}. \
"type" may be omitted for strings/numbers (string) and objects (hash); zset values are [[member, score], ...].`

  static examples = [
    {description: 'Stage tomorrow\'s prices into the shadow db (1)', command: '<%= config.bin %> <%= command.id %> prices.ndjson'},
    {description: 'Stage a CSV as string keys', command: "<%= config.bin %> <%= command.id %> prices.csv --key 'product:{sku}:price' --value price"},
    {description: 'Each CSV row becomes a hash of its other columns', command: "<%= config.bin %> <%= command.id %> products.csv --key 'product:{sku}' --hash"},
    {description: 'Replace whatever the shadow holds, from stdin, into db 5', command: 'cat prices.ndjson | <%= config.bin %> <%= command.id %> - --format ndjson --shadow 5 --replace'},
    {description: 'Machine-readable result', command: '<%= config.bin %> <%= command.id %> prices.ndjson --json'},
  ]

  static strict = false

  static args = {
    file: Args.string({description: 'Dataset file(s); "-" reads stdin.', required: true}),
  }

  static flags = {
    shadow: dbFlag('Database to stage into (default 1, or flip.config.json).'),
    live: dbFlag('The live database, which stage refuses to write (default 0).'),
    replace: Flags.boolean({summary: 'Empty a non-empty shadow db first instead of refusing.'}),
    'allow-empty': Flags.boolean({summary: 'Stage an input without records (0 keys) instead of refusing it; cut over, it empties live.'}),
    'meta-db': metaDbFlag,
    ...datasetFlags,
    notify: notifyFlag,
  }

  async run(): Promise<StageResult> {
    const {argv, flags} = await this.parse(Stage)
    const config = await this.settings({...flags, metaDb: flags['meta-db']})
    this.notifyTo(webhooksFor(flags.notify, config, false))
    const files = argv as string[]
    const input = datasetInputOptions(flags)
    const progress = startProgress(`Staging into db ${config.shadow}…`)
    const interrupts = trapInterrupts()
    try {
      const result = await stage({
        files,
        ...input,
        allowEmpty: flags['allow-empty'],
        shadowDb: config.shadow,
        liveDb: config.live,
        replace: flags.replace,
        stateDir: config.stateDir,
        target: this.target(flags.url, config),
        signal: interrupts.signal,
        meta: this.meta(config, (message) => progress.note(message)),
        onProgress(p) {
          const eta = p.totalBytes && p.bytes > 0 && p.bytes < p.totalBytes ? `, ETA ${formatDuration(((p.totalBytes - p.bytes) / p.bytes) * p.seconds * 1000)}` : ''
          const size = p.totalBytes ? `${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}` : formatBytes(p.bytes)
          progress.update(`Staging into db ${config.shadow}: ${formatCount(p.keys)} keys, ${formatCount(Math.round(p.keysPerSecond))} keys/s, ${size}${eta}`)
        },
      })
      progress.succeed(`Staged ${formatCount(result.keys)} keys into db ${result.db} in ${formatDuration(result.seconds * 1000)}`)
      this.log(`${color.green('✓')} staged ${formatCount(result.keys)} keys into db ${result.db} (${formatCount(Math.round(result.keysPerSecond))} keys/s, ${formatBytes(result.bytes)})`)
      this.log(`  checksum ${result.checksum}`)
      this.log(`  manifest ${result.manifest}`)
      if (result.replaced > 0) this.log(`  replaced ${formatCount(result.replaced)} keys that were in db ${result.db}`)
      return result
    } catch (error) {
      progress.fail()
      const failure = stageFailureOf(error)
      if (failure && error instanceof InterruptedError) {
        throw new InterruptedError(
          `stage ${error.message} after ${formatCount(failure.keysWritten)} keys: shadow db ${failure.shadowDb} is incomplete (manifest ${failure.id} marked incomplete); stage again to use it`,
        )
      }
      if (failure) {
        const suffix = ` — stage stopped after ${formatCount(failure.keysWritten)} keys; db ${failure.shadowDb} is incomplete (manifest ${failure.id} marked incomplete)`
        throw new FlipError((error as Error).message + suffix, exitCodeOf(error), {cause: error})
      }
      throw error
    } finally {
      interrupts.dispose()
    }
  }
}
