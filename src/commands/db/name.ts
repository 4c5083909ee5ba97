import {Args} from '@oclif/core'
import {DbCommand} from '../../cli/db-command.js'
import {color} from '../../cli/output.js'
import {nameDb} from '../../registry/db-service.js'

export default class Name extends DbCommand {
  static summary = 'Give a database a name that every flip command accepts in place of its number.'

  static description = `Names are ASCII, 1-64 characters, case-insensitive and not purely numeric (as in Valkey's \
database alias proposal); "default" is db 0. They live in the metadata db, shared by everyone using the server. \
A named db is never leased.`

  static examples = [
    {description: 'Name the live and shadow dbs', command: '<%= config.bin %> <%= command.id %> prices-live 0 && <%= config.bin %> <%= command.id %> prices-next 1'},
    {description: 'Then', command: '<%= config.bin %> stage prices.ndjson --shadow prices-next'},
  ]

  static args = {
    name: Args.string({description: 'The name.', required: true}),
    db: Args.integer({description: 'The database number.', required: true, min: 0}),
  }

  async run(): Promise<{name: string; db: number}> {
    const {args, flags} = await this.parse(Name)
    const session = await this.openRegistry(flags)
    try {
      await nameDb(session, args.name, args.db)
      this.log(`${color.green('✓')} db ${args.db} is named "${args.name}"`)
      return {name: args.name, db: args.db}
    } finally {
      await session.close()
    }
  }
}
