// Who serves which slots: every node of the engine gets the full picture from the supervisor,
// so MOVED redirections and CLUSTER SLOTS/SHARDS/NODES answers agree on every node.
import {SLOT_COUNT} from '../../util/keyslot.js'

export interface TopologyNode {
  index: number
  id: string
  shardId: string
  host: string
  port: number
  slots: Array<[number, number]>
}

export class Topology {
  /** Node index owning each slot. */
  private readonly owners = new Int16Array(SLOT_COUNT).fill(-1)

  constructor(
    readonly nodes: TopologyNode[],
    readonly myIndex: number,
  ) {
    for (const node of nodes) for (const [from, to] of node.slots) this.owners.fill(node.index, from, to + 1)
  }

  get myself(): TopologyNode {
    return this.nodes[this.myIndex]
  }

  ownerOf(slot: number): TopologyNode | undefined {
    const index = this.owners[slot]
    return index < 0 ? undefined : this.nodes[index]
  }

  isMine(slot: number): boolean {
    return this.owners[slot] === this.myIndex
  }
}

/** A random 40-hex-digit id, as Valkey's node and shard ids. */
export function randomNodeId(): string {
  let id = ''
  while (id.length < 40) id += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0')
  return id.slice(0, 40)
}
