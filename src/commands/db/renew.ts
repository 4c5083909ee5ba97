import {Args, Flags} from '@oclif/core'
import {DbCommand, timeLeft, tokenFlag, ttlFlag, ttlOf} from '../../cli/db-command.js'
import {color} from '../../cli/output.js'
import {dbOfLabel, renewLease} from '../../registry/db-service.js'
import {EXIT, FlipError} from '../../util/exit-codes.js'

export default class Renew extends DbCommand {
  static summary = 'Extend a lease: it then expires --ttl from now.'

  static examples = [
    {description: 'In the job that leased it (FLIP_DB and FLIP_LEASE_TOKEN from `lease --env`)', command: '<%= config.bin %> <%= command.id %> "$FLIP_DB" --ttl 30m'},
    {description: 'By label', command: '<%= config.bin %> <%= command.id %> --label job-42'},
  ]

  static args = {db: Args.integer({description: 'The leased db (or give --label).', min: 0})}

  static flags = {
    ttl: ttlFlag,
    label: Flags.string({summary: 'Find the lease by its label instead of its db.', exclusive: ['db']}),
    token: tokenFlag,
    force: Flags.boolean({summary: 'Renew a lease without its token.'}),
  }

  async run(): Promise<{db: number; expiresAt: string}> {
    const {args, flags} = await this.parse(Renew)
    if (args.db === undefined && flags.label === undefined) throw new FlipError('give the leased db or --label', EXIT.usage)
    const ttlMs = ttlOf(flags.ttl)
    const session = await this.openRegistry(flags)
    try {
      const db = args.db ?? (await dbOfLabel(session, flags.label!))
      const result = await renewLease(session, {db, token: flags.token, force: flags.force, ttlMs})
      this.log(`${color.green('✓')} db ${db} leased until ${result.expiresAt} (${timeLeft(result.expiresAt)})`)
      return result
    } finally {
      await session.close()
    }
  }
}
