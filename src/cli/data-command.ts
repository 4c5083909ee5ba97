// Base of the commands that talk to a server: --url (FLIP_URL, VALKEY_URL), the role dbs,
// flip.config.json, and the bundled engine as the fallback target.
import {Flags} from '@oclif/core'
import type {ServerTarget} from '../plane/index.js'
import {dbNumberOf} from '../registry/db-names.js'
import {BaseCommand} from './base.js'
import {resolveConfig, tlsFilesOf, type DbRef, type FlipConfig, type RawConfig} from './config.js'
import {resolveDbRefs} from './db-refs.js'
import {resolveTarget} from './target.js'
import type {MetaSettings} from '../registry/meta-db.js'

/** A database flag: a number, or a name given with `flip db name` (resolved after connecting). */
export const dbFlag = (summary: string) =>
  Flags.custom<DbRef>({
    summary: `${summary} A number or a name from \`flip db name\`.`,
    async parse(input) {
      const text = input.trim()
      if (/^\d+$/.test(text) || /^-\d+$/.test(text)) return dbNumberOf(text, 'db')!
      return text
    },
  })()

/** --meta-db: where flip keeps manifests and plans on the server (env FLIP_META_DB, config metaDb). */
export const metaDbFlag = dbFlag('Database for flip’s manifests and plans on the server (default: the highest db not in use, like the lock).')

export abstract class DataCommand extends BaseCommand {
  static baseFlags = {
    ...BaseCommand.baseFlags,
    url: Flags.string({
      summary: 'Server URL: valkey://[user[:password]@]host:port[,host:port…] (valkeys:// for TLS; redis:// accepted).',
      description: 'Default: env FLIP_URL, then VALKEY_URL, then flip.config.json, then the bundled engine started with `flip engine start`. A password may also come from env FLIP_PASSWORD.',
      helpGroup: 'GLOBAL',
    }),
  }

  /** Settings merged as flags > env > flip.config.json > defaults, db names resolved to numbers. */
  protected async settings(flags: Partial<RawConfig> & {'state-dir'?: string; url?: string}): Promise<FlipConfig> {
    const raw = resolveConfig({...flags, stateDir: flags['state-dir']})
    return resolveDbRefs(raw, () => resolveTarget({url: flags.url, configUrl: raw.url, tlsFiles: tlsFilesOf(raw), stateDir: raw.stateDir}))
  }

  /** The metadata db settings for the core: notes and warnings go to stderr through `note`. */
  protected meta(config: FlipConfig, note: (message: string) => void): MetaSettings {
    return {db: config.metaDb, roles: {live: config.live, shadow: config.shadow, archive: config.archive}, onNote: note}
  }

  /** Where to connect, resolved once per command (the password never leaves this object). */
  protected target(url: string | undefined, config: Pick<FlipConfig, 'url' | 'stateDir' | 'tlsCa' | 'tlsCert' | 'tlsKey'>): ServerTarget & {url?: string} {
    return resolveTarget({url, configUrl: config.url, tlsFiles: tlsFilesOf(config), stateDir: config.stateDir})
  }
}
