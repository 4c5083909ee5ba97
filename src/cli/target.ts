// Which server a data command talks to: --url, then FLIP_URL, then VALKEY_URL, then the
// url in flip.config.json, then the bundled engine recorded by `flip engine start`.
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {isProcessAlive} from '../util/process.js'
import {EXIT, FlipError} from '../util/exit-codes.js'

export interface Target {
  url: string
  /** Where the url came from, for messages ("bundled engine (.flip/engine.json)"). */
  source: string
  password?: string
}

/** What `flip engine start` records in the state directory (never a password). */
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

export function resolveTarget(options: {url?: string; configUrl?: string; stateDir: string; env?: NodeJS.ProcessEnv}): Target {
  const env = options.env ?? process.env
  const password = env.FLIP_PASSWORD || undefined
  if (options.url) return {url: options.url, source: '--url', password}
  if (env.FLIP_URL) return {url: env.FLIP_URL, source: 'FLIP_URL', password}
  if (env.VALKEY_URL) return {url: env.VALKEY_URL, source: 'VALKEY_URL', password}
  if (options.configUrl) return {url: options.configUrl, source: 'flip.config.json', password}
  const record = readEngineRecord(options.stateDir)
  if (record && isProcessAlive(record.pid)) {
    return {
      url: record.seedUrl,
      source: `bundled engine (${engineRecordPath(options.stateDir)})`,
      password: password ?? (env.FLIP_ENGINE_PASSWORD || undefined),
    }
  }
  throw new FlipError(
    'no server to talk to: pass --url (or set FLIP_URL), or start the bundled engine with `flip engine start`',
    EXIT.unreachable,
  )
}
