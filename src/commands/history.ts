import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base.js'
import {resolveConfig} from '../cli/config.js'
import {color, formatCount, formatDuration} from '../cli/output.js'
import {history, type History, type HistoryEntry} from '../cutover/history.js'

export default class HistoryCommand extends BaseCommand {
  static summary = 'Cutovers and rollbacks on this target, newest first, and which one `flip rollback` can still undo.'

  static description = `Read from the plans and journals in <state-dir>/plans (no server needed): when each cutover \
switched (or was cancelled or refused) and each rollback ran, in --tz (default FLIP_TZ, then flip.config.json, then \
local time), strategy and mode, keys switched, how long the switch took and how late it started, the result (done, \
rolled back, superseded, cancelled, refused, failed, in progress) and the manifest. "undo" marks the one cutover \
\`flip rollback\` can still undo: the latest done one that no later cutover superseded (an archive rotation deletes the \
older cutover's rollback data). flip rollback checks the server again before changing anything.`

  static examples = [
    {description: 'The last 20 cutovers and rollbacks', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'The last 3, machine-readable', command: '<%= config.bin %> <%= command.id %> --limit 3 --json'},
    {description: 'Times in New York', command: '<%= config.bin %> <%= command.id %> --tz America/New_York'},
  ]

  static flags = {
    limit: Flags.integer({summary: 'Show at most this many entries (newest first).', default: 20, min: 1}),
    tz: Flags.string({summary: 'IANA time zone for the times (default: FLIP_TZ, flip.config.json, local time).'}),
  }

  async run(): Promise<History> {
    const {flags} = await this.parse(HistoryCommand)
    const config = resolveConfig({stateDir: flags['state-dir'], tz: flags.tz})
    const result = await history({stateDir: config.stateDir, tz: config.tz, limit: flags.limit})
    if (result.entries.length === 0) {
      this.log(`no cutovers yet in ${config.stateDir}/plans`)
      return result
    }
    const rows = result.entries.map(row)
    const header = [`WHEN (${result.tz})`, 'WHAT', 'RESULT', 'KEYS', 'SWITCH', 'DRIFT', 'STRATEGY', 'MANIFEST', 'PLAN', 'UNDO']
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((cells) => cells[i].length)))
    const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()
    this.log(color.dim(line(header)))
    for (const [i, cells] of rows.entries()) {
      const text = line(cells)
      this.log(result.entries[i].canUndo ? color.green(text) : text)
    }
    const undoable = result.entries.find((entry) => entry.canUndo)
    this.log(undoable ? `flip rollback can undo ${undoable.planId}: ${undoable.rollbackCommand}` : 'no cutover here can be rolled back')
    const hidden = result.total - result.entries.length
    if (hidden > 0) this.log(color.dim(`(${hidden} older entr${hidden === 1 ? 'y' : 'ies'} not shown; --limit)`))
    return result
  }
}

function row(entry: HistoryEntry): string[] {
  const when = entry.at.slice(0, 19).replace('T', ' ')
  const result = entry.result === 'superseded' && entry.supersededBy ? `superseded by ${entry.supersededBy}` : entry.result
  return [
    when,
    entry.kind,
    result,
    entry.keys === null ? '-' : formatCount(entry.keys),
    entry.durationMs === null ? '-' : formatDuration(entry.durationMs),
    entry.driftMs === null ? '-' : `${entry.driftMs} ms`,
    `${entry.strategy}/${entry.mode}`,
    entry.manifest ?? '-',
    entry.planId,
    entry.canUndo ? 'yes' : '',
  ]
}
