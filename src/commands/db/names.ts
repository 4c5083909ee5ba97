import {DbCommand} from '../../cli/db-command.js'

export default class Names extends DbCommand {
  static summary = 'The database names, with their numbers.'

  static examples = [{description: 'As a table', command: '<%= config.bin %> <%= command.id %>'}, {description: 'Machine-readable', command: '<%= config.bin %> <%= command.id %> --json'}]

  async run(): Promise<{names: Array<{name: string; db: number}>}> {
    const {flags} = await this.parse(Names)
    const session = await this.openRegistry(flags)
    try {
      const names = await session.registry.names()
      if (names.length === 0) this.log('no names (db 0 is always "default")')
      const width = Math.max(4, ...names.map((n) => n.name.length))
      for (const entry of names) this.log(`${entry.name.padEnd(width)}  ${entry.db}`)
      return {names}
    } finally {
      await session.close()
    }
  }
}
