import {Args} from '@oclif/core'
import {DbCommand} from '../../cli/db-command.js'
import {color} from '../../cli/output.js'
import {unnameDb} from '../../registry/db-service.js'

export default class Unname extends DbCommand {
  static summary = 'Remove a database name (the db and its keys stay).'

  static examples = [{description: 'Drop a name', command: '<%= config.bin %> <%= command.id %> prices-next'}]

  static args = {name: Args.string({description: 'The name.', required: true})}

  async run(): Promise<{name: string; db: number}> {
    const {args, flags} = await this.parse(Unname)
    const session = await this.openRegistry(flags)
    try {
      const db = await unnameDb(session, args.name)
      this.log(`${color.green('✓')} "${args.name}" no longer names db ${db}`)
      return {name: args.name, db}
    } finally {
      await session.close()
    }
  }
}
