// After a primary's switch: wait until its replicas have applied it, so readers of replicas see
// the new data too (or the cutover says they may not). WAIT counts replicas that acknowledged
// the replication offset of the calling connection's last write, so it is sent on the very
// connection that wrote the switch; a connection that wrote nothing would return at once.
// Only replicas that are online are waited for (pre-flight refuses a shard with one down,
// unless --allow-degraded; resume and rollback go on with those that are left).
import type {NodeConnection} from '../plane/connection.js'
import {RespError} from '../plane/errors.js'
import {onlineReplicas, type PrimaryInfo} from '../plane/topology.js'
import {formatAddress} from '../plane/url.js'
import {parseDuration} from '../schedule/parse.js'
import {CutoverUsageError} from './errors.js'

export const DEFAULT_REPLICA_TIMEOUT_MS = 5000

/** --replica-timeout / replicaTimeout / FLIP_REPLICA_TIMEOUT: "5s", "500ms", or a number of seconds; `where` names the source. */
export function replicaTimeoutMs(value: string | number | undefined, where = '--replica-timeout'): number {
  if (value === undefined) return DEFAULT_REPLICA_TIMEOUT_MS
  if (typeof value !== 'string' && typeof value !== 'number') throw new CutoverUsageError(`${where}: expected a duration such as 5s or 500ms`)
  const ms = parseDuration(String(value), where)
  if (ms <= 0) throw new CutoverUsageError(`${where}: must be more than 0 (got ${value})`)
  return ms
}

/** What one primary's replicas did after its switch. */
export interface ReplicaAck {
  /** The primary, host:port. */
  primary: string
  /** Its replicas online when the switch ended (the ones waited for). */
  replicas: number
  /** How many acknowledged the switch within the timeout. */
  acked: number
  /** From the primary's last switch reply to WAIT's answer (the timeout when some did not ack). */
  lagMs: number
}

/**
 * WAIT on `connection` (the one that wrote) for `primary`'s online replicas. `switchedAt` is
 * performance.now() when the primary's last switch reply arrived. Undefined without replicas.
 */
export async function waitForReplicas(connection: NodeConnection, primary: PrimaryInfo, switchedAt: number, timeoutMs = DEFAULT_REPLICA_TIMEOUT_MS): Promise<ReplicaAck | undefined> {
  const replicas = onlineReplicas(primary).length
  if (replicas === 0) return undefined
  const reply = await connection.call(['WAIT', replicas, Math.max(1, Math.round(timeoutMs))])
  const lagMs = Math.round((performance.now() - switchedAt) * 100) / 100
  // A server without WAIT (or refusing it) confirms nothing: counted as no acknowledgement.
  const acked = reply instanceof RespError ? 0 : Number(reply)
  return {primary: formatAddress(primary), replicas, acked: Number.isFinite(acked) ? Math.min(acked, replicas) : 0, lagMs}
}

/** Acks of one primary over several rounds (the batched switch may visit it again): the worst counts. */
export function mergeAcks(into: Map<string, ReplicaAck>, ack: ReplicaAck | undefined): void {
  if (!ack) return
  const seen = into.get(ack.primary)
  if (!seen) into.set(ack.primary, ack)
  else into.set(ack.primary, {primary: ack.primary, replicas: Math.max(seen.replicas, ack.replicas), acked: Math.min(seen.acked, ack.acked), lagMs: Math.max(seen.lagMs, ack.lagMs)})
}

/** One problem line per primary whose replicas did not all acknowledge in time. */
export function replicaProblems(acks: readonly ReplicaAck[], timeoutMs = DEFAULT_REPLICA_TIMEOUT_MS): string[] {
  return acks
    .filter((ack) => ack.acked < ack.replicas)
    .map((ack) => `${ack.replicas - ack.acked} of ${ack.replicas} replicas of primary ${ack.primary} did not apply the switch within ${timeoutMs} ms (--replica-timeout): readers of them may still see the old data`)
}

export function sortedAcks(acks: Map<string, ReplicaAck>): ReplicaAck[] {
  return [...acks.values()].sort((a, b) => a.primary.localeCompare(b.primary))
}
