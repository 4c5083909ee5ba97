import {Args, Flags} from '@oclif/core'
import {DataCommand, dbFlag} from '../cli/data-command.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {color, formatBytes, formatCount, formatDuration, startProgress} from '../cli/output.js'
import {trapInterrupts} from '../cli/interrupt.js'
import {InterruptedError} from '../util/interrupt.js'
import {DATASET_FORMATS, type DatasetFormat} from '../dataset/source.js'
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
    format: Flags.string({summary: 'Input format (default: from the file extension).', options: [...DATASET_FORMATS]}),
    shadow: dbFlag('Database to stage into (default 1, or flip.config.json).'),
    live: dbFlag('The live database, which stage refuses to write (default 0).'),
    replace: Flags.boolean({summary: 'Empty a non-empty shadow db first instead of refusing.'}),
    key: Flags.string({summary: "CSV: key template, e.g. 'product:{sku}:price'."}),
    value: Flags.string({summary: 'CSV: column holding the value (string keys).', exclusive: ['hash']}),
    hash: Flags.boolean({summary: 'CSV: make each row a hash of its columns not used in the key.'}),
    ttl: Flags.string({summary: 'CSV: column holding a TTL in seconds.'}),
  }

  async run(): Promise<StageResult> {
    const {argv, flags} = await this.parse(Stage)
    const config = this.settings(flags)
    const files = argv as string[]
    const csv = flags.key ? {key: flags.key, value: flags.value, hash: flags.hash, ttl: flags.ttl} : undefined
    if ((flags.value || flags.hash || flags.ttl) && !flags.key) {
      throw new FlipError('--value, --hash and --ttl need --key (the CSV key template)', EXIT.usage)
    }
    const progress = startProgress(`Staging into db ${config.shadow}…`)
    const interrupts = trapInterrupts()
    try {
      const result = await stage({
        files,
        format: flags.format as DatasetFormat | undefined,
        csv,
        shadowDb: config.shadow,
        liveDb: config.live,
        replace: flags.replace,
        stateDir: config.stateDir,
        target: this.target(flags.url, config),
        signal: interrupts.signal,
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
        const message = (error as Error).message
        const suffix = ` — stage stopped after ${formatCount(failure.keysWritten)} keys; db ${failure.shadowDb} is incomplete (manifest ${failure.id} marked incomplete)`
        ;(error as Error).message = message + suffix
      }
      throw error
    } finally {
      interrupts.dispose()
    }
  }
}
