import {DataCommand, dbFlag} from '../cli/data-command.js'
import {color, formatCount} from '../cli/output.js'
import {status, type StatusResult} from '../ops/index.js'
import {DbSession} from '../registry/db-service.js'
import type {ServerTarget} from '../plane/index.js'
import type {FlipConfig} from '../cli/config.js'

export default class Status extends DataCommand {
  static summary = 'Keys per database (summed and per node), the latest manifest and whether the db still matches it.'

  static examples = [
    {description: 'Live, shadow and any other non-empty db', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Machine-readable', command: '<%= config.bin %> <%= command.id %> --json'},
  ]

  static flags = {
    live: dbFlag('Live database (default 0).'),
    shadow: dbFlag('Shadow database (default 1).'),
  }

  async run(): Promise<StatusResult & {dbs: Array<StatusResult['dbs'][number] & {name?: string}>}> {
    const {flags} = await this.parse(Status)
    const config = await this.settings(flags)
    const target0 = this.target(flags.url, config)
    const result = await status({
      target: target0,
      stateDir: config.stateDir,
      dbs: [
        {db: config.live, role: 'live'},
        {db: config.shadow, role: 'shadow'},
        {db: config.archive, role: 'archive'},
      ],
    })
    const names = await dbNames(target0, config)
    for (const db of result.dbs) if (names.has(db.db)) Object.assign(db, {name: names.get(db.db)})
    const target = result.target
    this.log(`${target.mode} ${target.server ?? ''} · ${target.nodes.length} primar${target.nodes.length === 1 ? 'y' : 'ies'}: ${target.nodes.map((n) => n.address).join(', ')}`)
    for (const db of result.dbs) {
      const role = db.role ? ` (${db.role})` : ''
      const name = names.has(db.db) ? ` "${names.get(db.db)}"` : ''
      const nodes = db.perNode.length > 1 ? `  [${db.perNode.map((n) => formatCount(n.keys)).join(' + ')}]` : ''
      let manifest = ''
      if (db.manifest) {
        const match = db.matchesManifest ? color.green('matches') : db.cutOver ? color.cyan(`cut over to live db ${db.cutOver.liveDb} by plan ${db.cutOver.planId}${db.cutOver.phase === 'switching' ? ' (unfinished)' : ''}`) : color.red(`differs: ${db.mismatch ?? ''}`)
        manifest = `  manifest ${db.manifest.id}${db.manifest.complete ? '' : ' (incomplete)'} ${match}`
      }
      this.log(`db ${db.db}${name}${role}: ${formatCount(db.keys)} keys${nodes}${manifest}`)
    }
    if (result.latestManifest) this.log(`latest manifest: ${result.latestManifest.id} (db ${result.latestManifest.db}, ${formatCount(result.latestManifest.keys)} keys, ${result.latestManifest.createdAt})`)
    return result
  }
}

/** Names of dbs from the registry, for display; none when there is no registry to read (CONFIG refused, no metadata db). */
async function dbNames(target: ServerTarget, config: FlipConfig): Promise<Map<number, string>> {
  try {
    const session = await DbSession.open(target, {metaDb: config.metaDb, roles: {live: config.live, shadow: config.shadow, archive: config.archive, lockDb: config.lockDb}})
    try {
      return new Map((await session.registry.names()).map((entry) => [entry.db, entry.name]))
    } finally {
      await session.close()
    }
  } catch {
    return new Map()
  }
}
