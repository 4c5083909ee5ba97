import {Args, Flags} from '@oclif/core'
import {DbCommand} from '../../cli/db-command.js'
import {color} from '../../cli/output.js'
import {dbNumberOf} from '../../registry/db-names.js'
import {deleteDbUser} from '../../registry/db-users.js'
import {knownNames, makeDbUser} from '../../registry/db-service.js'
import {EXIT, FlipError} from '../../util/exit-codes.js'

export default class User extends DbCommand {
  static summary = 'Make (or reset, or with --delete remove) an ACL user allowed only one database, on every primary and reachable replica.'

  static description = `For a named db (a leased one gets its user from \`flip db lease --user\`). Needs database-level \
ACL (Valkey 9.1, or the bundled engine). The password (32 random bytes, hex) is printed once and stored nowhere; running \
the command again gives the user a new one.`

  static examples = [
    {description: 'A user for the db named tenant-acme', command: '<%= config.bin %> <%= command.id %> tenant-acme'},
    {description: 'Remove it', command: '<%= config.bin %> <%= command.id %> tenant-acme --delete'},
  ]

  static args = {db: Args.string({description: 'A db name or number.', required: true})}

  static flags = {
    name: Flags.string({summary: 'The user name (default: flip-db-<name or number>).'}),
    delete: Flags.boolean({summary: 'Delete the user instead.'}),
  }

  async run(): Promise<{name: string; db: number; password?: string; warnings: string[]}> {
    const {args, flags} = await this.parse(User)
    const session = await this.openRegistry(flags)
    try {
      let db = dbNumberOf(args.db, 'db')
      if (db === undefined) {
        db = await session.registry.lookup(args.db)
        if (db === undefined) throw new FlipError(`no db is named "${args.db}"${await knownNames(session)}`, EXIT.usage)
      }
      const name = flags.name ?? `flip-db-${args.db.toLowerCase()}`
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new FlipError(`invalid user name "${name}": letters, digits, ".", "_" and "-" only`, EXIT.usage)
      if (flags.delete) {
        const warnings = await deleteDbUser(session.plane, name)
        for (const warning of warnings) this.warnLine(warning)
        this.log(`${color.green('✓')} user ${name} deleted`)
        return {name, db, warnings}
      }
      const user = await makeDbUser(session, db, name)
      for (const warning of user.warnings) this.warnLine(warning)
      this.log(`${color.green('✓')} user ${user.name} may use db ${db} only`)
      this.log(`  password ${user.password}  (shown once, never stored)`)
      return user
    } finally {
      await session.close()
    }
  }
}
