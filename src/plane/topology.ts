// Who serves what: standalone vs cluster (INFO cluster → cluster_enabled:1), and in a cluster
// the primaries with their slot ranges from CLUSTER SHARDS (Redis/Valkey ≥ 7), falling back to
// CLUSTER SLOTS on older servers. Each primary carries its replicas (CLUSTER SHARDS' role, health
// and replication offset; standalone: INFO replication), so a cutover can refuse a degraded
// shard and wait for the replicas after its switch.
import {SLOT_COUNT} from '../util/keyslot.js'
import type {NodeConnection} from './connection.js'
import {ConnectionError, RespError} from './errors.js'
import type {Reply} from './resp.js'
import {formatAddress} from './url.js'

export type PlaneMode = 'cluster' | 'standalone'

export interface PrimaryInfo {
  /** Cluster node id; for a standalone server its host:port. */
  id: string
  host: string
  port: number
  /** Inclusive slot ranges, ascending. */
  slots: Array<[number, number]>
  /** The other nodes of its shard: replicas, and a failed former primary (health "fail"). */
  replicas: ReplicaInfo[]
}

export interface ReplicaInfo {
  /** Cluster node id; for a standalone server's replica its host:port. */
  id: string
  host: string
  port: number
  /** online, loading or fail (CLUSTER SHARDS); standalone: online, or the replica's link state. */
  health: string
  /** Replication offset the replica reported (0: unknown). */
  offset: number
}

/** Replicas that serve and follow their primary: the ones WAIT can count on. */
export function onlineReplicas(primary: PrimaryInfo): ReplicaInfo[] {
  return primary.replicas.filter((replica) => replica.health === 'online')
}

export interface Topology {
  mode: PlaneMode
  primaries: PrimaryInfo[]
}

/** Asks one server what it is and, in a cluster, which primaries own which slots. */
export async function discoverTopology(connection: NodeConnection, tls: boolean): Promise<Topology> {
  const info = await connection.call(['INFO', 'cluster'])
  if (info instanceof RespError) {
    if (info.code === 'NOAUTH') throw new ConnectionError(`${connection.address} requires a password (NOAUTH): put it in the URL or set FLIP_PASSWORD`)
    throw new ConnectionError(`${connection.address} refused INFO: ${info.message}`)
  }
  const text = Buffer.isBuffer(info) ? info.toString('utf8') : String(info)
  const {host, port} = connection.options
  if (!/^cluster_enabled:1\b/m.test(text)) {
    const replication = await connection.call(['INFO', 'replication'])
    const replicas = replication instanceof RespError ? [] : parseInfoReplicas(String(replication), host)
    return {mode: 'standalone', primaries: [{id: formatAddress({host, port}), host, port, slots: [[0, SLOT_COUNT - 1]], replicas}]}
  }
  const shards = await connection.call(['CLUSTER', 'SHARDS'])
  const primaries =
    shards instanceof RespError ? parseClusterSlots(await connection.call(['CLUSTER', 'SLOTS']), host, connection.address) : parseClusterShards(shards, host, tls)
  return {mode: 'cluster', primaries}
}

/** CLUSTER SHARDS (RESP2): [["slots", [s, e, …], "nodes", [[k, v, …], …]], …]. */
function parseClusterShards(reply: Reply, seedHost: string, tls: boolean): PrimaryInfo[] {
  if (!Array.isArray(reply)) throw new ConnectionError('CLUSTER SHARDS returned an unexpected reply')
  const primaries: PrimaryInfo[] = []
  for (const shard of reply) {
    const fields = asRecord(shard)
    const slotList = (fields.slots as Reply[] | undefined) ?? []
    const slots: Array<[number, number]> = []
    for (let i = 0; i + 1 < slotList.length; i += 2) slots.push([Number(slotList[i]), Number(slotList[i + 1])])
    if (slots.length === 0) continue
    const nodes = ((fields.nodes as Reply[] | undefined) ?? []).map(asRecord)
    // The shard's primary; prefer one that is online (after a failover the old one lingers as "fail").
    const primary =
      nodes.find((node) => text(node.role) === 'master' && text(node.health) === 'online') ?? nodes.find((node) => text(node.role) === 'master')
    if (primary === undefined) continue
    const portOf = (node: Record<string, Reply>) => Number(tls && node['tls-port'] !== undefined ? node['tls-port'] : node.port ?? node['tls-port'])
    const replicas: ReplicaInfo[] = nodes
      .filter((node) => node !== primary)
      .map((node) => ({
        id: text(node.id),
        host: pickHost(text(node.endpoint), text(node.ip), seedHost),
        port: portOf(node),
        // A former primary still listed in the shard counts as a member that is not serving.
        health: text(node.role) === 'master' && text(node.health) === 'online' ? 'fail' : text(node.health) || 'online',
        offset: Number(text(node['replication-offset'])) || 0,
      }))
    primaries.push({id: text(primary.id), host: pickHost(text(primary.endpoint), text(primary.ip), seedHost), port: portOf(primary), slots: slots.sort((a, b) => a[0] - b[0]), replicas})
  }
  return primaries.sort(byFirstSlot)
}

/** CLUSTER SLOTS: [[start, end, [host, port, id, …], replica…], …]; ranges of one primary are merged. */
function parseClusterSlots(reply: Reply, seedHost: string, address: string): PrimaryInfo[] {
  if (reply instanceof RespError) throw new ConnectionError(`${address} refused CLUSTER SLOTS: ${reply.message}`)
  if (!Array.isArray(reply)) throw new ConnectionError('CLUSTER SLOTS returned an unexpected reply')
  const byId = new Map<string, PrimaryInfo>()
  for (const range of reply) {
    if (!Array.isArray(range) || range.length < 3 || !Array.isArray(range[2])) continue
    const [start, end, node] = range as [number, number, Reply[]]
    const host = pickHost(text(node[0]), '', seedHost)
    const port = Number(node[1])
    const id = node[2] === undefined ? formatAddress({host, port}) : text(node[2])
    let primary = byId.get(id)
    if (primary === undefined) {
      // CLUSTER SLOTS lists the replicas it considers serving; their health is not reported.
      const replicas = (range.slice(3) as Reply[]).filter(Array.isArray).map((replica) => {
        const [rHost, rPort, rId] = replica as Reply[]
        const address = {host: pickHost(text(rHost), '', seedHost), port: Number(rPort)}
        return {id: rId === undefined ? formatAddress(address) : text(rId), ...address, health: 'online', offset: 0}
      })
      primary = {id, host, port, slots: [], replicas}
      byId.set(id, primary)
    }
    primary.slots.push([Number(start), Number(end)])
  }
  const primaries = [...byId.values()]
  for (const primary of primaries) primary.slots.sort((a, b) => a[0] - b[0])
  return primaries.sort(byFirstSlot)
}

/** INFO replication of a primary: slaveN:ip=…,port=…,state=online,offset=…,lag=… lines. */
export function parseInfoReplicas(info: string, seedHost: string): ReplicaInfo[] {
  const replicas: ReplicaInfo[] = []
  for (const match of info.matchAll(/^slave\d+:(.*?)\r?$/gm)) {
    const fields = Object.fromEntries(match[1].split(',').map((pair) => pair.split('=') as [string, string]))
    const host = pickHost(fields.ip ?? '', '', seedHost)
    const port = Number(fields.port)
    replicas.push({id: formatAddress({host, port}), host, port, health: fields.state === 'online' ? 'online' : fields.state ?? 'unknown', offset: Number(fields.offset) || 0})
  }
  return replicas
}

/** Slot → index into primaries (-1 when no primary serves it). */
export function buildSlotTable(primaries: PrimaryInfo[]): Int32Array {
  const table = new Int32Array(SLOT_COUNT).fill(-1)
  primaries.forEach((primary, index) => {
    for (const [start, end] of primary.slots) table.fill(index, start, end + 1)
  })
  return table
}

/** Slot ranges no primary serves, e.g. [[0, 99]]. */
export function uncoveredRanges(table: Int32Array): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  let start = -1
  for (let slot = 0; slot <= table.length; slot++) {
    const missing = slot < table.length && table[slot] < 0
    if (missing && start < 0) start = slot
    if (!missing && start >= 0) {
      ranges.push([start, slot - 1])
      start = -1
    }
  }
  return ranges
}

export function formatRanges(ranges: Array<[number, number]>): string {
  return ranges.map(([start, end]) => (start === end ? `${start}` : `${start}-${end}`)).join(',')
}

function byFirstSlot(a: PrimaryInfo, b: PrimaryInfo): number {
  return (a.slots[0]?.[0] ?? SLOT_COUNT) - (b.slots[0]?.[0] ?? SLOT_COUNT)
}

/** An endpoint of "" or "?" means "the address you reached me on" (Valkey's cluster-preferred-endpoint-type unknown-endpoint). */
function pickHost(endpoint: string, ip: string, seedHost: string): string {
  for (const candidate of [endpoint, ip]) if (candidate !== '' && candidate !== '?') return candidate
  return seedHost
}

function asRecord(reply: Reply): Record<string, Reply> {
  const record: Record<string, Reply> = {}
  if (!Array.isArray(reply)) return record
  for (let i = 0; i + 1 < reply.length; i += 2) record[text(reply[i])] = reply[i + 1]
  return record
}

function text(reply: Reply | undefined): string {
  if (reply === undefined || reply === null) return ''
  if (Buffer.isBuffer(reply)) return reply.toString('utf8')
  return String(reply)
}

/** "slot-a->-id" / "slot-<-id" markers on a node's own CLUSTER NODES line. */
export function migrationProblems(nodes: string, address: string): string[] {
  const myself = nodes.split('\n').find((line) => line.split(' ')[2]?.split(',').includes('myself'))
  if (myself === undefined) return []
  const problems: string[] = []
  for (const match of myself.matchAll(/\[(\d+)-([<>])-([0-9a-f]+)\]/g)) {
    const [, slot, direction, peer] = match
    problems.push(direction === '>' ? `slot ${slot} is migrating from ${address} to node ${peer}` : `slot ${slot} is importing into ${address} from node ${peer}`)
  }
  return problems
}

/** host:port (IPv6 in brackets or not) → its parts. */
export function parseAddress(address: string): {host: string; port: number} {
  const colon = address.lastIndexOf(':')
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1')
  return {host, port: Number(address.slice(colon + 1))}
}

