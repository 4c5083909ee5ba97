// The cutover lock: two cutovers (or a cutover and a rollback) must never run at once.
//
// Where it lives: on the server, because that is what two machines (two CI runners, a cron
// job and an operator's laptop) share. The lock is one key, `flip:cutover:lock`, in a db that
// is none of live/shadow/archive — by default the highest db the server offers (CONFIG GET
// cluster-databases / databases, minus one, skipping the three in use), `lockDb` overrides —
// taken with `SET key owner NX PX ttl`, renewed while the holder works and released with a
// compare-and-delete script, so a holder that dies frees it after the ttl at most (at once for
// a run on the same machine: a holder whose pid is gone there is taken over). In a
// cluster the key lives on the primary serving its slot, like any key.
// When the server refuses CONFIG (managed services often do) and no lockDb is given, the lock
// falls back to a file in the state dir, created exclusively: it then protects only runs that
// share that directory, which the result says (`kind: 'file'`).
import {hostname} from 'node:os'
import {randomBytes} from 'node:crypto'
import {closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {writeFileAtomicSync} from '../util/atomic-file.js'
import {isProcessAlive} from '../util/process.js'
import type {NodeConnection} from '../plane/connection.js'
import type {Plane} from '../plane/plane.js'
import {PermissionError, RespError, isNoPerm} from '../plane/errors.js'
import {CutoverRefusedError, LockLostError} from './errors.js'

export const LOCK_KEY = 'flip:cutover:lock'
export const DEFAULT_LOCK_TTL_MS = 30_000

export interface LockOwner {
  owner: string
  host: string
  pid: number
  purpose: string
  since: string
}

export interface HeldLock {
  kind: 'server' | 'file'
  /** "db 15 on 127.0.0.1:7002" or the file path. */
  where: string
  owner: LockOwner
  /** Extends the ttl; false when the lock was lost (expired and taken by someone else). */
  renew(): Promise<boolean>
  release(): Promise<void>
}

/** A lock as acquireLock returns it: renewed in the background, and watched. */
export interface KeptLock extends HeldLock {
  /**
   * Aborted (reason: a LockLostError naming the lock) when a renewal finds the lock gone,
   * or when renewals have failed for longer than the ttl: from then on another run may hold it,
   * so whoever does work under it must stop before its next change.
   */
  readonly lost: AbortSignal
  /** Renews now; throws the lost error unless the lock is still ours (before a switch starts). */
  ensureHeld(): Promise<void>
}

export interface LockOptions {
  /** Plane of any db of the target (used for topology and CONFIG). */
  plane: Plane
  dbsInUse: number[]
  lockDb?: number
  stateDir: string
  ttlMs?: number
  /** What the holder does, shown to whoever is refused ("cutover 20261127-…"). */
  purpose: string
}

/** The db the lock goes in, or undefined when the server will not say how many dbs it has. */
export async function chooseLockDb(plane: Plane, dbsInUse: number[], lockDb?: number): Promise<number | undefined> {
  if (lockDb !== undefined) return lockDb
  const found = await plane.databaseCount()
  return 'count' in found ? highestFreeDb(found.count, dbsInUse) : undefined
}

/** The highest of `databases` dbs that no role uses: the default lock and metadata db. */
export function highestFreeDb(databases: number, dbsInUse: number[]): number | undefined {
  for (let db = databases - 1; db >= 0; db--) if (!dbsInUse.includes(db)) return db
  return undefined
}

export async function acquireLock(options: LockOptions): Promise<KeptLock> {
  const ttlMs = options.ttlMs ?? DEFAULT_LOCK_TTL_MS
  const owner: LockOwner = {
    owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    host: hostname(),
    pid: process.pid,
    purpose: options.purpose,
    since: new Date().toISOString(),
  }
  const db = await chooseLockDb(options.plane, options.dbsInUse, options.lockDb)
  const held = db === undefined ? acquireFileLock(join(options.stateDir, 'cutover.lock'), owner, ttlMs) : await acquireServerLock(options.plane, db, owner, ttlMs)
  return keptAlive(held, ttlMs)
}

/**
 * Renews the lock every ttl/3 from the moment it is taken until it is released, so a long
 * pre-flight (a full verify of millions of keys) or switch never outlives it. A renewal that
 * answers "not yours" means the lock is lost; one that fails (connection trouble) is tried
 * again, and the lock counts as lost once no renewal has succeeded for a whole ttl, since it
 * may have expired on the server by then.
 */
export function keptAlive(lock: HeldLock, ttlMs: number): KeptLock {
  const lost = new AbortController()
  let lastRenewed = Date.now()
  let renewing = false
  const lose = (why: string) => {
    if (!lost.signal.aborted) lost.abort(new LockLostError(`lost the cutover lock (${lock.where}): ${why}; another run may hold it now`))
  }
  const renewNow = async (): Promise<boolean> => {
    const attempt = Date.now()
    try {
      if (await lock.renew()) {
        lastRenewed = attempt
        return true
      }
      lose('it was no longer ours when renewed (expired, deleted or taken over)')
    } catch (error) {
      if (Date.now() - lastRenewed >= ttlMs) lose(`renewing it failed for ${Math.round((Date.now() - lastRenewed) / 1000)} s (${(error as Error).message})`)
    }
    return false
  }
  const timer = setInterval(() => {
    if (renewing || lost.signal.aborted) return
    renewing = true
    renewNow()
      .finally(() => (renewing = false))
      .catch((error: Error) => lose(`renewing it failed (${error.message})`))
  }, Math.max(1000, Math.floor(ttlMs / 3)))
  timer.unref()
  return {
    ...lock,
    lost: lost.signal,
    renew: renewNow,
    async ensureHeld() {
      if (!lost.signal.aborted && !(await renewNow())) lose('it could not be renewed before the switch')
      if (lost.signal.aborted) throw lost.signal.reason as Error
    },
    async release() {
      clearInterval(timer)
      await lock.release()
    },
  }
}

const RENEW_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end"
const TAKEOVER_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end"
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"

async function acquireServerLock(plane: Plane, db: number, owner: LockOwner, ttlMs: number): Promise<HeldLock> {
  const node = plane.nodeForKey(LOCK_KEY)
  const connection = await plane.dedicated(node, {db})
  const where = `db ${db} on ${node.host}:${node.port}`
  const value = JSON.stringify(owner)
  try {
    const reply = await connection.call(['SET', LOCK_KEY, value, 'NX', 'PX', ttlMs])
    if (reply instanceof RespError) throw new CutoverRefusedError(`cannot take the cutover lock (${where}): ${reply.message}`)
    if (reply === 'OK') await checkCanRenew(connection, where, value, ttlMs)
    if (reply === null) {
      const [held, pttl] = await connection.pipeline([
        ['GET', LOCK_KEY],
        ['PTTL', LOCK_KEY],
      ])
      // A holder on this machine whose process is gone (kill -9, crash) cannot renew or release:
      // take the lock over at once instead of making the operator wait out the ttl.
      const holder = parseOwner(held)
      const orphaned = holder !== undefined && holder.host === owner.host && holder.pid !== process.pid && !isProcessAlive(holder.pid)
      const taken = orphaned && (await connection.call(['EVAL', TAKEOVER_SCRIPT, 1, LOCK_KEY, String(held), value, ttlMs])) === 1
      if (!taken) throw new CutoverRefusedError(`another cutover holds the lock (${where}): ${describeHolder(held, pttl)}`)
    }
  } catch (error) {
    await connection.close()
    throw error
  }
  return {
    kind: 'server',
    where,
    owner,
    async renew() {
      // A failed call throws (keptAlive decides); an error reply is an answer: not renewed.
      const reply = await connection.call(['EVAL', RENEW_SCRIPT, 1, LOCK_KEY, value, ttlMs])
      if (isNoPerm(reply)) throw new PermissionError(`cannot renew the cutover lock (${where}): ${reply.message}`)
      return reply === 1
    },
    async release() {
      await connection.call(['EVAL', RELEASE_SCRIPT, 1, LOCK_KEY, value]).catch(() => undefined)
      await connection.close()
    },
  }
}

/**
 * Renewing and releasing the lock are scripts (check-and-set on the owner): a user without
 * EVAL could take the lock but would lose it at its first renewal, in the middle of a switch.
 * Found out now, with nothing changed: the key just set is deleted and the run stops.
 */
async function checkCanRenew(connection: NodeConnection, where: string, value: string, ttlMs: number): Promise<void> {
  const reply = await connection.call(['EVAL', RENEW_SCRIPT, 1, LOCK_KEY, value, ttlMs])
  if (!isNoPerm(reply)) return
  await connection.call(['DEL', LOCK_KEY]).catch(() => undefined)
  throw new PermissionError(`cannot keep the cutover lock (${where}): renewing it runs a script and ${reply.message.replace(/^NOPERM /, '')} (NOPERM); grant +eval`)
}

function parseOwner(held: unknown): LockOwner | undefined {
  try {
    const holder = JSON.parse(String(held)) as LockOwner
    return typeof holder?.pid === 'number' && typeof holder.host === 'string' ? holder : undefined
  } catch {
    return undefined
  }
}

function describeHolder(held: unknown, pttl: unknown): string {
  const expires = typeof pttl === 'number' && pttl >= 0 ? `, expires in ${Math.ceil(pttl / 1000)} s unless renewed` : ''
  const holder = parseOwner(held)
  return holder ? `${holder.purpose} by pid ${holder.pid} on ${holder.host} since ${holder.since}${expires}` : `held${expires}`
}

interface FileLockContent extends LockOwner {
  expiresAt: number
}

function acquireFileLock(path: string, owner: LockOwner, ttlMs: number): HeldLock {
  const content = (): FileLockContent => ({...owner, expiresAt: Date.now() + ttlMs})
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      try {
        writeSync(fd, JSON.stringify(content()))
      } finally {
        closeSync(fd)
      }
      return {
        kind: 'file',
        where: path,
        owner,
        async renew() {
          if (readFileLock(path)?.owner !== owner.owner) return false
          writeFileAtomicSync(path, JSON.stringify(content()))
          return true
        },
        async release() {
          if (readFileLock(path)?.owner === owner.owner) rmSync(path, {force: true})
        },
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        mkdirSync(dirname(path), {recursive: true}) // the state dir does not exist yet
        continue
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const held = readFileLock(path)
      if (held && held.expiresAt > Date.now() && !(held.host === owner.host && !isProcessAlive(held.pid))) {
        throw new CutoverRefusedError(
          `another cutover holds the lock (${path}): ${held.purpose} by pid ${held.pid} on ${held.host} since ${held.since}`,
        )
      }
      // Stale (expired, or its process is gone): move it aside; only one contender's rename wins.
      const aside = `${path}.stale-${randomBytes(4).toString('hex')}`
      try {
        renameSync(path, aside)
        rmSync(aside, {force: true})
      } catch {
        // Someone else moved it first; try again.
      }
    }
  }
  throw new CutoverRefusedError(`cannot take the cutover lock ${path}: another process keeps taking it`)
}

function readFileLock(path: string): FileLockContent | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as FileLockContent
  } catch {
    return undefined
  }
}


