import {DbCommand} from '../../cli/db-command.js'
import {color} from '../../cli/output.js'
import {collectGarbage} from '../../registry/db-service.js'

export default class Gc extends DbCommand {
  static summary = 'Release every expired lease now: empty its db and delete its user (every `lease` does this first anyway).'

  static examples = [{description: 'From a cron job', command: '<%= config.bin %> <%= command.id %>'}]

  async run(): Promise<{released: number[]; warnings: string[]}> {
    const {flags} = await this.parse(Gc)
    const session = await this.openRegistry(flags)
    try {
      const warnings: string[] = []
      const released = await collectGarbage(session, warnings)
      for (const warning of warnings) this.warnLine(warning)
      this.log(released.length === 0 ? 'no expired leases' : `${color.green('✓')} released ${released.length} expired lease(s): db ${released.join(', ')}`)
      return {released, warnings}
    } finally {
      await session.close()
    }
  }
}
