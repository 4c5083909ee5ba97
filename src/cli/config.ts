// Settings come from, in order: flags > environment > flip.config.json > defaults.
// flip.config.json never holds a password (flip init writes it, people commit it).
import {existsSync, readFileSync} from 'node:fs'
import {resolve} from 'node:path'
import {DEFAULT_DBS} from '../cutover/dbs.js'
import {GUARDS, parseGuardValue} from '../cutover/guards.js'
import {replicaTimeoutMs} from '../cutover/replicas.js'
import type {TlsFiles} from '../plane/url.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {checkName, DEFAULT_NAME} from '../registry/db-names.js'

/** A database as given in a flag, env variable or config key: a number, or a name from `flip db name`. */
export type DbRef = number | string

/** The settings that name a database; names are resolved after connecting (src/cli/db-refs.ts). */
export const DB_KEYS = ['live', 'shadow', 'archive', 'lockDb', 'metaDb', 'db'] as const
export type DbKey = (typeof DB_KEYS)[number]

export interface FlipConfig {
  url?: string
  stateDir: string
  live: number
  shadow: number
  archive: number
  lockDb?: number
  /** Db of flip's metadata on the server (manifests, plans); default the highest db not in use. */
  metaDb?: number
  /** A command's own --db (verify); never read from the file or env. */
  db?: number
  tz?: string
  cron?: string
  /** Webhooks for cutover and rollback (see src/cli/notify.ts); they may hold tokens. */
  notify?: string | string[]
  /** Cutover guards (src/cutover/guards.ts): "off", a key count, or a percent like "50%"; absent = the default. */
  minKeys?: string | number
  maxRemoved?: string | number
  maxChanged?: string | number
  maxDrop?: string | number
  maxRise?: string | number
  /** Hash fields the numeric guards judge (empty: every numeric field). */
  guardFields?: string[]
  /** Cutover/rollback: how long each primary waits for its replicas after its switch ("5s", "500ms"; a number is seconds). */
  replicaTimeout?: string | number
  /** TLS files (paths) for valkeys:// / rediss://; env FLIP_TLS_CA / FLIP_TLS_CERT / FLIP_TLS_KEY win (read in src/plane/connect.ts). */
  tlsCa?: string
  tlsCert?: string
  tlsKey?: string
}

/** Settings before db names are resolved. */
export type RawConfig = Omit<FlipConfig, DbKey> & {live: DbRef; shadow: DbRef; archive: DbRef; lockDb?: DbRef; metaDb?: DbRef; db?: DbRef}

export const DEFAULTS: FlipConfig = {stateDir: '.flip', ...DEFAULT_DBS}

export const CONFIG_FILE = 'flip.config.json'

const ENV: Partial<Record<keyof FlipConfig, string>> = {
  stateDir: 'FLIP_STATE_DIR',
  live: 'FLIP_LIVE_DB',
  shadow: 'FLIP_SHADOW_DB',
  archive: 'FLIP_ARCHIVE_DB',
  metaDb: 'FLIP_META_DB',
  tz: 'FLIP_TZ',
  replicaTimeout: 'FLIP_REPLICA_TIMEOUT',
  ...Object.fromEntries(GUARDS.map((guard) => [guard.key, guard.env])),
}

const NUMERIC: Array<keyof FlipConfig> = ['live', 'shadow', 'archive', 'lockDb', 'metaDb']

/** Paths only: a key file's contents never go in flip.config.json (people commit it). */
const TLS_KEYS = ['tlsCa', 'tlsCert', 'tlsKey'] as const

/** The TLS files flip.config.json names, for the connection target. */
export function tlsFilesOf(config: Pick<FlipConfig, (typeof TLS_KEYS)[number]>): TlsFiles | undefined {
  const files: TlsFiles = {ca: config.tlsCa, cert: config.tlsCert, key: config.tlsKey}
  return files.ca || files.cert || files.key ? files : undefined
}

export function loadConfigFile(path = resolve(CONFIG_FILE)): Partial<RawConfig> {
  if (!existsSync(path)) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new FlipError(`${path}: not valid JSON (${(error as Error).message})`, EXIT.usage)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FlipError(`${path}: expected a JSON object`, EXIT.usage)
  }
  const config = parsed as Record<string, unknown>
  if (typeof config.url === 'string' && /\/\/[^/@]*:[^/@]*@/.test(config.url)) {
    throw new FlipError(`${path}: "url" must not contain a password; use FLIP_PASSWORD`, EXIT.usage)
  }
  if (config.notify !== undefined && !isStringOrStrings(config.notify)) {
    throw new FlipError(`${path}: "notify" must be a webhook URL or a list of them`, EXIT.usage)
  }
  for (const guard of GUARDS) {
    // Checked where it was read, so a bad value names the file (or, below, the variable): exit 2.
    if (config[guard.key] !== undefined) parseGuardValue(guard.key, config[guard.key], `${path}: "${guard.key}"`)
  }
  if (config.guardFields !== undefined && !(Array.isArray(config.guardFields) && config.guardFields.every((item) => typeof item === 'string'))) {
    throw new FlipError(`${path}: "guardFields" must be a list of hash field names`, EXIT.usage)
  }
  if (config.replicaTimeout !== undefined) replicaTimeoutMs(config.replicaTimeout as string | number, `${path}: "replicaTimeout"`)
  for (const key of TLS_KEYS) {
    if (config[key] !== undefined && (typeof config[key] !== 'string' || config[key] === '')) {
      throw new FlipError(`${path}: "${key}" must be the path of a PEM file`, EXIT.usage)
    }
  }
  for (const key of NUMERIC) {
    if (config[key] !== undefined && !isDbRef(config[key])) {
      throw new FlipError(`${path}: "${key}" must be a database number or name, got ${JSON.stringify(config[key])}`, EXIT.usage)
    }
  }
  return config as Partial<RawConfig>
}

/** Merge: flags (undefined = not given) > env > config file > defaults. */
export function resolveConfig(flags: Partial<RawConfig>, env: NodeJS.ProcessEnv = process.env, file = loadConfigFile()): RawConfig {
  const fromEnv: Partial<RawConfig> = {}
  for (const [key, name] of Object.entries(ENV) as Array<[keyof FlipConfig, string]>) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    if (NUMERIC.includes(key)) {
      const value = /^\d+$/.test(raw.trim()) ? Number(raw) : raw.trim()
      if (!isDbRef(value)) throw new FlipError(`${name}: expected a database number or name, got "${raw}"`, EXIT.usage)
      ;(fromEnv as Record<string, unknown>)[key] = value
    } else {
      const guard = GUARDS.find((g) => g.key === key)
      if (guard) parseGuardValue(guard.key, raw, name)
      ;(fromEnv as Record<string, unknown>)[key] = raw
    }
  }
  const merged: RawConfig = {...DEFAULTS}
  for (const layer of [file, fromEnv, flags]) {
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value
    }
  }
  return merged
}

function isDbRef(value: unknown): value is DbRef {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0
  if (typeof value !== 'string') return false
  if (value.toLowerCase() === DEFAULT_NAME) return true
  try {
    checkName(value)
    return true
  } catch {
    return false
  }
}

function isStringOrStrings(value: unknown): boolean {
  return typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'))
}
