import {Flags} from '@oclif/core'
import {EngineCommand, engineDirFlag} from '../../cli/engine-command.js'
import {describeEngine, serveInForeground, startInBackground, type EngineStartResult} from '../../cli/engine-start.js'
import {EXIT, FlipError} from '../../util/exit-codes.js'
import {isLoopback, type DaemonOptions} from '../../engine/daemon/index.js'
import {parseDbMaxMemory} from '../../engine/limits/index.js'

export type {EngineStartResult} from '../../cli/engine-start.js'

export default class EngineStart extends EngineCommand {
  static summary = 'Start the bundled cluster-mode engine (in the background by default).'

  static description = `Starts N primaries (default 3) on consecutive loopback ports, each in its own process, that behave like a Valkey 9.1 cluster with numbered databases. The engine runs detached (pid and log files in --dir) until \`flip engine stop\`; its seed URL is recorded in the state directory so other flip commands find it without --url. A second start on the same --dir reports the running engine.

Data survives restarts: every node snapshots its whole keyspace to --dir every --save-seconds (when something changed) and on a graceful stop, and loads it at start. A kill -9 loses at most the writes since the last snapshot. A truncated or corrupt snapshot is refused: the engine does not start and the file is left as it is.

--password (or FLIP_ENGINE_PASSWORD) makes every node require AUTH; it is passed to the engine through its environment and never written to any file. --db-maxmemory DB=SIZE limits the estimated memory of one database (writes that would grow it past the limit fail with an OOM error naming the db).`

  static examples = [
    {description: 'Start a 3-node cluster on ports 7000-7002, in the background', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Serve in this terminal until Ctrl-C', command: '<%= config.bin %> <%= command.id %> --foreground'},
    {
      description: 'A password, 10 million databases and a 64 MB limit on db 5',
      command: 'FLIP_ENGINE_PASSWORD=s3cret <%= config.bin %> <%= command.id %> --databases 10000000 --db-maxmemory 5=64mb',
    },
    {description: 'One standalone node (SWAPDB works there)', command: '<%= config.bin %> <%= command.id %> --standalone --port 6400'},
  ]

  static flags = {
    nodes: Flags.integer({summary: 'Primaries in cluster mode.', default: 3, min: 1, max: 64}),
    port: Flags.integer({summary: 'Port of the first node; the others use the next ports (0 = any free ports).', default: 7000, min: 0, max: 65535}),
    databases: Flags.integer({summary: 'Numbered databases per node (cluster-databases); they cost nothing until used.', default: 16, min: 1, max: 2147483647}),
    dir: engineDirFlag('Directory for snapshots, pid file and log.'),
    password: Flags.string({summary: 'Require AUTH with this password on every node.', env: 'FLIP_ENGINE_PASSWORD'}),
    bind: Flags.string({summary: 'Address to listen on.', default: '127.0.0.1'}),
    'save-seconds': Flags.integer({summary: 'Seconds between snapshots (0 = only on stop).', default: 60, min: 0}),
    'db-maxmemory': Flags.string({summary: 'Memory limit of one database, DB=SIZE (b, kb, mb, gb); repeatable.', multiple: true}),
    standalone: Flags.boolean({summary: 'One standalone node instead of a cluster.', default: false}),
    foreground: Flags.boolean({summary: 'Serve in this process until SIGINT/SIGTERM instead of in the background.', default: false}),
  }

  async run(): Promise<EngineStartResult | undefined> {
    const {flags} = await this.parse(EngineStart)
    const {stateDir, dir} = this.engineDirs(flags)
    let dbMaxMemory: Array<[number, number]>
    try {
      dbMaxMemory = [...parseDbMaxMemory(flags['db-maxmemory'] ?? [], flags.databases)]
    } catch (error) {
      throw new FlipError((error as Error).message, EXIT.usage)
    }
    const mode = flags.standalone ? 'standalone' : 'cluster'
    const nodes = mode === 'standalone' ? 1 : flags.nodes
    if (flags.port !== 0 && flags.port + nodes - 1 > 65535) throw new FlipError(`ports ${flags.port}..${flags.port + nodes - 1} do not fit below 65536`, EXIT.usage)
    const password = flags.password === '' ? undefined : flags.password
    if (!isLoopback(flags.bind) && password === undefined) {
      this.warnLine(`binding to ${flags.bind} without a password: anyone who can reach this machine can read and change the data (set --password or FLIP_ENGINE_PASSWORD)`)
    }
    const options: DaemonOptions = {
      dir,
      mode,
      nodes,
      port: flags.port,
      host: flags.bind,
      databases: flags.databases,
      saveSeconds: flags['save-seconds'],
      dbMaxMemory,
    }
    if (flags.foreground) {
      // Under --json the one document is printed as soon as the engine serves (a supervisor needs its URL then), and nothing after.
      await serveInForeground(options, password, stateDir, {
        onServing: (result) => {
          if (this.jsonEnabled()) this.logJson(result)
          else this.log(`flip engine serving (${describeEngine(result)}): ${result.seedUrl} — Ctrl-C to stop`)
        },
        onStopping: (signal) => process.stderr.write(`${signal}: stopping (writing the final snapshot)…\n`),
      })
      this.log('flip engine stopped')
      return undefined
    }

    const result = await startInBackground(options, password, stateDir)
    if (result.alreadyRunning) this.log(`flip engine is already running (pid ${result.pid}): ${result.seedUrl}`)
    else this.log(`flip engine started (pid ${result.pid}, ${describeEngine(result)}): ${result.seedUrl}`)
    this.log(`  dir ${dir} · log ${result.logFile} · stop with: flip engine stop${flags.dir ? ` --dir ${flags.dir}` : ''}`)
    return result
  }
}
