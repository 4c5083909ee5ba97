// One raw socket to one server, bound to one db for its whole life.
//
// The handshake (AUTH, then SELECT db) runs before anything else is sent, and SELECT's reply is
// checked: a server that refuses SELECT (a cluster without numbered databases, an out-of-range
// db) stops us with DbNotAvailableError before a single write could land in the wrong db.
// There is no runtime SELECT on this connection; code that needs another db opens another
// connection (see Plane.dedicated).
//
// Commands are pipelined: callers hand over pre-encoded bytes holding `count` commands and get
// the replies back in order. One exec() is written with a single socket write, so its commands
// are contiguous on the wire even when several callers share the connection (a MULTI … EXEC
// sent in one exec() is never interleaved with someone else's commands).
import {connect as netConnect, isIP, type Socket} from 'node:net'
import {connect as tlsConnect} from 'node:tls'
import {ConnectionError, DbNotAvailableError, PermissionError, RespError, clusterDatabasesRemedy} from './errors.js'
import {type Arg, CommandEncoder, type Reply, ReplyReader, encodeCommand} from './resp.js'
import {describeTlsError} from './tls-errors.js'
import {formatAddress} from './url.js'

/** What a TLS connection presents and trusts (PEM contents, read once by connect.ts). */
export interface TlsMaterial {
  /** The CA(s) to trust instead of the system's: a private CA or a self-signed server cert. */
  tlsCa?: string | Buffer
  /** Client certificate (chain) and its private key, for servers that require mutual TLS. */
  tlsCert?: string | Buffer
  tlsKey?: string | Buffer
}

export interface ConnectionOptions extends TlsMaterial {
  host: string
  port: number
  tls?: boolean
  username?: string
  password?: string
  /** db to SELECT in the handshake; undefined = don't select (discovery connections). */
  db?: number
  /** Word the DbNotAvailableError for a cluster (where the fix is `cluster-databases`). */
  clusterMode?: boolean
  connectTimeoutMs?: number
}

interface PendingBatch {
  count: number
  received: number
  /** All replies (exec) or null when only errors are kept (execCountingErrors). */
  replies: Reply[] | null
  errors: Array<[index: number, error: RespError]>
  resolve(value: PendingBatch): void
  reject(error: Error): void
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000

export class NodeConnection {
  readonly address: string
  private socket: Socket | null = null
  private readonly reader: ReplyReader
  private queue: PendingBatch[] = []
  private queueHead = 0
  private closedError: Error | null = null
  private closing = false
  private lastBatch: Promise<void> = Promise.resolve()
  /** Commands written whose replies have not arrived yet. */
  pendingCommands = 0

  private constructor(readonly options: ConnectionOptions) {
    this.address = formatAddress(options)
    this.reader = new ReplyReader((reply) => this.onReply(reply))
  }

  /** Opens the socket and runs the handshake; rejects with ConnectionError / DbNotAvailableError. */
  static async open(options: ConnectionOptions): Promise<NodeConnection> {
    const connection = new NodeConnection(options)
    await connection.connectSocket()
    try {
      await connection.withinConnectTimeout(connection.handshake())
    } catch (error) {
      connection.destroy()
      throw error
    }
    return connection
  }

  /**
   * Rejects when `work` takes longer than the connect timeout (a port that accepts connections but
   * never answers: a paused server, another protocol). The connection is dropped then.
   */
  async withinConnectTimeout<T>(work: Promise<T>): Promise<T> {
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new ConnectionError(`${this.address} accepted the connection but did not answer within ${timeoutMs} ms`)
        reject(error)
        this.fail(error)
        this.socket?.destroy()
      }, timeoutMs)
    })
    try {
      return await Promise.race([work, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  get db(): number | undefined {
    return this.options.db
  }

  get isOpen(): boolean {
    return this.socket !== null && this.closedError === null && !this.closing
  }

  /** Sends pre-encoded bytes holding `count` commands; resolves with their replies (errors as RespError values). */
  async exec(bytes: Buffer, count: number): Promise<Reply[]> {
    const batch = await this.enqueue(bytes, count, true)
    return batch.replies as Reply[]
  }

  /** Like exec, but keeps only error replies with their command index: the bulk write path. */
  async execCountingErrors(bytes: Buffer, count: number): Promise<Array<[index: number, error: RespError]>> {
    const batch = await this.enqueue(bytes, count, false)
    return batch.errors
  }

  /** Pipelines several commands; replies in order, errors as RespError values. */
  async pipeline(commands: readonly (readonly Arg[])[]): Promise<Reply[]> {
    if (commands.length === 0) return []
    const encoder = new CommandEncoder(4096)
    for (const argv of commands) encoder.append(argv)
    return this.exec(encoder.take(), commands.length)
  }

  /** One command; an error reply comes back as a RespError value (callers decide whether to throw). */
  async call(argv: readonly Arg[]): Promise<Reply> {
    const [reply] = await this.exec(encodeCommand(argv), 1)
    return reply
  }

  /** Waits for outstanding replies, then closes the socket politely (QUIT). */
  async close(): Promise<void> {
    const socket = this.socket
    if (socket === null || this.closing) return
    if (this.closedError !== null) {
      socket.destroy()
      return
    }
    this.closing = true
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    await this.drain().catch(() => undefined)
    socket.end(encodeCommand(['QUIT']))
    const timer = setTimeout(() => socket.destroy(), 1000)
    await closed
    clearTimeout(timer)
  }

  /** Drops the socket at once; outstanding commands fail. */
  destroy(): void {
    this.fail(new ConnectionError(`connection to ${this.address} closed`))
    this.socket?.destroy()
  }

  /** Resolves when every command written so far has its reply (or the connection failed). */
  async drain(): Promise<void> {
    await this.lastBatch
  }

  private enqueue(bytes: Buffer, count: number, keepReplies: boolean): Promise<PendingBatch> {
    if (this.closedError !== null) return Promise.reject(this.closedError)
    if (this.socket === null || this.closing) return Promise.reject(new ConnectionError(`connection to ${this.address} is closed`))
    const promise = new Promise<PendingBatch>((resolve, reject) => {
      this.queue.push({count, received: 0, replies: keepReplies ? new Array(count) : null, errors: [], resolve, reject})
      this.pendingCommands += count
      this.socket!.write(bytes)
    })
    this.lastBatch = promise.then(
      () => undefined,
      () => undefined,
    )
    return promise
  }

  private onReply(reply: Reply): void {
    const batch = this.queue[this.queueHead]
    if (batch === undefined) {
      this.fail(new ConnectionError(`unexpected reply from ${this.address}`))
      this.socket?.destroy()
      return
    }
    if (batch.replies !== null) batch.replies[batch.received] = reply
    else if (reply instanceof RespError) batch.errors.push([batch.received, reply])
    batch.received++
    this.pendingCommands--
    if (batch.received === batch.count) {
      this.queue[this.queueHead++] = undefined as unknown as PendingBatch
      // Compact now and then so the array does not grow forever.
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead)
        this.queueHead = 0
      }
      batch.resolve(batch)
    }
  }

  private fail(error: Error): void {
    if (this.closedError !== null) return
    this.closedError = error
    const pending = this.queue.slice(this.queueHead)
    this.queue = []
    this.queueHead = 0
    this.pendingCommands = 0
    for (const batch of pending) batch.reject(error)
  }

  private connectSocket(): Promise<void> {
    const {host, port, tls, tlsCa, tlsCert, tlsKey} = this.options
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    return new Promise<void>((resolve, reject) => {
      // rejectUnauthorized stays at its default (true): the server certificate is always verified.
      const socket: Socket = tls
        ? tlsConnect({
            host,
            port,
            servername: isIP(host) ? undefined : host,
            ...(tlsCa === undefined ? {} : {ca: tlsCa}),
            ...(tlsCert === undefined ? {} : {cert: tlsCert, key: tlsKey}),
          })
        : netConnect({host, port})
      let settled = false
      const timer = setTimeout(() => {
        if (settled) return
        settled = true
        socket.destroy()
        reject(new ConnectionError(`cannot connect to ${this.address}: no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        socket.setNoDelay(true)
        socket.setKeepAlive(true, 30_000)
        resolve()
      })
      socket.on('error', (error: NodeJS.ErrnoException) => {
        // A TLS failure is about the connection, even when it comes after 'secureConnect' (with
        // TLS 1.3 the server checks the client certificate after the handshake completes).
        const tlsReason = tls ? describeTlsError(error, {hasCa: tlsCa !== undefined, hasCert: tlsCert !== undefined}) : undefined
        const reason = tlsReason ?? describeSocketError(error)
        if (!settled) {
          settled = true
          clearTimeout(timer)
          reject(new ConnectionError(`cannot connect to ${this.address}: ${reason}`))
        }
        this.fail(new ConnectionError(`${tlsReason ? 'cannot connect to' : 'lost connection to'} ${this.address}: ${reason}`))
      })
      socket.on('close', () => {
        this.fail(new ConnectionError(`lost connection to ${this.address}: closed by the server`))
      })
      socket.on('data', (chunk: Buffer) => {
        try {
          this.reader.feed(chunk)
        } catch (error) {
          this.fail(new ConnectionError(`bad reply from ${this.address}: ${(error as Error).message}`))
          socket.destroy()
        }
      })
      this.socket = socket
    })
  }

  private async handshake(): Promise<void> {
    const {username, password, db} = this.options
    const commands: Arg[][] = []
    if (password !== undefined) commands.push(username ? ['AUTH', username, password] : ['AUTH', password])
    else if (username !== undefined) commands.push(['AUTH', username, ''])
    if (db !== undefined) commands.push(['SELECT', db])
    if (commands.length === 0) return
    const replies = await this.pipeline(commands)
    let index = 0
    if (password !== undefined || username !== undefined) {
      const auth = replies[index++]
      if (auth instanceof RespError) throw new ConnectionError(`authentication failed at ${this.address}: ${auth.message}`)
    }
    if (db !== undefined) {
      const select = replies[index]
      if (select instanceof RespError) throw this.selectError(db, select)
      if (select !== 'OK') throw new DbNotAvailableError(`${this.address} answered SELECT ${db} with an unexpected reply`, db)
    }
  }

  private selectError(db: number, reply: RespError): Error {
    if (reply.code === 'NOAUTH' || reply.code === 'WRONGPASS') {
      return new ConnectionError(`${this.address} requires a password (${reply.code}): put it in the URL or set FLIP_PASSWORD`)
    }
    if (reply.code === 'NOPERM') {
      // The db exists but this user's ACL (Valkey 9.1 `db=`) does not list it.
      const user = this.options.username ?? 'default'
      return new PermissionError(`user ${user} may not use database ${db} on ${this.address} (${reply.message}): add ${db} to the user's db= list (ACL SETUSER ${user} db=…)`)
    }
    if (this.options.clusterMode) {
      return new DbNotAvailableError(`database ${db} is not available on cluster node ${this.address} (${reply.message})`, db, clusterDatabasesRemedy(db))
    }
    return new DbNotAvailableError(`database ${db} is not available on ${this.address} (${reply.message})`, db, 'raise "databases" in the server config')
  }
}


function describeSocketError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the server running?)'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found'
    case 'ETIMEDOUT':
      return 'timed out'
    case 'ECONNRESET':
      return 'connection reset'
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable'
    default:
      return error.message
  }
}
