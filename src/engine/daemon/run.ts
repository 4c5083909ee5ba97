// Runs the engine in this process with its files in `dir`: pid file first (so a second start
// sees it), then the nodes (which load their snapshots), then the state file once every node
// serves. stop() is the graceful path: nodes stop accepting, write a final snapshot and exit;
// the pid and state files go last.
import {mkdirSync} from 'node:fs'
import {resolve} from 'node:path'
import {startEngine, type EngineHandle, type EngineOptions} from '../index.js'
import {isAlive, readPid, removeRunFiles, writePid, writeState, type DaemonState} from './files.js'

/** Everything `flip engine start` passes to the engine, minus the password (JSON-safe). */
export interface DaemonOptions {
  dir: string
  mode: 'cluster' | 'standalone'
  nodes: number
  /** First port (nodes use port, port+1, …); 0 = free ephemeral ports. */
  port: number
  host: string
  databases: number
  /** Seconds between snapshots; 0 = only on stop. */
  saveSeconds: number
  /** [db, bytes] limits. */
  dbMaxMemory: Array<[number, number]>
}

/** Options the engine reads for persistence and limits (see .git/info/engine-hooks.md). */
export interface PersistenceOptions {
  snapshotDir?: string
  saveSeconds?: number
  dbMaxMemory?: Array<[number, number]>
}

export interface RunningEngine {
  state: DaemonState
  handle: EngineHandle
  /** Graceful stop; resolves once every node exited and the run files are gone. */
  stop(): Promise<void>
}

export class AlreadyRunningError extends Error {
  constructor(readonly pid: number) {
    super(`an engine is already running from this directory (pid ${pid})`)
  }
}

export async function runEngine(
  options: DaemonOptions,
  extra: {password?: string; foreground?: boolean} = {},
): Promise<RunningEngine> {
  const dir = resolve(options.dir)
  mkdirSync(dir, {recursive: true})
  const other = readPid(dir)
  if (other !== undefined && other !== process.pid && isAlive(other)) throw new AlreadyRunningError(other)
  writePid(dir, process.pid)
  const engineOptions: EngineOptions & PersistenceOptions = {
    mode: options.mode,
    nodes: options.mode === 'standalone' ? 1 : options.nodes,
    host: options.host,
    databases: options.databases,
    password: extra.password,
    snapshotDir: dir,
    saveSeconds: options.saveSeconds,
    dbMaxMemory: options.dbMaxMemory,
    // Loading a big snapshot takes a while before a node listens.
    startTimeoutMs: 120_000,
  }
  if (options.port !== 0) engineOptions.basePort = options.port
  let handle: EngineHandle
  try {
    handle = await startEngine(engineOptions)
  } catch (error) {
    removeRunFiles(dir, process.pid)
    throw error
  }
  const state: DaemonState = {
    pid: process.pid,
    seedUrl: handle.seedUrl,
    mode: handle.mode,
    host: options.host,
    databases: options.databases,
    nodes: handle.nodes.map((n) => ({index: n.index, id: n.id, host: n.host, port: n.port, pid: n.pid, slots: n.slots})),
    startedAt: new Date().toISOString(),
    dir,
    saveSeconds: options.saveSeconds,
    dbMaxMemory: options.dbMaxMemory,
    passwordRequired: extra.password !== undefined,
    foreground: extra.foreground ?? false,
  }
  writeState(dir, state)
  let stopping: Promise<void> | null = null
  return {
    state,
    handle,
    stop() {
      stopping ??= handle.stop().finally(() => removeRunFiles(dir, process.pid))
      return stopping
    },
  }
}
