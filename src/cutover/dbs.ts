// The role dbs: live, shadow, archive. The one place their defaults live (the CLI's config
// defaults and the core's both read DEFAULT_DBS).
import {CutoverUsageError} from './errors.js'
import type {Dbs} from './state.js'

export const DEFAULT_DBS: Readonly<Dbs> = {live: 0, shadow: 1, archive: 2}

export function resolveDbs(dbs: Partial<Dbs> = {}): Dbs {
  const resolved = {...DEFAULT_DBS, ...Object.fromEntries(Object.entries(dbs).filter(([, v]) => v !== undefined))} as Dbs
  for (const [role, db] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(db) || db < 0) throw new CutoverUsageError(`invalid ${role} db ${db}: expected an integer >= 0`)
  }
  if (new Set([resolved.live, resolved.shadow, resolved.archive]).size !== 3) {
    throw new CutoverUsageError(`live, shadow and archive must be three different dbs (got ${resolved.live}, ${resolved.shadow}, ${resolved.archive})`)
  }
  return resolved
}
