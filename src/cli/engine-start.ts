// What `flip engine start` does beyond parsing flags: start the engine in the background or
// serve it in this process until SIGINT/SIGTERM, record it in the state directory for the other
// commands, and describe the result. The engine itself knows nothing of flip: the record and the
// messages are the CLI's.
import {
  AlreadyRunningError,
  StartError,
  runEngine,
  startDaemon,
  type DaemonOptions,
  type DaemonState,
} from '../engine/daemon/index.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {removeEngineRecordOfPid, writeEngineRecord} from './engine-record.js'

export interface EngineStartResult {
  seedUrl: string
  pid: number
  dir: string
  mode: 'cluster' | 'standalone'
  databases: number
  nodes: Array<{index: number; host: string; port: number; slots: Array<[number, number]>}>
  alreadyRunning: boolean
  foreground: boolean
  passwordRequired: boolean
  /** Where other flip commands find this engine without --url. */
  record: string
  logFile?: string
}

/** Starts the detached engine (or finds the one already running from options.dir) and records it. */
export async function startInBackground(options: DaemonOptions, password: string | undefined, stateDir: string): Promise<EngineStartResult> {
  let started
  try {
    started = await startDaemon(options, {password})
  } catch (error) {
    if (error instanceof StartError) throw new FlipError(error.message, EXIT.checkFailed)
    throw error
  }
  const record = await writeEngineRecord(stateDir, started.state)
  return toResult(started.state, {alreadyRunning: started.alreadyRunning, foreground: false, record, logFile: started.logFile})
}

export interface ForegroundHooks {
  /** Every node serves and the record is written. */
  onServing(result: EngineStartResult): void
  /** A stop signal arrived; the final snapshot is being written. */
  onStopping(signal: string): void
}

/** Serves the engine in this process until SIGINT or SIGTERM, then stops it gracefully and removes its record. */
export async function serveInForeground(options: DaemonOptions, password: string | undefined, stateDir: string, hooks: ForegroundHooks): Promise<void> {
  let running
  try {
    running = await runEngine(options, {password, foreground: true})
  } catch (error) {
    if (error instanceof AlreadyRunningError) throw new FlipError(`${error.message}; stop it first with \`flip engine stop\``, EXIT.checkFailed)
    throw new FlipError(String((error as Error).message).split('\n')[0], EXIT.checkFailed)
  }
  const record = await writeEngineRecord(stateDir, running.state)
  hooks.onServing(toResult(running.state, {alreadyRunning: false, foreground: true, record}))
  hooks.onStopping(await nextStopSignal())
  await running.stop()
  removeEngineRecordOfPid(stateDir, running.state.pid)
}

function nextStopSignal(): Promise<string> {
  return new Promise<string>((done) => {
    process.once('SIGINT', () => done('SIGINT'))
    process.once('SIGTERM', () => done('SIGTERM'))
  })
}

function toResult(
  state: DaemonState,
  extra: {alreadyRunning: boolean; foreground: boolean; record: string; logFile?: string},
): EngineStartResult {
  return {
    seedUrl: state.seedUrl,
    pid: state.pid,
    dir: state.dir,
    mode: state.mode,
    databases: state.databases,
    nodes: state.nodes.map((n) => ({index: n.index, host: n.host, port: n.port, slots: n.slots})),
    passwordRequired: state.passwordRequired,
    ...extra,
  }
}

/** "3 nodes, 16 databases, password required" */
export function describeEngine(result: EngineStartResult): string {
  const shape = result.mode === 'standalone' ? 'standalone' : `${result.nodes.length} nodes`
  return `${shape}, ${result.databases.toLocaleString('en-US')} databases${result.passwordRequired ? ', password required' : ''}`
}
