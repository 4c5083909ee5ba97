import {DataCommand, dbFlag, metaDbFlag} from '../cli/data-command.js'
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
    'meta-db': metaDbFlag,
    'lock-db': dbFlag('Database holding the cutover lock key, shown as "lock" when it is not the metadata db (default: the metadata db).'),
  }

  async run(): Promise<StatusResult & {dbs: Array<StatusResult['dbs'][number] & {name?: string}>}> {
    const {flags} = await this.parse(Status)
    const config = await this.settings({...flags, metaDb: flags['meta-db'], lockDb: flags['lock-db']})
    const target0 = this.target(flags.url, config)
    const registry = await registryView(target0, config)
    const names = registry?.names ?? new Map<number, string>()
    const roleDbs: Array<{db: number; role?: string}> = [
      {db: config.live, role: 'live'},
      {db: config.shadow, role: 'shadow'},
      {db: config.archive, role: 'archive'},
    ]
    // The metadata db (names, leases, manifests, plans; by default also the lock's db) is a role
    // db too: without its label it looked like a stray non-empty db.
    if (registry) {
      roleDbs.push({db: registry.metaDb, role: 'meta'})
      if (registry.lockDb !== undefined && registry.lockDb !== registry.metaDb) roleDbs.push({db: registry.lockDb, role: 'lock'})
    }
    const result = await status({target: target0, stateDir: config.stateDir, dbs: roleDbs})
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

/**
 * The metadata db, the lock db and the names of dbs from the registry, for display; undefined
 * when there is no registry to read (CONFIG refused and no --meta-db, server unreachable).
 */
async function registryView(target: ServerTarget, config: FlipConfig): Promise<{metaDb: number; lockDb?: number; names: Map<number, string>} | undefined> {
  try {
    const session = await DbSession.open(target, {metaDb: config.metaDb, roles: {live: config.live, shadow: config.shadow, archive: config.archive, lockDb: config.lockDb}})
    try {
      const names = await session.registry.names().catch(() => [])
      return {metaDb: session.metaDb, lockDb: session.lockDb, names: new Map(names.map((entry) => [entry.db, entry.name]))}
    } finally {
      await session.close()
    }
  } catch {
    return undefined
  }
}
