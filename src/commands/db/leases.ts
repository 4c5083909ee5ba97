import {DbCommand, timeLeft} from '../../cli/db-command.js'
import {color} from '../../cli/output.js'
import {listLeases} from '../../registry/db-service.js'
import type {Lease} from '../../registry/db-registry.js'

export interface LeasesResult {
  leases: Array<Lease & {expired: boolean}>
}

export default class Leases extends DbCommand {
  static summary = 'The leased databases, with label, holder and time left.'

  static examples = [{description: 'As a table', command: '<%= config.bin %> <%= command.id %>'}, {description: 'Machine-readable', command: '<%= config.bin %> <%= command.id %> --json'}]

  async run(): Promise<LeasesResult> {
    const {flags} = await this.parse(Leases)
    const session = await this.openRegistry(flags)
    try {
      const leases = await listLeases(session)
      if (leases.length === 0) this.log('no leases')
      else {
        const rows = leases.map((l) => [String(l.db), l.label ?? '', l.holder, l.expiresAt, timeLeft(l.expiresAt), l.user ?? ''])
        const header = ['DB', 'LABEL', 'HOLDER', 'EXPIRES', 'LEFT', 'USER']
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
        const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
        this.log(color.dim(line(header)))
        for (const row of rows) this.log(line(row))
      }
      return {leases}
    } finally {
      await session.close()
    }
  }
}
