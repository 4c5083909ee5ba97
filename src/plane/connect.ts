// From PlaneOptions (or env) to what a Plane connects with: the server URL (flag > FLIP_URL >
// VALKEY_URL), its parsed target with the password, and for TLS (valkeys://, rediss://) the
// private CA to trust (PlaneOptions.tlsCa, else the file named by env FLIP_TLS_CA). The server
// certificate is always verified.
import {readFileSync} from 'node:fs'
import {UsageError} from './errors.js'
import type {RouterTarget} from './router.js'
import {parseTargetUrl, redactUrl, resolveTargetUrl, type ServerTarget} from './url.js'

/** Which server (url, password, env: as ServerTarget, FLIP_TLS_CA read from that env too), and how to bind. */
export interface PlaneOptions extends ServerTarget {
  /** The db every connection of this plane is bound to. */
  db: number
  connectTimeoutMs?: number
  /** For valkeys:// / rediss://: extra CA certificates (PEM) to trust; default the file named by env FLIP_TLS_CA. */
  tlsCa?: string | Buffer
}

/** The target to connect to and its URL with the password hidden; UsageError for a bad db, URL or CA file. */
export function resolvePlaneTarget(options: PlaneOptions): {target: RouterTarget; displayUrl: string} {
  const env = options.env ?? process.env
  if (!Number.isSafeInteger(options.db) || options.db < 0) throw new UsageError(`invalid db ${options.db}: expected an integer >= 0`)
  const url = resolveTargetUrl(options.url, env)
  if (url === undefined) {
    throw new UsageError('no server given: pass --url, set FLIP_URL or VALKEY_URL, or start the bundled engine with "flip engine start"')
  }
  const target = parseTargetUrl(url, {password: options.password, env})
  const tlsCa = options.tlsCa ?? (target.tls && env.FLIP_TLS_CA ? readCaFile(env.FLIP_TLS_CA) : undefined)
  return {target: {...target, tlsCa}, displayUrl: redactUrl(url)}
}

function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new UsageError(`cannot read the CA file ${path} (FLIP_TLS_CA): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}
