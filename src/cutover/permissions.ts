// The least-privilege ACL user flip needs (issue 13), and a probe that finds a missing command
// permission before a switch starts.
//
// What flip sends, by purpose (checked with INFO commandstats over the whole nightly flow):
//   connecting     SELECT (each connection is bound to one db), PING, INFO (server kind, cluster
//                  or not), CLUSTER SHARDS / SLOTS / INFO / NODES (topology and health), ASKING
//                  (a slot being migrated), CONFIG GET (how many dbs: default lock and metadata db)
//   stage          SET HSET SADD ZADD RPUSH EXPIRE PEXPIRE, DBSIZE, FLUSHDB (--replace)
//   verify, status SCAN TYPE GET HGETALL SMEMBERS ZRANGE LRANGE PTTL EXISTS DBSIZE
//   cutover, move  MULTI MOVE EXEC per slot; atomic: EVAL (a script that SELECTs, SCANs and
//                  MOVEs) and TIME; swapdb (standalone): SWAPDB; then WAIT for the replicas
//   lock, metadata SET GET PTTL DEL, and EVAL of scripts calling GET SET DEL PEXPIRE HGET HSET
//                  HDEL HEXISTS HLEN ZADD ZCARD ZRANGE ZRANGEBYSCORE ZREM ZSCORE TIME
// Keys: every key of the role dbs (a dataset's keys are whatever it holds, and the atomic script
// moves every key of a db, so a narrower pattern would fail half-way inside it): `~*`, with the
// databases limited by `db=`. No pub/sub channels.
import type {Plane} from '../plane/plane.js'
import {PermissionError, isNoPerm, missingRule} from '../plane/errors.js'
import {keySlot} from '../util/keyslot.js'
import type {Strategy} from './plan.js'
import type {Dbs} from './state.js'

/** The commands of the least-privilege user, as ACL rules (after `-@all`). */
export const LEAST_PRIVILEGE_COMMANDS = [
  // connecting, topology, health
  '+select', '+ping', '+info', '+config|get', '+cluster|shards', '+cluster|slots', '+cluster|info', '+cluster|nodes', '+asking', '+time',
  // reading and writing the datasets
  '+dbsize', '+scan', '+type', '+exists', '+get', '+set', '+del', '+hset', '+hgetall', '+sadd', '+smembers', '+zadd', '+zrange',
  '+rpush', '+lrange', '+expire', '+pexpire', '+pttl', '+flushdb',
  // switching
  '+move', '+multi', '+exec', '+eval', '+swapdb',
  // waiting for each primary's replicas after its switch
  '+wait',
  // called from flip's scripts (lock, metadata db)
  '+hget', '+hdel', '+hexists', '+hlen', '+zcard', '+zrangebyscore', '+zrem', '+zscore',
]

/**
 * The ACL SETUSER arguments for a least-privilege user: `user`, its password, the role dbs and
 * the lock/metadata db. The password is an argument here, never printed by flip.
 */
export function leastPrivilegeUser(user: string, password: string, dbs: number[]): string[] {
  return ['ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, '~*', 'resetchannels', '-@all', ...LEAST_PRIVILEGE_COMMANDS, `db=${[...new Set(dbs)].sort((a, b) => a - b).join(',')}`]
}

/** A probe key: never exists, so MOVE answers 0 when allowed and changes nothing. */
const PROBE_KEY = 'flip:permission-probe'

/**
 * Asks the server, with commands that change nothing, whether this user may run what the
 * strategy needs (both ways: rollback uses the same commands): MOVE and MULTI/EXEC for move
 * (also atomic's fallback), EVAL for atomic, SWAPDB for swapdb. Throws one PermissionError
 * naming every rule missing. The role dbs themselves are checked by every connection's SELECT.
 */
export async function checkSwitchPermissions(live: Plane, dbs: Dbs, strategy: Strategy): Promise<void> {
  const slot = keySlot(PROBE_KEY)
  const probes: Array<{rule: string; argv: Array<string | number>}> = []
  if (strategy === 'swapdb') probes.push({rule: '+swapdb', argv: ['SWAPDB', dbs.live, dbs.live]})
  else {
    probes.push({rule: '+move', argv: ['MOVE', PROBE_KEY, dbs.archive]}, {rule: '+multi', argv: ['MULTI']}, {rule: '+exec', argv: ['EXEC']})
    if (strategy === 'atomic') probes.push({rule: '+eval', argv: ['EVAL', 'return 1', 0]})
  }
  // MULTI and EXEC are sent in that order in one pipeline; an EXEC after a refused MULTI says
  // "EXEC without MULTI", which is no permission problem.
  const replies = await live.execute(probes.map((probe) => ({argv: probe.argv, slot})))
  const missing: string[] = []
  const details: string[] = []
  replies.forEach((reply, i) => {
    if (!isNoPerm(reply)) return
    missing.push(missingRule(reply) ?? probes[i].rule)
    if (details.length === 0) details.push(reply.message)
  })
  if (missing.length > 0) {
    throw new PermissionError(`the ${strategy} strategy needs ${missing.join(' ')}, which this user lacks (${details[0]}): grant them with ACL SETUSER on every primary; nothing was changed`)
  }
}
