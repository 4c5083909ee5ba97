// Entry of the detached engine process that `flip engine start` spawns. Options arrive as JSON
// in argv (nothing secret); the password arrives in the environment and is removed from it at
// once. Everything printed here goes to <dir>/engine.log. SIGTERM/SIGINT stop gracefully.
import {runEngine, type DaemonOptions, type RunningEngine} from './run.js'

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`)
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as DaemonOptions
  const password = process.env.FLIP_ENGINE_PASSWORD || undefined
  delete process.env.FLIP_ENGINE_PASSWORD
  let running: RunningEngine
  try {
    running = await runEngine(options, {password})
  } catch (error) {
    // The launcher shows this line to the user: keep it one line.
    process.stdout.write(`error: ${String((error as Error).message ?? error).split('\n')[0]}\n`)
    process.exit(1)
  }
  log(`engine ready: ${running.state.seedUrl} (${running.state.mode}, ${running.state.databases} databases, pid ${process.pid})`)
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log(`${signal}: stopping (final snapshot)`)
    running.stop().then(
      () => {
        log('engine stopped')
        process.exit(0)
      },
      (error: Error) => {
        log(`error while stopping: ${error.message}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGHUP', () => {}) // detached: a closing terminal is no reason to stop
  running.handle.exited
    .then(async () => {
      if (stopping) return
      log('error: every engine node exited; shutting down')
      await running.stop().catch((error: Error) => log(`error while stopping: ${error.message}`))
      process.exit(1)
    })
    .catch((error: Error) => log(`error: ${error.message}`))
}

main().catch((error: Error) => {
  log(`error: ${error.message}`)
  process.exit(1)
})
