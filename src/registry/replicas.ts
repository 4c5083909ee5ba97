// The replicas of a target, for work that every node must do itself: ACL users are per node and
// not replicated, so a user made on the primaries alone cannot log in on a replica (the one a
// read-from-replica client, or a failover, sends it to). The plane's topology lists each
// primary's replicas (src/plane/topology.ts, the one place that reads CLUSTER SHARDS and INFO
// replication); a failed node is kept, so the user is warned that it was not reached.
import type {Plane} from '../plane/index.js'
import {formatAddress} from '../plane/index.js'

export interface ReplicaNode {
  host: string
  port: number
  /** host:port of its primary, for messages. */
  primary: string
}

/** The replicas the primaries know of, each once. */
export function replicasOf(plane: Plane): ReplicaNode[] {
  const seen = new Map<string, ReplicaNode>()
  for (const primary of plane.primaries) {
    for (const replica of primary.replicas) seen.set(formatAddress(replica), {host: replica.host, port: replica.port, primary: formatAddress(primary)})
  }
  return [...seen.values()]
}
