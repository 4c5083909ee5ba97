// The TCP side of one node: accepts connections, feeds bytes to the RESP parser, runs each command
// and answers a whole pipeline with one socket write.
import {createServer, type Server, type Socket} from 'node:net'
import {Client} from './client.js'
import {processCommand} from './dispatch.js'
import type {EngineNode} from './node.js'
import {RequestParser} from './resp/parser.js'
import {ErrorReply} from './resp/reply.js'

const openSockets = new WeakMap<Server, Set<Socket>>()

/** Stops accepting and drops every open connection at once (a graceful node stop). */
export function closeServer(server: Server, done?: () => void): void {
  server.close(done)
  for (const socket of openSockets.get(server) ?? []) socket.destroy()
}

export function serveNode(node: EngineNode): Server {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    handleConnection(node, socket)
  })
  openSockets.set(server, sockets)
  return server
}

function handleConnection(node: EngineNode, socket: Socket): void {
  socket.setNoDelay(true)
  node.totalConnections++
  const client = new Client(
    node,
    `${socket.remoteAddress}:${socket.remotePort}`,
    `${socket.localAddress}:${socket.localPort}`,
  )
  client.kill = () => socket.destroy()
  node.clients.add(client)
  const parser = new RequestParser()
  parser.authRequired = !client.authenticated
  const writer = client.writer
  const sink = {
    command(argv: string[]): boolean {
      let reply
      try {
        reply = processCommand(client, argv)
      } catch (error) {
        // A bug in one handler must not take the whole node down: answer an error and go on.
        reply = new ErrorReply(`ERR internal error running '${argv[0]}': ${String((error as Error)?.message ?? error).split('\n')[0]}`)
        process.stderr.write(`flip engine: ${(error as Error)?.stack ?? error}\n`)
      }
      writer.reply(reply, client.resp)
      parser.authRequired = !client.authenticated
      return !client.closeAfterReply
    },
    protocolError(message: string): void {
      writer.error('ERR ' + message)
      client.closeAfterReply = true
    },
  }
  socket.on('data', (chunk: Buffer) => {
    client.lastInteraction = Date.now()
    parser.feed(chunk, sink)
    if (writer.length !== 0 && !socket.destroyed) {
      // Backpressure: stop reading while the client does not read its replies.
      if (!socket.write(writer.take())) {
        socket.pause()
        socket.once('drain', () => socket.resume())
      }
    }
    if (client.closeAfterReply) socket.end()
  })
  socket.on('error', () => {
    // A client vanishing mid-write is routine; the close handler cleans up.
  })
  socket.once('close', () => {
    node.unwatchAll(client)
    node.clients.delete(client)
  })
}
