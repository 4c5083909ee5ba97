// The record `flip engine start` leaves in the state directory (<state-dir>/engine.json) so the
// other commands find the bundled engine without --url. It never holds a password, only whether
// one is required.
import {existsSync, readFileSync, rmSync} from 'node:fs'
import {join, resolve} from 'node:path'
import type {DaemonState} from '../engine/daemon/index.js'
import {writeJsonAtomic} from '../util/atomic-file.js'

export interface EngineRecord {
  seedUrl: string
  dir: string
  pid: number
  startedAt: string
  passwordRequired?: boolean
}

export function engineRecordPath(stateDir: string): string {
  return join(stateDir, 'engine.json')
}

export function readEngineRecord(stateDir: string): EngineRecord | undefined {
  const path = engineRecordPath(stateDir)
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EngineRecord
  } catch {
    return undefined
  }
}

/** Records a running engine; returns the record's path. */
export async function writeEngineRecord(stateDir: string, state: DaemonState): Promise<string> {
  const record: EngineRecord = {
    seedUrl: state.seedUrl,
    dir: state.dir,
    pid: state.pid,
    startedAt: state.startedAt,
    passwordRequired: state.passwordRequired,
  }
  const path = engineRecordPath(stateDir)
  await writeJsonAtomic(path, record)
  return path
}

/** Removes the record if it is the one of the engine with this pid (another start may have replaced it). */
export function removeEngineRecordOfPid(stateDir: string, pid: number): void {
  const record = readEngineRecord(stateDir)
  if (record && record.pid === pid) rmSync(engineRecordPath(stateDir), {force: true})
}

/** Removes the record if it is the one of the engine running from `dir`. */
export function removeEngineRecordOfDir(stateDir: string, dir: string): void {
  const record = readEngineRecord(stateDir)
  if (record && resolve(record.dir) === dir) rmSync(engineRecordPath(stateDir), {force: true})
}
