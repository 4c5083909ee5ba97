// From PlaneOptions (or env) to what a Plane connects with: the server URL (flag > FLIP_URL >
// VALKEY_URL), its parsed target with the password, and for TLS (valkeys://, rediss://) the
// files to present and trust: a private CA (FLIP_TLS_CA) and, for mutual TLS, a client
// certificate and key (FLIP_TLS_CERT, FLIP_TLS_KEY), read from the target's env (src/cli/target.ts
// fills them in from flip.config.json when unset). The server certificate is always verified.
// The files are read and checked here, once, so a bad one stops the command before it connects
// (exit 2, naming the file and where it was named) instead of failing on every node.
import {readFileSync} from 'node:fs'
import {createSecureContext} from 'node:tls'
import type {TlsMaterial} from './connection.js'
import {UsageError} from './errors.js'
import type {RouterTarget} from './router.js'
import {parseTargetUrl, redactUrl, resolveTargetUrl, type ServerTarget} from './url.js'

/** Which server (url, password, env: as ServerTarget, the TLS files read from that env too), and how to bind. */
export interface PlaneOptions extends ServerTarget {
  /** The db every connection of this plane is bound to. */
  db: number
  connectTimeoutMs?: number
  /** For valkeys:// / rediss://: the CA certificates (PEM) to trust; default the file named by env FLIP_TLS_CA. */
  tlsCa?: string | Buffer
}

/** The target to connect to and its URL with the password hidden; UsageError for a bad db, URL or TLS file. */
export function resolvePlaneTarget(options: PlaneOptions): {target: RouterTarget; displayUrl: string} {
  const env = options.env ?? process.env
  if (!Number.isSafeInteger(options.db) || options.db < 0) throw new UsageError(`invalid db ${options.db}: expected an integer >= 0`)
  const url = resolveTargetUrl(options.url, env)
  if (url === undefined) {
    throw new UsageError('no server given: pass --url, set FLIP_URL or VALKEY_URL, or start the bundled engine with "flip engine start"')
  }
  const target = parseTargetUrl(url, {password: options.password, env})
  const material = target.tls ? readTlsMaterial(env, options.tlsCa) : {}
  return {target: {...target, ...material}, displayUrl: redactUrl(url)}
}

interface Named {
  path: string
  /** The variable that named it, for messages. */
  from: string
}

export const TLS_ENV = {ca: 'FLIP_TLS_CA', cert: 'FLIP_TLS_CERT', key: 'FLIP_TLS_KEY'} as const

const FILES = [
  {part: 'ca', what: 'CA file'},
  {part: 'cert', what: 'client certificate'},
  {part: 'key', what: 'client key'},
] as const

function readTlsMaterial(env: NodeJS.ProcessEnv, tlsCa: string | Buffer | undefined): TlsMaterial {
  const named: Partial<Record<'ca' | 'cert' | 'key', Named>> = {}
  for (const {part} of FILES) {
    const path = env[TLS_ENV[part]]
    if (path) named[part] = {path, from: TLS_ENV[part]}
  }
  if (named.cert && !named.key) throw new UsageError(`a client certificate is set (${named.cert.from}) but no key: set FLIP_TLS_KEY too`)
  if (named.key && !named.cert) throw new UsageError(`a client key is set (${named.key.from}) but no certificate: set FLIP_TLS_CERT too`)
  const read = (part: 'ca' | 'cert' | 'key') => {
    const file = named[part]
    if (file === undefined) return undefined
    const what = FILES.find((f) => f.part === part)!.what
    try {
      return readFileSync(file.path)
    } catch (error) {
      throw new UsageError(`cannot read the ${what} ${file.path} (${file.from}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  }
  const material: TlsMaterial = {tlsCa: tlsCa ?? read('ca'), tlsCert: read('cert'), tlsKey: read('key')}
  checkMaterial(material, named)
  return material
}

/**
 * Builds a TLS context once to find unusable files before connecting: not PEM, a key that is
 * not the certificate's, an encrypted key. OpenSSL's message is left out (it may quote the
 * input); the file and the likely reason are named instead.
 */
function checkMaterial(material: TlsMaterial, named: Partial<Record<'ca' | 'cert' | 'key', Named>>): void {
  const describe = (part: 'ca' | 'cert' | 'key') => (named[part] ? `${named[part]!.path} (${named[part]!.from})` : 'the CA given')
  if (material.tlsCa !== undefined) {
    try {
      createSecureContext({ca: material.tlsCa})
    } catch {
      throw new UsageError(`the CA file ${describe('ca')} holds no usable PEM certificate`)
    }
  }
  if (material.tlsCert === undefined) return
  try {
    createSecureContext({cert: material.tlsCert})
  } catch {
    throw new UsageError(`the client certificate ${describe('cert')} is not a PEM certificate`)
  }
  try {
    createSecureContext({cert: material.tlsCert, key: material.tlsKey})
  } catch (error) {
    const mismatch = /key values mismatch/i.test((error as Error).message)
    throw new UsageError(
      mismatch
        ? `the client key ${describe('key')} does not belong to the certificate ${describe('cert')}`
        : `the client key ${describe('key')} is not an unencrypted PEM private key`,
    )
  }
}
