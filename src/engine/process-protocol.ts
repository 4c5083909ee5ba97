// Messages between the supervisor (index.ts) and each node process (node-process.ts) over IPC.
import type {TopologyNode} from './cluster/topology.js'
import type {NodeConfig} from './node.js'

export type ToNode =
  | {type: 'start'; config: NodeConfig}
  | {type: 'topology'; nodes: TopologyNode[]; myIndex: number}
  | {type: 'stop'}

export type FromNode =
  | {type: 'listening'; port: number}
  | {type: 'failed'; code?: string; message: string}
  | {type: 'ready'}
