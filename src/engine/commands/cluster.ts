// CLUSTER subcommands, READONLY/READWRITE (Valkey cluster.c / cluster_legacy.c reply shapes).
// COUNTKEYSINSLOT and GETKEYSINSLOT look at the client's selected db, as Valkey 9 does.
import type {Client} from '../client.js'
import type {Topology, TopologyNode} from '../cluster/topology.js'
import {ErrorReply, MapReply, OK, type Reply} from '../resp/reply.js'
import {slotOf} from '../cluster/slot.js'
import {verbatim} from '../resp/encoder.js'
import type {Handler} from './command.js'
import {helpReply} from './util.js'
import {parseInteger} from './util.js'

const DISABLED = new ErrorReply('ERR This instance has cluster support disabled')

function clusterOnly(handler: (c: Client, argv: string[], topology: Topology) => Reply): Handler {
  return (c, argv) => (c.node.topology === null ? DISABLED : handler(c, argv, c.node.topology))
}

function nodeLine(node: TopologyNode, topology: Topology): string {
  const myself = node.index === topology.myIndex
  const ranges = node.slots.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(' ')
  const pong = myself ? 0 : Date.now()
  return `${node.id} ${node.host}:${node.port}@${node.port + 10000} ${myself ? 'myself,master' : 'master'} - 0 ${pong} ${node.index + 1} connected${ranges ? ' ' + ranges : ''}\n`
}

const nodes = clusterOnly((_c, _argv, t) => verbatim(t.nodes.map((n) => nodeLine(n, t)).join('')))

const slots = clusterOnly((_c, _argv, t) => {
  const ranges: Array<{from: number; to: number; node: TopologyNode}> = []
  for (const node of t.nodes) for (const [from, to] of node.slots) ranges.push({from, to, node})
  ranges.sort((a, b) => a.from - b.from)
  return ranges.map(({from, to, node}) => [from, to, [node.host, node.port, node.id, new MapReply([])]])
})

const shards = clusterOnly((_c, _argv, t) =>
  t.nodes.map(
    (node) =>
      new MapReply([
        ['slots', node.slots.flatMap(([a, b]) => [a, b])],
        [
          'nodes',
          [
            new MapReply([
              ['id', node.id],
              ['port', node.port],
              ['ip', node.host],
              ['endpoint', node.host],
              ['role', 'master'],
              ['replication-offset', 0],
              ['health', 'online'],
            ]),
          ],
        ],
        ['id', node.shardId],
      ]),
  ),
)

const info = clusterOnly((_c, _argv, t) => {
  const epoch = t.nodes.length
  return verbatim(
    'cluster_state:ok\r\n' +
    'cluster_slots_assigned:16384\r\n' +
    'cluster_slots_ok:16384\r\n' +
    'cluster_slots_pfail:0\r\n' +
    'cluster_slots_fail:0\r\n' +
    `cluster_known_nodes:${t.nodes.length}\r\n` +
    `cluster_size:${t.nodes.filter((n) => n.slots.length > 0).length}\r\n` +
    `cluster_current_epoch:${epoch}\r\n` +
    `cluster_my_epoch:${t.myIndex + 1}\r\n` +
    'cluster_stats_messages_sent:0\r\n' +
    'cluster_stats_messages_received:0\r\n' +
    'total_cluster_links_buffer_limit_exceeded:0\r\n'
  )
})

const myid = clusterOnly((_c, _argv, t) => t.myself.id)
const myshardid = clusterOnly((_c, _argv, t) => t.myself.shardId)
const keyslot = clusterOnly((_c, argv) => slotOf(argv[2]))

function parseSlot(text: string): number | null {
  const slot = parseInteger(text)
  return slot === null || slot < 0 || slot >= 16384 ? null : slot
}

const countkeysinslot = clusterOnly((c, argv) => {
  if (parseInteger(argv[2]) === null) return new ErrorReply('ERR value is not an integer or out of range')
  const slot = parseSlot(argv[2])
  if (slot === null) return new ErrorReply('ERR Invalid slot')
  let n = 0
  for (const key of c.db.keys.keys()) if (slotOf(key) === slot && c.db.get(key) !== undefined) n++
  return n
})

const getkeysinslot = clusterOnly((c, argv) => {
  const slot = parseInteger(argv[2])
  const count = parseInteger(argv[3])
  if (slot === null || count === null) return new ErrorReply('ERR value is not an integer or out of range')
  if (slot < 0 || slot >= 16384 || count < 0) return new ErrorReply('ERR Invalid slot or number of keys')
  const out: string[] = []
  for (const key of c.db.keys.keys()) {
    if (out.length >= count) break
    if (slotOf(key) === slot && c.db.get(key) !== undefined) out.push(key)
  }
  return out
})

const help: Handler = () => helpReply([
  'CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'COUNTKEYSINSLOT <slot>',
  '    Return the number of keys in <slot> (in the selected database).',
  'GETKEYSINSLOT <slot> <count>',
  '    Return key names stored by current node in a slot (in the selected database).',
  'INFO',
  '    Return information about the cluster.',
  'KEYSLOT <key>',
  '    Return the hash slot for <key>.',
  'MYID',
  '    Return the node id.',
  'MYSHARDID',
  '    Return the node shard id.',
  'NODES',
  '    Return cluster configuration seen by node.',
  'SHARDS',
  '    Return information about slot range mappings and the nodes associated with them.',
  'SLOTS',
  '    Return information about slots range mappings.',
  'HELP',
  '    Print this help.',
])

const readonly: Handler = (c) => {
  if (c.node.topology === null) return DISABLED
  c.readonlyMode = true
  return OK
}

const readwrite: Handler = (c) => {
  if (c.node.topology === null) return DISABLED
  c.readonlyMode = false
  return OK
}

export const clusterHandlers: Record<string, Handler> = {
  'cluster|nodes': nodes,
  'cluster|slots': slots,
  'cluster|shards': shards,
  'cluster|info': info,
  'cluster|myid': myid,
  'cluster|myshardid': myshardid,
  'cluster|keyslot': keyslot,
  'cluster|countkeysinslot': countkeysinslot,
  'cluster|getkeysinslot': getkeysinslot,
  'cluster|help': help,
  readonly,
  readwrite,
}
