import {fstatSync} from 'node:fs'
import {Flags} from '@oclif/core'
import {DbCommand, timeLeft, ttlFlag, ttlOf} from '../../cli/db-command.js'
import {color} from '../../cli/output.js'
import {githubMasks, leaseEnv} from '../../cli/lease-env.js'
import {leaseDb, type LeaseResult} from '../../registry/db-service.js'
import {EXIT, FlipError} from '../../util/exit-codes.js'

export default class Lease extends DbCommand {
  static summary = 'Lease a free database for a while (a CI job\'s own db): emptied, recorded with its expiry, printed.'

  static description = `Picks the lowest db that is not leased, not named and not a role db (live, shadow, archive, \
lock, metadata), empties it on every primary, and records the lease in the metadata db. Expired leases are \
released first. The token printed (FLIP_LEASE_TOKEN) is what renew and release ask for. With --user, an ACL \
user allowed only that db is made on every primary and every replica flip can reach (Valkey 9.1 database ACL; \
a replica it cannot reach is a warning); its password is printed once, never stored.`

  static examples = [
    {description: 'A db for 30 minutes', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'In a CI job: FLIP_DB, VALKEY_URL and FLIP_LEASE_TOKEN in the environment', command: 'eval "$(<%= config.bin %> <%= command.id %> --ttl 1h --label "$CI_JOB_ID" --user --env)"'},
    {description: 'GitHub Actions', command: '<%= config.bin %> <%= command.id %> --env >> "$GITHUB_ENV"'},
    {description: 'Only from dbs 100-199', command: '<%= config.bin %> <%= command.id %> --from 100 --to 199 --json'},
  ]

  static flags = {
    ttl: ttlFlag,
    label: Flags.string({summary: 'A note shown by `flip db leases` (a job id); `renew`/`release --label` find the lease by it.'}),
    from: Flags.integer({summary: 'Lowest db to lease (default 0).', min: 0}),
    to: Flags.integer({summary: 'Highest db to lease (default: the last db the server offers).', min: 0}),
    user: Flags.boolean({summary: 'Also make an ACL user allowed only this db (needs Valkey 9.1 database ACL or the bundled engine).'}),
    env: Flags.boolean({summary: 'Print FLIP_DB=…, VALKEY_URL=… (db in the path), FLIP_LEASE_TOKEN=… lines for eval or $GITHUB_ENV.', exclusive: ['json']}),
  }

  async run(): Promise<LeaseResult> {
    const {flags} = await this.parse(Lease)
    if (flags.label !== undefined && (flags.label === '' || flags.label.length > 200 || /[\r\n]/.test(flags.label))) throw new FlipError('--label: 1-200 characters on one line', EXIT.usage)
    const ttlMs = ttlOf(flags.ttl)
    const session = await this.openRegistry(flags)
    try {
      const result = await leaseDb(session, {ttlMs, label: flags.label, from: flags.from, to: flags.to, user: flags.user})
      if (result.reaped.length > 0) this.warnLine(`released ${result.reaped.length} expired lease(s) first: db ${result.reaped.join(', ')}`)
      for (const warning of result.warnings) this.warnLine(warning)
      if (flags.env) {
        const intoFile = fstatSync(1).isFile()
        const lines = leaseEnv(await this.targetUrl(flags), result, process.env, {exported: !intoFile})
        for (const mask of githubMasks(lines, process.env)) process.stderr.write(`${mask}\n`)
        for (const line of lines) this.log(line)
      } else {
        this.log(`${color.green('✓')} leased db ${result.db} until ${result.expiresAt} (${timeLeft(result.expiresAt)})${result.label ? ` as "${result.label}"` : ''}`)
        this.log(`  token ${result.token}  (FLIP_LEASE_TOKEN: renew and release ask for it)`)
        if (result.user) this.log(`  user ${result.user.name}  password ${result.user.password}  (shown once, never stored)`)
      }
      return result
    } finally {
      await session.close()
    }
  }
}
