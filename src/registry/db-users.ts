// ACL users confined to one db (Valkey 9.1 database-level ACL). ACL is per node: a user is made
// on every primary. The password is returned to the caller once and never stored anywhere.
//
// Rule set: `~* &* +@all -@admin -@dangerous +flushdb +info +keys db=N`.
// - db=N: SELECT, MOVE, COPY … DB and SWAPDB to any other db answer NOPERM; FLUSHALL needs alldbs.
// - -@admin -@dangerous: no CONFIG, DEBUG, MONITOR, CLIENT KILL, SHUTDOWN, REPLICAOF, ACL, MODULE.
// - +flushdb: a job must be able to empty its own db; db=N keeps that to db N.
// - +info: client libraries (iovalkey/ioredis ready checks) call INFO when they connect.
// - +keys: test suites list their keys; it reads only the selected (allowed) db.
import {randomBytes} from 'node:crypto'
import type {Plane} from '../plane/index.js'
import {RespError} from '../plane/index.js'
import {EXIT, FlipError} from '../util/exit-codes.js'

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

/** Creates (or resets) `user` allowed only db `db`, with `password`, on every primary. */
export async function createDbUser(plane: Plane, user: string, password: string, db: number): Promise<void> {
  for (const node of plane.primaries) {
    const [reply] = await plane.pipeline(node, [['ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, ...USER_RULES, `db=${db}`]])
    // The reply may quote the rules; never the password, which is left out of the message.
    if (reply instanceof RespError) throw new FlipError(`${node.host}:${node.port} refused to create ACL user ${user}: ${reply.message.replaceAll(password, '***')}`, EXIT.checkFailed)
  }
}

/** Deletes `user` on every primary (a node that no longer has it is fine). */
export async function deleteDbUser(plane: Plane, user: string): Promise<void> {
  await Promise.all(plane.primaries.map((node) => plane.pipeline(node, [['ACL', 'DELUSER', user]])))
}
