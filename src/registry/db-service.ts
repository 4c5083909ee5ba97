// The `flip db` operations: lease, renew, release, gc, name, unname, users. Each opens the
// registry in the metadata db, changes it by one script, and does the per-node work around it
// (FLUSHDB on every primary, ACL users on every primary and reachable replica). Prints nothing.
//
// Who holds a lease: whoever has its token. `lease` makes a random token, prints it (and
// FLIP_LEASE_TOKEN under --env) and stores only its sha256. Labels are not proof: they are shown
// to everyone by `flip db leases`, and two jobs may well use the same one. --force overrides.
import {randomBytes} from 'node:crypto'
import {hostname} from 'node:os'
import {chooseLockDb} from '../cutover/lock.js'
import {connectPlane, type Plane, type ServerTarget} from '../plane/index.js'
import {RespError} from '../plane/index.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {DbRegistry, hashToken, type Lease, type LeaseRecord, type Reaped} from './db-registry.js'
import {checkInRange, checkName} from './db-names.js'
import {checkMetaDb, chooseMetaDb} from './meta-db.js'
import {checkDbAcl, createDbUser, deleteDbUser, newPassword} from './db-users.js'

export interface RoleDbs {
  live: number
  shadow: number
  archive: number
  lockDb?: number
}

/** A release that dies between its two steps leaves the lease to be reaped after this long. */
const RELEASE_GRACE_MS = 60_000

/**
 * The metadata db of `flip db` (chooseMetaDb's rule, shared with every other command), which
 * must exist: the registry has nowhere else to live.
 */
export async function metaDbOf(plane: Plane, metaDb: number | undefined, roles: RoleDbs): Promise<number> {
  checkMetaDb(metaDb, roles)
  const db = await chooseMetaDb(plane, metaDb, [roles.live, roles.shadow, roles.archive])
  if (db === undefined) throw new FlipError('the server does not say how many dbs it has (CONFIG refused): pass --meta-db to choose the metadata db', EXIT.usage)
  return db
}

/** An open registry and what the operations need around it. Close it. */
export class DbSession {
  private constructor(
    readonly plane: Plane,
    readonly registry: DbRegistry,
    /** undefined when CONFIG is refused. */
    readonly databases: number | undefined,
    /** Dbs never leased: live, shadow, archive, the lock db and the metadata db. */
    readonly roleDbs: number[],
    /** Where the cutover lock goes (undefined when CONFIG is refused and no --lock-db). */
    readonly lockDb: number | undefined,
  ) {}

  /** The metadata db the registry lives in. */
  get metaDb(): number {
    return this.registry.db
  }

  static async open(target: ServerTarget, options: {metaDb?: number; roles: RoleDbs}): Promise<DbSession> {
    const probe = await connectPlane({...target, db: 0})
    let plane: Plane | undefined
    try {
      const databases = await probe.databases()
      const metaDb = await metaDbOf(probe, options.metaDb, options.roles)
      checkInRange(metaDb, databases, '--meta-db')
      const lockDb = await chooseLockDb(probe, [options.roles.live, options.roles.shadow, options.roles.archive], options.roles.lockDb)
      plane = metaDb === 0 ? probe : await connectPlane({...target, db: metaDb})
      const roleDbs = [...new Set([options.roles.live, options.roles.shadow, options.roles.archive, metaDb, ...(lockDb === undefined ? [] : [lockDb])])]
      return new DbSession(plane, new DbRegistry(plane), databases, roleDbs, lockDb)
    } finally {
      if (plane !== probe) await probe.close()
    }
  }

  async close(): Promise<void> {
    await this.plane.close()
  }

  checkDb(db: number, what = 'db'): void {
    checkInRange(db, this.databases, what)
  }
}

export interface LeaseResult {
  db: number
  expiresAt: string
  label?: string
  /** The holder's proof for renew and release (give it back as FLIP_LEASE_TOKEN or --token). */
  token: string
  user?: {name: string; password: string}
  /** Expired leases this call released first. */
  reaped: number[]
  /** Replicas that did not get (or lose) a user: ACL is per node. For stderr and --json. */
  warnings: string[]
}

export async function leaseDb(session: DbSession, options: {ttlMs: number; label?: string; from?: number; to?: number; user?: boolean}): Promise<LeaseResult> {
  const last = session.databases === undefined ? undefined : session.databases - 1
  const from = options.from ?? 0
  const to = options.to ?? last
  if (to === undefined) throw new FlipError('the server does not say how many dbs it has (CONFIG refused): pass --to', EXIT.usage)
  session.checkDb(from, '--from')
  session.checkDb(to, '--to')
  if (from > to) throw new FlipError(`--from ${from} is above --to ${to}`, EXIT.usage)
  if (options.user) await checkDbAcl(session.plane)

  const token = randomBytes(24).toString('hex')
  const record: LeaseRecord = {holder: `${hostname()}:${process.pid}`, createdAt: new Date().toISOString(), ...(options.label === undefined ? {} : {label: options.label})}
  // The user name is fixed before the db is known: it goes into the record in the same script.
  const userName = options.user ? `flip-lease-${randomBytes(6).toString('hex')}` : undefined
  if (userName) record.user = userName
  const outcome = await session.registry.lease({from, to, ttlMs: options.ttlMs, record, tokenHash: hashToken(token), roles: session.roleDbs})
  const warnings = await dropUsers(session, outcome.reaped)
  if (!outcome.ok) {
    const earliest = outcome.earliestExpiry === undefined ? '' : `; the earliest expires at ${new Date(outcome.earliestExpiry).toISOString()}`
    throw new FlipError(`no free db in ${from}-${to}: ${outcome.leased} leased${earliest} (role and named dbs are never leased)`, EXIT.checkFailed)
  }
  try {
    // A db whose lease expired may still hold its last holder's keys.
    await flushEveryPrimary(session.plane, outcome.db)
    let user: LeaseResult['user']
    if (userName) {
      const password = newPassword()
      warnings.push(...(await createDbUser(session.plane, userName, password, outcome.db)))
      user = {name: userName, password}
    }
    return {db: outcome.db, expiresAt: new Date(outcome.expiresAt).toISOString(), label: options.label, token, user, reaped: outcome.reaped.map((r) => r.db), warnings}
  } catch (error) {
    await releaseLease(session, {db: outcome.db, token}).catch(() => undefined)
    throw error
  }
}

export async function renewLease(session: DbSession, options: {db: number; token?: string; force?: boolean; ttlMs: number}): Promise<{db: number; expiresAt: string}> {
  const reply = await session.registry.renew(options.db, holderHash(options), options.ttlMs)
  if (!reply.ok) throw notHeld(options.db, reply.why, 'renew')
  return {db: options.db, expiresAt: new Date(reply.expiresAt).toISOString()}
}

/** Flushes the db on every primary, deletes its user, frees it. */
export async function releaseLease(session: DbSession, options: {db: number; token?: string; force?: boolean}): Promise<{db: number; user?: string; warnings: string[]}> {
  const claim = randomBytes(24).toString('hex')
  const claimed = await session.registry.claim(options.db, holderHash(options), hashToken(claim), RELEASE_GRACE_MS)
  if (!claimed.ok) throw notHeld(options.db, claimed.why, 'release')
  await flushEveryPrimary(session.plane, options.db)
  const warnings = claimed.record?.user ? await deleteDbUser(session.plane, claimed.record.user) : []
  await session.registry.free(options.db, hashToken(claim))
  return {db: options.db, user: claimed.record?.user, warnings}
}

/** The db leased under `label`: exactly one live lease must carry it. */
export async function dbOfLabel(session: DbSession, label: string): Promise<number> {
  const matches = (await session.registry.leases()).filter((lease) => lease.label === label && !lease.expired)
  if (matches.length === 0) throw new FlipError(`no lease is labelled "${label}"`, EXIT.checkFailed)
  if (matches.length > 1) throw new FlipError(`${matches.length} leases are labelled "${label}" (dbs ${matches.map((m) => m.db).join(', ')}): give the db instead`, EXIT.usage)
  return matches[0].db
}

export async function listLeases(session: DbSession): Promise<Array<Lease & {expired: boolean}>> {
  return session.registry.leases()
}

/** Releases every expired lease, deletes its user and empties its db; replicas it could not reach go to `warnings`. */
export async function collectGarbage(session: DbSession, warnings: string[] = []): Promise<number[]> {
  const reaped = await session.registry.reap()
  warnings.push(...(await dropUsers(session, reaped)))
  for (const entry of reaped) await flushEveryPrimary(session.plane, entry.db)
  return reaped.map((entry) => entry.db)
}

export async function nameDb(session: DbSession, name: string, db: number): Promise<void> {
  checkName(name)
  if (name.toLowerCase() === 'default') throw new FlipError('"default" is db 0 and cannot be given to another db', EXIT.usage)
  session.checkDb(db)
  const reply = await session.registry.name(name, db)
  if (reply.ok) return
  if (reply.why === 'taken') throw new FlipError(`the name "${name}" is already db ${reply.db}: \`flip db unname ${name}\` first`, EXIT.checkFailed)
  if (reply.why === 'named') throw new FlipError(`db ${db} is already named "${reply.name}": \`flip db unname ${reply.name}\` first`, EXIT.checkFailed)
  throw new FlipError(`db ${db} is leased: release it first (a leased db is a job's scratch space, not a name's)`, EXIT.checkFailed)
}

export async function unnameDb(session: DbSession, name: string): Promise<number> {
  const db = await session.registry.unname(name)
  if (db === undefined) throw new FlipError(`no db is named "${name}"${await knownNames(session)}`, EXIT.usage)
  return db
}

/** A user allowed only `db` (a named db's, typically), with a new password. */
export async function makeDbUser(session: DbSession, db: number, name: string): Promise<{name: string; password: string; db: number; warnings: string[]}> {
  session.checkDb(db)
  await checkDbAcl(session.plane)
  const password = newPassword()
  const warnings = await createDbUser(session.plane, name, password, db)
  return {name, password, db, warnings}
}

export async function knownNames(session: DbSession): Promise<string> {
  const names = await session.registry.names()
  return names.length === 0 ? ' (no names are defined: `flip db name NAME DB`)' : ` (known: ${names.map((n) => `${n.name}=${n.db}`).join(', ')})`
}

function holderHash(options: {token?: string; force?: boolean}): string | undefined {
  if (options.force) return undefined
  // No token and no --force: nothing can match, so the lease is "not yours".
  return hashToken(options.token ?? `none:${randomBytes(8).toString('hex')}`)
}

function notHeld(db: number, why: 'none' | 'notyours', what: string): FlipError {
  if (why === 'none') return new FlipError(`db ${db} is not leased (or its lease expired)`, EXIT.checkFailed)
  return new FlipError(`cannot ${what} db ${db}: the lease is not yours (give its token with FLIP_LEASE_TOKEN or --token, or use --force)`, EXIT.checkFailed)
}

/** Deletes the users of reaped leases; a failure there must not cost the caller its lease. */
async function dropUsers(session: DbSession, reaped: Reaped[]): Promise<string[]> {
  const warnings: string[] = []
  for (const entry of reaped) {
    if (!entry.record?.user) continue
    const user = entry.record.user
    warnings.push(...(await deleteDbUser(session.plane, user).catch((error: unknown) => [`could not delete ACL user ${user} of expired db ${entry.db}: ${error instanceof Error ? error.message : String(error)}`])))
  }
  return warnings
}

/**
 * FLUSHDB of `db` on every primary (ASYNC: the keys are gone at once, freed in the background),
 * on the plane's own connection: SELECT, FLUSHDB and SELECT back in one write, so nothing else
 * sent on that connection runs in between and no connection is opened per lease.
 */
export async function flushEveryPrimary(plane: Plane, db: number): Promise<void> {
  await Promise.all(
    plane.primaries.map(async (node) => {
      const flush = (argv: string[]) => plane.pipeline(node, [['SELECT', db], argv, ['SELECT', plane.db]])
      let [selected, reply, back] = await flush(['FLUSHDB', 'ASYNC'])
      if (reply instanceof RespError && /syntax|wrong number of arguments/i.test(reply.message)) [selected, reply, back] = await flush(['FLUSHDB'])
      const refused = [selected, reply, back].find((r) => r instanceof RespError) as RespError | undefined
      if (refused) throw new FlipError(`${node.host}:${node.port} refused to empty db ${db}: ${refused.message}`, EXIT.checkFailed)
    }),
  )
}
