import {Args, Flags} from '@oclif/core'
import {DbCommand, tokenFlag} from '../../cli/db-command.js'
import {color} from '../../cli/output.js'
import {dbOfLabel, releaseLease} from '../../registry/db-service.js'
import {EXIT, FlipError} from '../../util/exit-codes.js'

export default class Release extends DbCommand {
  static summary = 'Give a leased database back: emptied on every primary, its user deleted, free for the next job.'

  static description = `Only the holder releases a lease: the token printed by \`flip db lease\` (FLIP_LEASE_TOKEN, \
set by \`eval "$(flip db lease --env)"\`, or --token). Labels are not proof (anyone can read them with \`flip db leases\`); \
--force releases any lease.`

  static examples = [
    {description: 'At the end of the job that leased it', command: '<%= config.bin %> <%= command.id %> "$FLIP_DB"'},
    {description: 'Someone else\'s lease, by label', command: '<%= config.bin %> <%= command.id %> --label job-42 --force'},
  ]

  static args = {db: Args.integer({description: 'The leased db (or give --label).', min: 0})}

  static flags = {
    label: Flags.string({summary: 'Find the lease by its label instead of its db.', exclusive: ['db']}),
    token: tokenFlag,
    force: Flags.boolean({summary: 'Release a lease that is not yours (no token).'}),
  }

  async run(): Promise<{db: number; user?: string; warnings: string[]}> {
    const {args, flags} = await this.parse(Release)
    if (args.db === undefined && flags.label === undefined) throw new FlipError('give the leased db or --label', EXIT.usage)
    const session = await this.openRegistry(flags)
    try {
      const db = args.db ?? (await dbOfLabel(session, flags.label!))
      const result = await releaseLease(session, {db, token: flags.token, force: flags.force})
      for (const warning of result.warnings) this.warnLine(warning)
      this.log(`${color.green('✓')} released db ${db} (emptied${result.user ? `, user ${result.user} deleted` : ''})`)
      return result
    } finally {
      await session.close()
    }
  }
}
