// Database names in flags, env and flip.config.json: the one place they become numbers. Numbers
// pass through without a connection; a name is looked up in the registry (`flip db name`) on the
// target, and an unknown one is a usage error listing the names that exist.
import type {ServerTarget} from '../plane/index.js'
import {dbNumberOf} from '../registry/db-names.js'
import {DbSession, knownNames} from '../registry/db-service.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {DB_KEYS, DEFAULTS, type DbKey, type FlipConfig, type RawConfig} from './config.js'

const FLAG_OF: Record<DbKey, string> = {live: '--live', shadow: '--shadow', archive: '--archive', lockDb: '--lock-db', metaDb: '--meta-db', db: '--db'}

export async function resolveDbRefs(raw: RawConfig, target: () => ServerTarget): Promise<FlipConfig> {
  const numbers: Partial<Record<DbKey, number>> = {}
  const names: Array<[DbKey, string]> = []
  for (const key of DB_KEYS) {
    const ref = raw[key]
    if (ref === undefined) continue
    const n = dbNumberOf(ref, FLAG_OF[key])
    if (n === undefined) names.push([key, String(ref)])
    else numbers[key] = n
  }
  if (names.length > 0) {
    if (names.some(([key]) => key === 'metaDb')) throw new FlipError(`${FLAG_OF.metaDb}: give the metadata db as a number (the names live in it)`, EXIT.usage)
    // The default metadata db skips the role dbs given as numbers (a named db is never the default one).
    const session = await DbSession.open(target(), {
      metaDb: numbers.metaDb,
      roles: {live: numbers.live ?? DEFAULTS.live, shadow: numbers.shadow ?? DEFAULTS.shadow, archive: numbers.archive ?? DEFAULTS.archive},
    })
    try {
      for (const [key, name] of names) {
        const db = await session.registry.lookup(name)
        if (db === undefined) throw new FlipError(`${FLAG_OF[key]} ${name}: no db is named "${name}" in the metadata db ${session.registry.db}${await knownNames(session)}`, EXIT.usage)
        numbers[key] = db
      }
    } finally {
      await session.close()
    }
  }
  return {...raw, ...numbers} as FlipConfig
}
