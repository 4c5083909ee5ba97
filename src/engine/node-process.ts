// Entry point of one engine node process, forked by the supervisor (index.ts). Each node is its
// own process, as in a real cluster: a long script on one node never stalls the others, and a node
// can be killed alone. The node exits when its supervisor goes away.
import type {Server} from 'node:net'
import {Topology} from './cluster/topology.js'
import {EngineNode} from './node.js'
import type {FromNode, ToNode} from './process-protocol.js'
import {loadScriptEngine} from './scripting-host.js'
import {serveNode} from './server.js'

let node: EngineNode | null = null
let server: Server | null = null

function send(message: FromNode): void {
  process.send?.(message)
}

async function start(config: ToNode & {type: 'start'}): Promise<void> {
  const engineNode = new EngineNode(config.config)
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

function stop(): void {
  node?.keyspace.stop()
  if (server === null) process.exit(0)
  server.close(() => process.exit(0))
  // close() waits for connections; serveNode destroys them on 'close', but be sure we leave.
  setTimeout(() => process.exit(0), 2000).unref()
}

process.on('message', (message: ToNode) => {
  if (message.type === 'start') {
    start(message).catch((error: Error) => send({type: 'failed', message: error.message}))
  } else if (message.type === 'topology') {
    if (node && node.config.mode === 'cluster') node.topology = new Topology(message.nodes, message.myIndex)
    send({type: 'ready'})
  } else if (message.type === 'stop') {
    stop()
  }
})

// The supervisor died or let go of us: a node never outlives its engine.
process.on('disconnect', () => stop())
process.on('SIGTERM', () => stop())
process.on('SIGINT', () => stop())
