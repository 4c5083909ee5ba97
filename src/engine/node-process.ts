// Entry point of one engine node process, forked by the supervisor (index.ts). Each node is its
// own process, as in a real cluster: a long script on one node never stalls the others, and a node
// can be killed alone. The node exits when its supervisor goes away.
import type {Server} from 'node:net'
import {Topology} from './cluster/topology.js'
import {EngineNode} from './node.js'
import {openNodeOps} from './persist/node-ops.js'
import type {FromNode, ToNode} from './process-protocol.js'
import {loadScriptEngine} from './scripting-host.js'
import {closeServer, serveNode} from './server.js'

let node: EngineNode | null = null
let server: Server | null = null

function send(message: FromNode): void {
  process.send?.(message)
}

/** Node log lines (snapshots): stdout, which the background engine sends to its log file. */
function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`)
}

async function start(config: ToNode & {type: 'start'}): Promise<void> {
  let opened: ReturnType<typeof openNodeOps>
  try {
    // Loads this node's snapshot when there is one; a bad snapshot refuses the start (one line).
    opened = openNodeOps(config.config, config.config.snapshotDir ? log : undefined)
  } catch (error) {
    send({type: 'failed', message: (error as Error).message})
    return
  }
  const engineNode = new EngineNode(config.config, opened.keyspace)
  engineNode.ops = opened.ops
  node = engineNode
  try {
    engineNode.scripts = await loadScriptEngine()
  } catch (error) {
    engineNode.scriptsUnavailable = `ERR scripting failed to load: ${(error as Error).message.split('\n')[0]}`
  }
  const srv = serveNode(engineNode)
  server = srv
  srv.once('error', (error: NodeJS.ErrnoException) => send({type: 'failed', code: error.code, message: error.message}))
  srv.listen(config.config.port, config.config.host, () => {
    const address = srv.address()
    const port = typeof address === 'object' && address ? address.port : config.config.port
    engineNode.config.port = port
    send({type: 'listening', port})
  })
}

let stopping = false

/** Graceful stop: stop accepting and drop clients, write the final snapshot, exit. */
function stop(): void {
  if (stopping) return
  stopping = true
  if (server !== null) closeServer(server)
  if (node !== null) {
    try {
      node.ops?.shutdown(node.keyspace)
    } catch (error) {
      log(`node ${node.config.index}: final snapshot failed: ${(error as Error).message}`)
    }
    node.keyspace.stop()
  }
  process.exit(0)
}

process.on('message', (message: ToNode) => {
  if (message.type === 'start') {
    start(message).catch((error: Error) => send({type: 'failed', message: error.message}))
  } else if (message.type === 'topology') {
    if (node && node.config.mode === 'cluster') node.topology = new Topology(message.nodes, message.myIndex)
    send({type: 'ready'})
    // Periodic snapshots start once the node serves.
    node?.ops?.started(() => node!.keyspace)
  } else if (message.type === 'stop') {
    stop()
  }
})

// The supervisor died or let go of us: a node never outlives its engine.
process.on('disconnect', () => stop())
process.on('SIGTERM', () => stop())
process.on('SIGINT', () => stop())
