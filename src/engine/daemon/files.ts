// The files a running engine keeps in its directory: pid file, state file (how to reach it;
// never a password) and log. Snapshots live beside them (node-<i>.snapshot).
import {existsSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {writeFileAtomicSync} from '../../util/atomic-file.js'
import type {EngineNodeInfo} from '../index.js'

/** A node as the running engine reports it: the shape startEngine returns. */
export type DaemonNode = EngineNodeInfo

/** What the running engine writes once every node serves. Read by `flip engine status|stop`. */
export interface DaemonState {
  pid: number
  seedUrl: string
  mode: 'cluster' | 'standalone'
  host: string
  databases: number
  nodes: DaemonNode[]
  startedAt: string
  dir: string
  saveSeconds: number
  dbMaxMemory: Array<[number, number]>
  passwordRequired: boolean
  foreground: boolean
}

export const pidPath = (dir: string): string => join(dir, 'engine.pid')
export const statePath = (dir: string): string => join(dir, 'engine.state.json')
export const logPath = (dir: string): string => join(dir, 'engine.log')

export function readPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidPath(dir), 'utf8').trim())
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

export function writePid(dir: string, pid: number): void {
  writeFileAtomicSync(pidPath(dir), `${pid}\n`, 0o644)
}

export function readState(dir: string): DaemonState | undefined {
  if (!existsSync(statePath(dir))) return undefined
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as DaemonState
  } catch {
    return undefined
  }
}

export function writeState(dir: string, state: DaemonState): void {
  writeFileAtomicSync(statePath(dir), JSON.stringify(state, null, 2) + '\n', 0o644)
}

/** Removes the pid and state files, but only if they still belong to `pid` (or always when undefined). */
export function removeRunFiles(dir: string, pid?: number): void {
  if (pid !== undefined && readPid(dir) !== pid) return
  rmSync(statePath(dir), {force: true})
  rmSync(pidPath(dir), {force: true})
}

export {isProcessAlive as isAlive} from '../../util/process.js'

/** The last lines of the log written since `fromByte` (what a failed start printed). */
export function logTail(dir: string, fromByte = 0, lines = 5): string[] {
  try {
    const text = readFileSync(logPath(dir)).subarray(fromByte).toString('utf8')
    return text.split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(-lines)
  } catch {
    return []
  }
}
