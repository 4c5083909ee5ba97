// The replicas of a target, for work that every node must do itself: ACL users are per node and
// not replicated, so a user made on the primaries alone cannot log in on a replica (the one a
// read-from-replica client, or a failover, sends it to). The data plane knows primaries only;
// this asks the servers. Cluster: CLUSTER SHARDS (every shard's replicas, with their endpoint),
// else INFO replication on each primary; standalone: INFO replication.
import type {Plane} from '../plane/index.js'
import {RespError, formatAddress} from '../plane/index.js'
import type {Reply} from '../plane/resp.js'

export interface ReplicaNode {
  host: string
  port: number
  /** host:port of its primary, for messages. */
  primary: string
}

/** The replicas the primaries know of; never throws (a node that will not say is skipped). */
export async function replicasOf(plane: Plane): Promise<ReplicaNode[]> {
  if (plane.mode === 'cluster') {
    const shards = await plane.pipeline(plane.primaries[0], [['CLUSTER', 'SHARDS']]).then(([reply]) => reply, () => undefined)
    if (shards !== undefined && !(shards instanceof RespError) && Array.isArray(shards)) return fromShards(plane, shards)
  }
  const lists = await Promise.all(
    plane.primaries.map(async (primary) => {
      const [info] = await plane.pipeline(primary, [['INFO', 'replication']]).catch(() => [undefined])
      return info === undefined || info instanceof RespError ? [] : fromInfo(text(info), primary.host, formatAddress(primary))
    }),
  )
  return dedupe(lists.flat())
}

/** CLUSTER SHARDS (RESP2): [["slots", […], "nodes", [[k, v, …], …]], …]: the nodes whose role is replica. */
function fromShards(plane: Plane, shards: Reply[]): ReplicaNode[] {
  const tls = plane.connectionOptions(plane.primaries[0]).tls === true
  const seedHost = plane.primaries[0].host
  const replicas: ReplicaNode[] = []
  for (const shard of shards) {
    const nodes = ((record(shard).nodes as Reply[] | undefined) ?? []).map(record)
    const primary = nodes.find((node) => text(node.role) === 'master')
    const primaryAddress = primary ? formatAddress({host: hostOf(primary, seedHost), port: portOf(primary, tls)}) : 'unknown primary'
    for (const node of nodes) {
      if (text(node.role) !== 'replica') continue
      replicas.push({host: hostOf(node, seedHost), port: portOf(node, tls), primary: primaryAddress})
    }
  }
  return dedupe(replicas)
}

/** INFO replication of a primary: `slave0:ip=10.0.0.6,port=6380,state=online,…`. */
function fromInfo(info: string, primaryHost: string, primary: string): ReplicaNode[] {
  const replicas: ReplicaNode[] = []
  for (const match of info.matchAll(/^slave\d+:(.*)$/gm)) {
    const fields = Object.fromEntries(match[1].trim().split(',').map((pair) => pair.split('=') as [string, string]))
    const port = Number(fields.port)
    if (!Number.isInteger(port) || port <= 0) continue
    // A replica on the primary's own machine may report itself as 127.0.0.1 or ::1: the address we reached the primary on works too.
    const host = fields.ip && fields.ip !== '?' ? fields.ip : primaryHost
    replicas.push({host, port, primary})
  }
  return replicas
}

function hostOf(node: Record<string, Reply>, seedHost: string): string {
  for (const candidate of [text(node.endpoint), text(node.ip)]) if (candidate !== '' && candidate !== '?') return candidate
  return seedHost
}

function portOf(node: Record<string, Reply>, tls: boolean): number {
  return Number(tls && node['tls-port'] !== undefined ? node['tls-port'] : (node.port ?? node['tls-port']))
}

function dedupe(replicas: ReplicaNode[]): ReplicaNode[] {
  const seen = new Map<string, ReplicaNode>()
  for (const replica of replicas) seen.set(formatAddress(replica), replica)
  return [...seen.values()]
}

function record(reply: Reply): Record<string, Reply> {
  const fields: Record<string, Reply> = {}
  if (!Array.isArray(reply)) return fields
  for (let i = 0; i + 1 < reply.length; i += 2) fields[text(reply[i])] = reply[i + 1]
  return fields
}

function text(reply: Reply | undefined): string {
  if (reply === undefined || reply === null) return ''
  if (Buffer.isBuffer(reply)) return reply.toString('utf8')
  return String(reply)
}
