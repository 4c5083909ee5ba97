import {EngineCommand, engineDirFlag} from '../../cli/engine-command.js'
import {enginePasswordFromEnv} from '../../cli/target.js'
import {formatCount} from '../../cli/output.js'
import {formatBytes, formatSize} from '../../util/bytes.js'
import {CheckFailedError, EXIT} from '../../util/exit-codes.js'
import {engineStatus, type EngineStatus} from '../../engine/daemon/index.js'

export type EngineStatusResult = EngineStatus

export default class EngineStatusCommand extends EngineCommand {
  static summary = 'Show whether the engine runs, its nodes, keys per database, memory and last snapshot.'

  static description = `Reads the engine's files in --dir and asks every node (INFO): pid and uptime, each node's port and slot ranges, keys per database summed over nodes, memory used (with the per-database estimate behind --db-maxmemory) and the time of the last snapshot every node has written. Set FLIP_ENGINE_PASSWORD when the engine requires one. Exits 0 when it runs and 3 when it does not (the --json document then has "running": false and an "error").`

  static examples = [
    {description: 'Human-readable status', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'For scripts', command: '<%= config.bin %> <%= command.id %> --json'},
  ]

  static flags = {
    dir: engineDirFlag('Directory the engine was started with.'),
  }

  async run(): Promise<EngineStatusResult> {
    const {flags} = await this.parse(EngineStatusCommand)
    const {dir} = this.engineDirs(flags)
    const status = await engineStatus(dir, enginePasswordFromEnv())
    for (const line of render(status)) this.log(line)
    // Scripts can test it like a service: `flip engine status || flip engine start`.
    if (!status.running) throw new CheckFailedError(`no engine is running from ${status.dir}`, status, EXIT.unreachable)
    return status
  }
}

function render(s: EngineStatus): string[] {
  const lines: string[] = []
  const snapshot = s.lastSnapshotAt ? `last snapshot ${s.lastSnapshotAt}` : 'no snapshot yet'
  if (!s.running) {
    lines.push(`flip engine: not running (dir ${s.dir}; ${snapshot})`)
    return lines
  }
  lines.push(`flip engine: running, pid ${s.pid}, up ${uptime(s.uptimeSeconds ?? 0)}, ${s.mode}, ${formatCount(s.databases ?? 0)} databases${s.passwordRequired ? ', password required' : ''}`)
  lines.push(`  seed ${s.seedUrl}`)
  for (const n of s.nodes) {
    const slots = n.slots.length ? `slots ${n.slots.map(([a, b]) => `${a}-${b}`).join(',')}` : 'all keys'
    const health = n.error ? n.error : `${formatCount(n.keys)} keys, ${formatBytes(n.usedMemoryBytes ?? 0)}`
    lines.push(`  node ${n.index}  ${n.host}:${n.port}  pid ${n.pid}  ${slots}  ${health}`)
  }
  const dbs = Object.keys(s.keysPerDb).sort((a, b) => Number(a) - Number(b))
  lines.push(`  keys ${formatCount(s.totalKeys)}${dbs.length ? ': ' + dbs.map((db) => `db${db}=${formatCount(s.keysPerDb[db])}${memoryOf(s, db)}`).join(', ') : ''}`)
  lines.push(`  memory ${formatBytes(s.usedMemoryBytes)}`)
  const limited = Object.keys(s.dbMaxMemory).sort((a, b) => Number(a) - Number(b))
  if (limited.length) {
    lines.push(`  limits ${limited.map((db) => `db${db} ${formatBytes(s.memoryPerDb[db] ?? 0)} of ${formatSize(s.dbMaxMemory[db])}`).join(', ')}`)
  }
  lines.push(`  ${snapshot}`)
  return lines
}

function memoryOf(s: EngineStatus, db: string): string {
  const used = s.memoryPerDb[db]
  return used === undefined ? '' : ` (${formatBytes(used)})`
}

function uptime(seconds: number): string {
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`
}
