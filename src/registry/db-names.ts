// Database names, following Valkey's alias proposal: ASCII, 1-64 bytes, case-insensitive, not
// purely numeric; "default" is db 0 and cannot be given to another db.
import {EXIT, FlipError} from '../util/exit-codes.js'

export const DEFAULT_NAME = 'default'

/** Throws a usage error saying what is wrong with a name given to `flip db name`. */
export function checkName(name: string): void {
  if (name.length === 0 || name.length > 64) throw new FlipError(`invalid db name "${name}": a name is 1 to 64 characters long (got ${name.length})`, EXIT.usage)
  if (!/^[\x21-\x7e]+$/.test(name)) throw new FlipError(`invalid db name "${name}": only printable ASCII without spaces is allowed`, EXIT.usage)
  if (/^\d+$/.test(name)) throw new FlipError(`invalid db name "${name}": a name must not be purely numeric (it would read as db ${name})`, EXIT.usage)
}

/** A db given as a number: its value; a name: undefined. Negative or fractional numbers are usage errors. */
export function dbNumberOf(ref: string | number, what: string): number | undefined {
  if (typeof ref === 'number') {
    if (!Number.isSafeInteger(ref) || ref < 0) throw new FlipError(`${what}: expected a database number or name, got ${ref}`, EXIT.usage)
    return ref
  }
  const text = ref.trim()
  if (/^\d+$/.test(text)) {
    const n = Number(text)
    if (!Number.isSafeInteger(n)) throw new FlipError(`${what}: db ${text} is out of range`, EXIT.usage)
    return n
  }
  if (/^-\d+$/.test(text)) throw new FlipError(`${what}: expected a database number >= 0 or a name, got ${text}`, EXIT.usage)
  if (text.toLowerCase() === DEFAULT_NAME) return 0
  return undefined
}

/** db must exist on a server that offers `databases` (undefined: unknown, accepted). */
export function checkInRange(db: number, databases: number | undefined, what: string): void {
  if (databases !== undefined && db >= databases) {
    throw new FlipError(`${what}: db ${db} is out of range: the server offers dbs 0-${databases - 1}`, EXIT.usage)
  }
}
