import {DataCommand, dbFlag} from '../cli/data-command.js'
import {color, formatCount, formatDuration, startProgress} from '../cli/output.js'
import {diff, type DiffResult} from '../ops/index.js'

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
  }

  async run(): Promise<DiffResult> {
    const {flags} = await this.parse(Diff)
    const config = this.settings(flags)
    const progress = startProgress('Comparing…')
    let result: DiffResult
    try {
      result = await diff({
        liveDb: config.live,
        shadowDb: config.shadow,
        target: this.target(flags.url, config),
        onProgress(p) {
          progress.update(`Comparing (${p.phase}): ${formatCount(p.keys)} keys, ${formatCount(Math.round(p.keysPerSecond))} keys/s`)
        },
      })
    } finally {
      progress.stop()
    }
    this.log(`live db ${result.liveDb} (${formatCount(result.liveKeys)} keys) → shadow db ${result.shadowDb} (${formatCount(result.shadowKeys)} keys), compared in ${formatDuration(result.seconds * 1000)}`)
    this.log(`  ${color.green(`+${formatCount(result.added)} added`)}  ${color.red(`-${formatCount(result.removed)} removed`)}  ${color.yellow(`~${formatCount(result.changed)} changed`)}  ${formatCount(result.unchanged)} unchanged`)
    for (const p of result.prefixes.slice(0, 10)) {
      const parts = [p.changed && `${formatCount(p.changed)} changed`, p.added && `${formatCount(p.added)} added`, p.removed && `${formatCount(p.removed)} removed`].filter(Boolean)
      if (parts.length > 0) this.log(`  ${p.prefix}: ${parts.join(', ')}`)
    }
    for (const key of result.samples.added) this.log(`  + ${key}`)
    for (const key of result.samples.removed) this.log(`  - ${key}`)
    for (const c of result.samples.changed) this.log(`  ~ ${c.key}: ${c.change}`)
    return result
  }
}
