// Where flip connects: `--url`, else env FLIP_URL, else VALKEY_URL.
//
//   valkey://[user[:password]@]host[:port][,host[:port]…]     plain TCP
//   valkeys://…                                             TLS
//   redis://… and rediss://…                                same, other spelling
//
// Several host:port seeds are for a cluster (any reachable one is enough to discover the rest).
// Default port 6379; an omitted host means 127.0.0.1 (`localhost` is kept as given). User and
// password are percent-decoded. The password may also come from FLIP_PASSWORD (a password in the
// URL wins). The URL names no database: flip picks dbs by role (--live, --shadow).
// The CLI decides which URL once per command (src/cli/target.ts, which also knows flip.config.json
// and the bundled engine) and hands a ServerTarget down to the ops, the cutover and the plane.
// Every error message shows the URL redacted (redactUrl), never the password.
import {UsageError} from './errors.js'

export interface Seed {
  host: string
  port: number
}

/** Which server to talk to and how to log in: resolved once per command, passed down unchanged. */
export interface ServerTarget {
  /** Default env FLIP_URL, then VALKEY_URL. */
  url?: string
  /** Used when the URL has none; default env FLIP_PASSWORD. */
  password?: string
  /** Environment to read the defaults from (default process.env). */
  env?: NodeJS.ProcessEnv
}

/** Paths of the TLS files: the private CA, and the client certificate and key for mutual TLS. */
export interface TlsFiles {
  ca?: string
  cert?: string
  key?: string
}

/** A target URL taken apart. */
export interface ParsedUrl {
  tls: boolean
  username?: string
  password?: string
  seeds: Seed[]
}

const DEFAULT_PORT = 6379
const DEFAULT_HOST = '127.0.0.1'

const SCHEMES: Record<string, boolean> = {'valkey:': false, 'redis:': false, 'valkeys:': true, 'rediss:': true}

/** The URL from the flag, else FLIP_URL, else VALKEY_URL; undefined when none is set. */
export function resolveTargetUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const candidate of [flag, env.FLIP_URL, env.VALKEY_URL]) {
    if (candidate !== undefined && candidate.trim() !== '') return candidate.trim()
  }
  return undefined
}

/** The password from env FLIP_PASSWORD: the one place it is read. */
export function passwordFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.FLIP_PASSWORD || undefined
}

/**
 * Parses a target URL. `password` (e.g. from a flag) is used when the URL has none, then
 * env FLIP_PASSWORD. Throws UsageError with a one-line reason.
 */
export function parseTargetUrl(url: string, options: {password?: string; env?: NodeJS.ProcessEnv} = {}): ParsedUrl {
  const env = options.env ?? process.env
  const shown = redactUrl(url)
  const bad = (reason: string) => new UsageError(`invalid URL ${shown}: ${reason}`)

  const schemeEnd = url.indexOf('://')
  if (schemeEnd < 0) throw bad('expected valkey://host:port (or valkeys://, redis://, rediss://)')
  const scheme = url.slice(0, schemeEnd + 1).toLowerCase()
  if (!(scheme in SCHEMES)) {
    throw bad(`unsupported scheme "${scheme.slice(0, -1)}" (use valkey://, valkeys://, redis:// or rediss://)`)
  }
  const tls = SCHEMES[scheme]

  let rest = url.slice(schemeEnd + 3)
  if (/[?#]/.test(rest)) throw bad('query strings and fragments are not supported')

  // Credentials end at the LAST '@' so a password may contain '@' (though it should be %40).
  let username: string | undefined
  let password: string | undefined
  const at = rest.lastIndexOf('@')
  if (at >= 0) {
    const userinfo = rest.slice(0, at)
    rest = rest.slice(at + 1)
    const colon = userinfo.indexOf(':')
    const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon)
    const rawPassword = colon < 0 ? undefined : userinfo.slice(colon + 1)
    username = rawUser === '' ? undefined : decode(rawUser, 'user name', bad)
    password = rawPassword === undefined || rawPassword === '' ? undefined : decode(rawPassword, 'password', bad)
  }

  const slash = rest.indexOf('/')
  if (slash >= 0) {
    const path = rest.slice(slash)
    rest = rest.slice(0, slash)
    if (path !== '/') throw bad(`the URL must not name a database ("${path}"): choose dbs with --live and --shadow`)
  }

  const seeds = rest.split(',').map((part) => parseSeed(part.trim(), bad))
  if (password === undefined) password = options.password || passwordFromEnv(env)
  return {tls, username, password, seeds}
}

function parseSeed(part: string, bad: (reason: string) => UsageError): Seed {
  let host: string
  let portText: string | undefined
  if (part === '') throw bad('empty host:port entry (expected host:port[,host:port…])')
  if (part.startsWith('[')) {
    // [IPv6]:port
    const close = part.indexOf(']')
    if (close < 0) throw bad(`unclosed "[" in host "${part}"`)
    host = part.slice(1, close)
    const after = part.slice(close + 1)
    if (after !== '' && !after.startsWith(':')) throw bad(`unexpected "${after}" after host [${host}]`)
    portText = after === '' ? undefined : after.slice(1)
  } else {
    const colon = part.lastIndexOf(':')
    if (colon >= 0 && part.indexOf(':') !== colon) throw bad(`write IPv6 hosts in brackets, e.g. [::1]:6379 (got "${part}")`)
    host = colon < 0 ? part : part.slice(0, colon)
    portText = colon < 0 ? undefined : part.slice(colon + 1)
  }
  if (host === '') host = DEFAULT_HOST
  else if (!/^[A-Za-z0-9._:%-]+$/.test(host)) throw bad(`invalid host "${host}"`)
  let port = DEFAULT_PORT
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw bad(`invalid port "${portText}" (expected 1-65535)`)
    }
    port = Number(portText)
  }
  return {host, port}
}

function decode(text: string, what: string, bad: (reason: string) => UsageError): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw bad(`malformed percent-encoding in the ${what}`)
  }
}

/**
 * The URL with its password replaced by "***", printable in logs, errors and manifests.
 * Works on malformed URLs too (best effort: anything between "//…:" and the last "@" is hidden).
 */
export function redactUrl(url: string): string {
  const schemeEnd = url.indexOf('://')
  const start = schemeEnd < 0 ? 0 : schemeEnd + 3
  const at = url.lastIndexOf('@')
  if (at < start) return url
  const userinfo = url.slice(start, at)
  const colon = userinfo.indexOf(':')
  if (colon < 0) return url
  return `${url.slice(0, start)}${userinfo.slice(0, colon)}:***${url.slice(at)}`
}

/** A canonical, secret-free URL for a parsed target, e.g. "valkeys://app@10.0.0.1:6379,10.0.0.2:6379". */
export function formatTarget(target: ParsedUrl): string {
  const scheme = target.tls ? 'valkeys' : 'valkey'
  const user = target.username ? `${encodeURIComponent(target.username)}${target.password ? ':***' : ''}@` : target.password ? ':***@' : ''
  return `${scheme}://${user}${target.seeds.map(formatAddress).join(',')}`
}

/** host:port, with brackets around IPv6 hosts. */
export function formatAddress(seed: Seed): string {
  return seed.host.includes(':') ? `[${seed.host}]:${seed.port}` : `${seed.host}:${seed.port}`
}
