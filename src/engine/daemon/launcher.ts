// `flip engine start` without --foreground: spawns the detached engine process, then waits
// until it has written its state file and every node answers PING. A start on a directory whose
// engine already runs returns that engine instead.
import {spawn} from 'node:child_process'
import {closeSync, mkdirSync, openSync, statSync, writeSync} from 'node:fs'
import {createServer} from 'node:net'
import {resolve as resolvePath} from 'node:path'
import {fileURLToPath} from 'node:url'
import {isAlive, logPath, logTail, readPid, readState, removeRunFiles, type DaemonState} from './files.js'
import {Probe, ProbeError} from './probe.js'
import type {DaemonOptions} from './run.js'

export interface StartResult {
  state: DaemonState
  alreadyRunning: boolean
  logFile: string
}

/** A start that failed; the message is one line for the user. */
export class StartError extends Error {}

function daemonEntry(): {path: string; execArgv: string[]} {
  // Under vitest (NODE_ENV=test) oclif runs the TypeScript sources through tsx: so must the child.
  const fromSources = import.meta.url.endsWith('.ts')
  const path = fileURLToPath(new URL(fromSources ? './main.ts' : './main.js', import.meta.url))
  return {path, execArgv: fromSources ? ['--import', import.meta.resolve('tsx')] : []}
}

export async function startDaemon(options: DaemonOptions, extra: {password?: string; timeoutMs?: number} = {}): Promise<StartResult> {
  const dir = resolvePath(options.dir)
  const timeoutMs = extra.timeoutMs ?? 120_000
  mkdirSync(dir, {recursive: true})
  const running = await findRunning(dir, timeoutMs)
  if (running) return {state: running, alreadyRunning: true, logFile: logPath(dir)}
  removeRunFiles(dir) // stale files of an engine that died without cleaning up

  if (options.port !== 0) {
    const count = options.mode === 'standalone' ? 1 : options.nodes
    for (let i = 0; i < count; i++) await checkPortFree(options.host, options.port + i)
  }

  const log = openSync(logPath(dir), 'a', 0o600)
  const logStart = statSync(logPath(dir)).size
  writeSync(log, `${new Date().toISOString()} flip engine start (${options.mode}, dir ${dir})\n`)
  const env = {...process.env}
  delete env.FLIP_ENGINE_PASSWORD
  if (extra.password !== undefined) env.FLIP_ENGINE_PASSWORD = extra.password
  const entry = daemonEntry()
  const child = spawn(process.execPath, [...entry.execArgv, entry.path, JSON.stringify({...options, dir})], {
    detached: true,
    stdio: ['ignore', log, log],
    env,
    // The caller's directory, not --dir: the engine's node processes resolve their loader from it.
    cwd: process.cwd(),
  })
  closeSync(log)
  let exited: string | null = null
  child.once('exit', (code, signal) => {
    exited = signal ?? `code ${code}`
  })
  child.unref()

  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    await sleep(100)
    if (exited !== null) throw new StartError(failureMessage(dir, logStart, exited))
    const state = readState(dir)
    if (state === undefined || state.pid !== child.pid) continue
    await waitForNodes(state, extra.password, deadline)
    return {state, alreadyRunning: false, logFile: logPath(dir)}
  }
  throw new StartError(`the engine did not become ready within ${Math.round(timeoutMs / 1000)} s; see ${logPath(dir)}`)
}

/** The engine running from dir (pid alive, state written, nodes answering), if any. */
async function findRunning(dir: string, timeoutMs: number): Promise<DaemonState | undefined> {
  const pid = readPid(dir)
  if (pid === undefined || !isAlive(pid)) return undefined
  // It may still be starting (loading snapshots): wait for its state file.
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const state = readState(dir)
    if (state !== undefined && state.pid === pid) {
      // State files are written once the nodes listen: nobody listening means the pid was reused.
      return (await anyNodeListens(state)) ? state : undefined
    }
    if (!isAlive(pid)) return undefined
    await sleep(100)
  }
  throw new StartError(`an engine (pid ${pid}) is starting in ${dir} but did not become ready; see ${logPath(dir)}`)
}

/** Waits until every node answers PING (a wrong password is reported, not retried). */
async function waitForNodes(state: DaemonState, password: string | undefined, deadline: number): Promise<void> {
  for (const node of state.nodes) {
    for (;;) {
      try {
        const probe = await Probe.connect(node.host, node.port, {password})
        try {
          const reply = await probe.command('PING')
          if (reply === 'PONG') break
          if (reply instanceof ProbeError && /^NOAUTH/.test(reply.message)) break // up, needs a password
        } finally {
          probe.close()
        }
      } catch (error) {
        if (error instanceof ProbeError) break // it answered (e.g. WRONGPASS): it is up
      }
      if (Date.now() > deadline) throw new StartError(`engine node ${node.index} (port ${node.port}) does not answer PING`)
      await sleep(50)
    }
  }
}

async function anyNodeListens(state: DaemonState): Promise<boolean> {
  for (const node of state.nodes) {
    try {
      ;(await Probe.connect(node.host, node.port, {timeoutMs: 1000})).close()
      return true
    } catch {
      // try the next node
    }
  }
  return false
}

function checkPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new StartError(`port ${port} is already in use`))
      else if (error.code === 'EADDRNOTAVAIL') reject(new StartError(`address ${host} is not available on this machine`))
      else if (error.code === 'EACCES') reject(new StartError(`no permission to listen on port ${port}`))
      else reject(new StartError(`cannot listen on ${host}:${port}: ${error.message}`))
    })
    server.listen(port, host, () => server.close(() => resolve()))
  })
}

/** One line from the log of a start that failed: the child's `error:` line, else its first error line. */
function failureMessage(dir: string, logStart: number, exited: string): string {
  const tail = logTail(dir, logStart, 40)
  const errorLine = [...tail].reverse().find((l) => l.startsWith('error: '))
  if (errorLine) return errorLine.slice('error: '.length)
  const thrown = tail.find((l) => /\bError\b/.test(l))
  const detail = thrown ?? tail.filter((l) => !l.includes('flip engine start (')).slice(-3).join(' | ')
  return `the engine exited while starting (${exited})${detail ? `: ${detail.trim()}` : ''}; see ${logPath(dir)}`
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
