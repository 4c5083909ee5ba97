// Base of the `flip db` commands: the registry lives in the metadata db (--meta-db, FLIP_META_DB,
// metaDb in flip.config.json; default the highest db no role uses), on the usual target.
import {Flags} from '@oclif/core'
import {DbSession} from '../registry/db-service.js'
import {parseDuration} from '../schedule/index.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {DataCommand, metaDbFlag} from './data-command.js'

export const ttlFlag = Flags.string({summary: 'How long the lease lasts unless renewed: 90s, 30m, 2h, 1d.', default: '30m'})

export const tokenFlag = Flags.string({summary: 'The lease token printed by `flip db lease` (default: env FLIP_LEASE_TOKEN).', env: 'FLIP_LEASE_TOKEN'})

export abstract class DbCommand extends DataCommand {
  static baseFlags = {...DataCommand.baseFlags, 'meta-db': metaDbFlag}

  /** Opens the registry on the resolved target; the caller closes it. */
  protected async openRegistry(flags: {url?: string; 'state-dir'?: string; 'meta-db'?: number | string}): Promise<DbSession> {
    const config = await this.settings({'state-dir': flags['state-dir'], url: flags.url, metaDb: flags['meta-db']})
    return DbSession.open(this.target(flags.url, config), {metaDb: config.metaDb, roles: {live: config.live, shadow: config.shadow, archive: config.archive, lockDb: config.lockDb}})
  }

  /** The URL the command talked to (for --env): the flag, FLIP_URL, VALKEY_URL, config, or the engine's. */
  protected targetUrl(flags: {url?: string; 'state-dir'?: string}): Promise<string> {
    return this.settings({'state-dir': flags['state-dir']}).then((config) => this.target(flags.url, config).url!)
  }
}

export function ttlOf(text: string): number {
  const ms = parseDuration(text, '--ttl')
  if (ms < 1000) throw new FlipError(`--ttl ${text}: a lease lasts at least 1s`, EXIT.usage)
  return ms
}

/** "12m 30s left" / "expired". */
export function timeLeft(expiresAt: string, now = Date.now()): string {
  const ms = Date.parse(expiresAt) - now
  if (ms <= 0) return 'expired'
  const s = Math.ceil(ms / 1000)
  if (s < 120) return `${s}s left`
  const m = Math.floor(s / 60)
  if (m < 120) return `${m}m ${s % 60}s left`
  return `${Math.floor(m / 60)}h ${m % 60}m left`
}
