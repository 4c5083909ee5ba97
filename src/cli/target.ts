// Which server a data command talks to, decided here once per command: --url, then FLIP_URL,
// then VALKEY_URL, then the url in flip.config.json, then the bundled engine recorded by
// `flip engine start`. The result is the ServerTarget the ops, the cutover and the plane take.
// TLS files named in flip.config.json ride along as the env variables the plane reads
// (FLIP_TLS_CA / _CERT / _KEY, each set in the environment wins): every connection of the
// command, whichever layer opens it, passes the target's env down.
import {TLS_ENV} from '../plane/connect.js'
import {passwordFromEnv, resolveTargetUrl, type ServerTarget} from '../plane/index.js'
import type {TlsFiles} from '../plane/url.js'
import {isProcessAlive} from '../util/process.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {readEngineRecord} from './engine-record.js'

/** The bundled engine's password (env FLIP_ENGINE_PASSWORD), for the commands that talk to it. */
export function enginePasswordFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.FLIP_ENGINE_PASSWORD || undefined
}

export function resolveTarget(options: {url?: string; configUrl?: string; tlsFiles?: TlsFiles; stateDir: string; env?: NodeJS.ProcessEnv}): ServerTarget & {url: string} {
  const env = options.env ?? process.env
  const password = passwordFromEnv(env)
  const url = resolveTargetUrl(options.url, env) ?? (options.configUrl || undefined)
  if (url !== undefined) return options.tlsFiles ? {url, password, env: withTlsFiles(env, options.tlsFiles)} : {url, password}
  const record = readEngineRecord(options.stateDir)
  if (record && isProcessAlive(record.pid)) return {url: record.seedUrl, password: password ?? enginePasswordFromEnv(env)}
  throw new FlipError(
    'no server to talk to: pass --url (or set FLIP_URL), or start the bundled engine with `flip engine start`',
    EXIT.unreachable,
  )
}

/** env with the config file's TLS paths where the environment sets none. */
function withTlsFiles(env: NodeJS.ProcessEnv, files: TlsFiles): NodeJS.ProcessEnv {
  const merged = {...env}
  for (const part of ['ca', 'cert', 'key'] as const) if (!merged[TLS_ENV[part]] && files[part]) merged[TLS_ENV[part]] = files[part]
  return merged
}
