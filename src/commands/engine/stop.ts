import {Flags} from '@oclif/core'
import {rmSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {BaseCommand} from '../../cli/base.js'
import {resolveConfig} from '../../cli/config.js'
import {EXIT, FlipError} from '../../util/exit-codes.js'
import {engineRecordPath, readEngineRecord} from '../../cli/target.js'
import {stopDaemon} from '../../engine/daemon/index.js'

export interface EngineStopResult {
  /** False when no engine was running from --dir. */
  stopped: boolean
  dir: string
  pid?: number
  seconds?: number
}

export default class EngineStop extends BaseCommand {
  static summary = 'Stop the background engine gracefully.'

  static description = `Asks the engine running from --dir to stop: every node stops accepting connections, writes a final snapshot and exits; the pid file and the engine record in the state directory are removed. When nothing runs, says so and exits 0.`

  static examples = [
    {description: 'Stop the engine started with `flip engine start`', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Stop an engine started with another --dir', command: '<%= config.bin %> <%= command.id %> --dir /var/lib/flip/engine'},
  ]

  static flags = {
    dir: Flags.string({summary: 'Directory the engine was started with.', description: 'Default: <state-dir>/engine (.flip/engine).'}),
    timeout: Flags.integer({summary: 'Seconds to wait for the final snapshot and exit.', default: 120, min: 1}),
  }

  async run(): Promise<EngineStopResult> {
    const {flags} = await this.parse(EngineStop)
    const stateDir = resolve(resolveConfig({stateDir: flags['state-dir']}).stateDir)
    const dir = resolve(flags.dir ?? join(stateDir, 'engine'))
    let stopped
    try {
      stopped = await stopDaemon(dir, flags.timeout * 1000)
    } catch (error) {
      throw new FlipError((error as Error).message, EXIT.checkFailed)
    }
    const record = readEngineRecord(stateDir)
    if (record && resolve(record.dir) === dir) rmSync(engineRecordPath(stateDir), {force: true})
    if (stopped.stopped) this.log(`flip engine stopped (pid ${stopped.pid}, final snapshot written, ${stopped.seconds!.toFixed(1)} s)`)
    else this.log(`no engine is running from ${dir}`)
    return {...stopped, dir}
  }
}
