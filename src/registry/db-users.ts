// ACL users confined to one db (Valkey 9.1 database-level ACL). ACL is per node: a user is made
// on every primary and every replica flip can reach (an unreachable replica is a warning, not a
// failure). The password is returned to the caller once and never stored anywhere.
//
// Rule set: `~* &* +@all -@admin -@dangerous +flushdb +info +keys db=N`.
// - db=N: SELECT, MOVE, COPY … DB and SWAPDB to any other db answer NOPERM; FLUSHALL needs alldbs.
// - -@admin -@dangerous: no CONFIG, DEBUG, MONITOR, CLIENT KILL, SHUTDOWN, REPLICAOF, ACL, MODULE.
// - +flushdb: a job must be able to empty its own db; db=N keeps that to db N.
// - +info: client libraries (iovalkey/ioredis ready checks) call INFO when they connect.
// - +keys: test suites list their keys; it reads only the selected (allowed) db.
import {randomBytes} from 'node:crypto'
import type {Plane} from '../plane/index.js'
import {RespError, formatAddress} from '../plane/index.js'
import type {NodeConnection} from '../plane/connection.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {replicasOf} from './replicas.js'

export const USER_RULES = ['~*', '&*', '+@all', '-@admin', '-@dangerous', '+flushdb', '+info', '+keys']

/** A new random password: 32 random bytes, hex (64 characters, URL-safe). */
export function newPassword(): string {
  return randomBytes(32).toString('hex')
}

/**
 * Refuses (exit 1) when the server has no database ACL: the probe user (off, no password, so
 * nobody can log in as it) with a `db=` selector is refused by Redis and Valkey before 9.1.
 */
export async function checkDbAcl(plane: Plane): Promise<void> {
  const probe = `flip-probe-${randomBytes(4).toString('hex')}`
  const node = plane.primaries[0]
  const [reply] = await plane.pipeline(node, [['ACL', 'SETUSER', probe, 'reset', 'off', 'db=0']])
  await plane.pipeline(node, [['ACL', 'DELUSER', probe]])
  if (reply instanceof RespError) {
    throw new FlipError(
      `--user needs database-level ACL (the "db=" selector of ACL SETUSER, Valkey 9.1 or newer, or the bundled engine); this server refused it: ${reply.message}`,
      EXIT.checkFailed,
    )
  }
}

/**
 * Creates (or resets) `user` allowed only db `db`, with `password`, on every primary (a refusal
 * there fails the call) and on every replica that can be reached (ACL is not replicated: without
 * it the user cannot log in where a read-from-replica client or a failover sends it). A replica
 * that cannot be reached or refuses is a warning, returned.
 */
export async function createDbUser(plane: Plane, user: string, password: string, db: number): Promise<string[]> {
  const setuser = ['ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, ...USER_RULES, `db=${db}`]
  // The reply may quote the rules; never the password, which is left out of the message.
  const hide = (message: string) => message.replaceAll(password, '***')
  for (const node of plane.primaries) {
    const [reply] = await plane.pipeline(node, [setuser])
    if (reply instanceof RespError) throw new FlipError(`${node.host}:${node.port} refused to create ACL user ${user}: ${hide(reply.message)}`, EXIT.checkFailed)
  }
  return onReplicas(plane, setuser, (replica, why) => `replica ${replica} ${why}: ACL user ${user} was not created there, so it cannot log in on that node`, hide)
}

/** Deletes `user` on every primary and every reachable replica (a node that no longer has it is fine); warnings for replicas that could not be reached. */
export async function deleteDbUser(plane: Plane, user: string): Promise<string[]> {
  await Promise.all(plane.primaries.map((node) => plane.pipeline(node, [['ACL', 'DELUSER', user]])))
  return onReplicas(plane, ['ACL', 'DELUSER', user], (replica, why) => `replica ${replica} ${why}: ACL user ${user} may remain there (delete it with ACL DELUSER ${user} on that node)`)
}

/** One ACL command on every replica, in parallel, each on a connection of its own; one warning per replica it did not reach. */
async function onReplicas(plane: Plane, argv: string[], warning: (replica: string, why: string) => string, hide: (message: string) => string = (m) => m): Promise<string[]> {
  const replicas = replicasOf(plane)
  const warnings = await Promise.all(
    replicas.map(async (replica) => {
      const where = `${formatAddress(replica)} (replica of ${replica.primary})`
      let connection: NodeConnection | undefined
      try {
        connection = await plane.dedicated(replica)
        const reply = await connection.call(argv)
        return reply instanceof RespError ? warning(where, `refused: ${hide(reply.message)}`) : undefined
      } catch (error) {
        return warning(where, `is unreachable (${hide(error instanceof Error ? error.message : String(error))})`)
      } finally {
        await connection?.close().catch(() => undefined)
      }
    }),
  )
  return warnings.filter((w): w is string => w !== undefined)
}
