import {Flags} from '@oclif/core'
import {EngineCommand, engineDirFlag} from '../../cli/engine-command.js'
import {removeEngineRecordOfDir} from '../../cli/engine-record.js'
import {EXIT, FlipError} from '../../util/exit-codes.js'
import {stopDaemon} from '../../engine/daemon/index.js'

export interface EngineStopResult {
  /** False when no engine was running from --dir. */
  stopped: boolean
  dir: string
  pid?: number
  seconds?: number
}

export default class EngineStop extends EngineCommand {
  static summary = 'Stop the background engine gracefully.'

  static description = `Asks the engine running from --dir to stop: every node stops accepting connections, writes a final snapshot and exits; the pid file and the engine record in the state directory are removed. When nothing runs, says so and exits 0.`

  static examples = [
    {description: 'Stop the engine started with `flip engine start`', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Stop an engine started with another --dir', command: '<%= config.bin %> <%= command.id %> --dir /var/lib/flip/engine'},
  ]

  static flags = {
    dir: engineDirFlag('Directory the engine was started with.'),
    timeout: Flags.integer({summary: 'Seconds to wait for the final snapshot and exit.', default: 120, min: 1}),
  }

  async run(): Promise<EngineStopResult> {
    const {flags} = await this.parse(EngineStop)
    const {stateDir, dir} = this.engineDirs(flags)
    let stopped
    try {
      stopped = await stopDaemon(dir, flags.timeout * 1000)
    } catch (error) {
      throw new FlipError((error as Error).message, EXIT.checkFailed)
    }
    removeEngineRecordOfDir(stateDir, dir)
    if (stopped.stopped) this.log(`flip engine stopped (pid ${stopped.pid}, final snapshot written, ${stopped.seconds!.toFixed(1)} s)`)
    else this.log(`no engine is running from ${dir}`)
    return {...stopped, dir}
  }
}
