// The TCP side of one node: accepts connections (up to maxclients), feeds bytes to the RESP
// parser, runs each command and answers a whole pipeline with one socket write. A client whose
// unsent replies grow past its output-buffer limit is closed (Valkey's client-output-buffer-limit,
// normal class); below the limit, a client that does not read its replies is held: its pipeline
// waits unparsed until the socket drains, so a never-reading client costs bounded memory.
import {createServer, type Server, type Socket} from 'node:net'
import {Client} from './client.js'
import {processCommand} from './dispatch.js'
import type {EngineNode} from './node.js'
import {RequestParser, type ParserSink} from './resp/parser.js'
import {ErrorReply} from './resp/reply.js'

const openSockets = new WeakMap<Server, Set<Socket>>()

/** Unsent output from which a client is held even with no output-buffer limit set. */
export const HOLD_OUTPUT_BYTES = 1024 * 1024
/** How often a held client's output-buffer limits are checked again (soft limits count seconds). */
const HELD_CHECK_MS = 1000
/** How long a client closed after a reply (protocol error, QUIT) may keep its half-open socket. */
const CLOSE_GRACE_MS = 2000

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
    socket.on('error', () => {
      // A client vanishing mid-write is routine; the close handler cleans up.
    })
    if (node.clients.size >= node.limits.maxclients) refuse(node, socket)
    else handleConnection(node, socket)
  })
  openSockets.set(server, sockets)
  return server
}

/** Valkey's admission control: one best-effort error line, then the connection is closed. */
function refuse(node: EngineNode, socket: Socket): void {
  node.limits.rejectedConnections++
  socket.end(node.cluster ? '-ERR max number of clients + cluster connections reached\r\n' : '-ERR max number of clients reached\r\n')
  closeSoon(socket)
}

/** Ends the socket after what was written, and drops it if the peer keeps it half-open. */
function closeSoon(socket: Socket): void {
  if (!socket.writableEnded) socket.end()
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref()
}

function handleConnection(node: EngineNode, socket: Socket): void {
  socket.setNoDelay(true)
  node.totalConnections++
  const limits = node.limits
  const client = new Client(
    node,
    `${socket.remoteAddress}:${socket.remotePort}`,
    `${socket.localAddress}:${socket.localPort}`,
  )
  client.kill = () => socket.destroy()
  node.clients.add(client)
  const parser = new RequestParser(limits)
  parser.authRequired = !client.authenticated
  const writer = client.writer
  client.bufferBytes = () => writer.buf.length + socket.writableLength + parser.bufferedBytes
  /** When the output first reached the soft limit (0: it is below). */
  let softSince = 0
  /** Waiting for the socket to drain (or for the next turn of the event loop). */
  let waiting = false
  let heldTimer: NodeJS.Timeout | null = null
  let closed = false

  const drop = () => {
    closed = true
    writer.discard()
    socket.destroy()
  }

  /** Valkey's checkClientOutputBufferLimits (normal class); closes the client when one is reached. */
  const outputOverLimit = (): boolean => {
    const limit = limits.output.normal
    const used = writer.length + socket.writableLength
    const hard = limit.hard > 0 && used >= limit.hard
    let soft = limit.soft > 0 && used >= limit.soft
    if (soft) {
      const now = Date.now()
      if (softSince === 0) {
        softSince = now
        soft = false
      } else if (now - softSince <= limit.softSeconds * 1000) soft = false
    } else softSince = 0
    if (!hard && !soft) return false
    limits.outputLimitDisconnections++
    drop()
    return true
  }

  const sink: ParserSink = {
    command(argv: string[]): boolean {
      let reply
      try {
        reply = processCommand(client, argv)
      } catch (error) {
        // A bug in one handler must not take the whole node down: answer an error and go on.
        reply = new ErrorReply(`ERR internal error running '${argv[0]}': ${String((error as Error)?.message ?? error).split('\n')[0]}`)
        process.stderr.write(`flip engine: ${(error as Error)?.stack ?? error}\n`)
      }
      if (closed) return false
      if (reply instanceof ErrorReply) node.totalErrorReplies++
      writer.reply(reply, client.resp)
      parser.authRequired = !client.authenticated
      const used = writer.length + socket.writableLength
      const limit = limits.output.normal
      if (used >= HOLD_OUTPUT_BYTES || softSince !== 0 || (limit.hard > 0 && used >= limit.hard) || (limit.soft > 0 && used >= limit.soft)) {
        if (outputOverLimit()) return false
        if (used >= Math.max(HOLD_OUTPUT_BYTES, limit.hard, limit.soft)) parser.hold()
      }
      return !client.closeAfterReply
    },
    protocolError(message: string): void {
      writer.error('ERR ' + message)
      client.closeAfterReply = true
    },
    queryBufferLimit(): void {
      limits.queryLimitDisconnections++
      drop()
    },
  }

  /** Sends what the commands answered; waits for the socket when the client is not reading. */
  const flush = () => {
    if (closed || socket.destroyed) return
    let accepted = true
    if (writer.length !== 0) accepted = socket.write(writer.take())
    if (client.closeAfterReply) {
      closed = true
      closeSoon(socket)
      return
    }
    if ((accepted && !parser.held) || waiting) return
    waiting = true
    socket.pause()
    if (parser.held) heldTimer = setInterval(outputOverLimit, HELD_CHECK_MS)
    if (accepted) setImmediate(resume)
    else socket.once('drain', resume)
  }

  const resume = () => {
    waiting = false
    if (heldTimer) clearInterval(heldTimer)
    heldTimer = null
    if (closed || socket.destroyed) return
    if (parser.held) {
      parser.release(sink)
      flush()
      if (waiting || closed) return
    }
    socket.resume()
  }

  socket.on('data', (chunk: Buffer) => {
    client.lastInteraction = Date.now()
    parser.feed(chunk, sink)
    flush()
  })
  socket.once('close', () => {
    closed = true
    if (heldTimer) clearInterval(heldTimer)
    writer.discard()
    node.unwatchAll(client)
    node.clients.delete(client)
  })
}
