// Where each command goes: the topology (mode, primaries, slot table), one connection per node
// bound to the plane's db, and the redirect-following executor.
//
// Connections: one raw socket per primary, bound to `db` by a checked SELECT in its handshake
// (see connection.ts); never a runtime SELECT on a shared connection. Commands are routed by
// key slot; MOVED refreshes the topology (asking the node named in the reply first), ASK sends
// ASKING + the command to the named node, TRYAGAIN/CLUSTERDOWN/LOADING wait and retry
// (errors.ts retryKind decides which is which).
import {NodeConnection, type ConnectionOptions, type TlsMaterial} from './connection.js'
import {ConnectionError, DbNotAvailableError, engineDatabasesRemedy, isRetryable, retryKind} from './errors.js'
import type {KeyedExecutor} from './read-values.js'
import {type Arg, CommandEncoder, type Reply} from './resp.js'
import {type PlaneMode, type PrimaryInfo, buildSlotTable, discoverTopology, parseAddress} from './topology.js'
import {formatAddress, type ParsedUrl} from './url.js'
import type {WriteRouter} from './writer.js'

/** Attempts per command on MOVED/ASK/TRYAGAIN before giving up with the server's error. */
const MAX_REDIRECTS = 8

export type RouterTarget = ParsedUrl & TlsMaterial

export class Router implements WriteRouter, KeyedExecutor {
  mode: PlaneMode = 'standalone'
  primaries: PrimaryInfo[] = []
  /** Slot → index into primaries (-1: no primary serves it). */
  slotTable: Int32Array = new Int32Array(0)
  private primaryConnections: NodeConnection[] = []
  /** Every connection this router opened, by host:port (primaries and ASK targets). */
  private readonly connections = new Map<string, Promise<NodeConnection>>()
  private refreshing: Promise<void> | null = null
  private closed = false

  constructor(
    private readonly target: RouterTarget,
    readonly db: number,
    private readonly connectTimeoutMs: number | undefined,
    /** The URL with its password hidden. */
    readonly displayUrl: string,
  ) {}

  nodeForSlot(slot: number): PrimaryInfo {
    return this.primaries[this.primaryIndexForSlot(slot)]
  }

  /** The primary connection serving a slot (WriteRouter). */
  connectionForSlot(slot: number): NodeConnection {
    return this.primaryConnections[this.primaryIndexForSlot(slot)]
  }

  /** Primary i's connection, reopened (handshake and db check included) if it broke since. */
  async primaryConnection(index: number): Promise<NodeConnection> {
    const current = this.primaryConnections[index]
    if (current.isOpen) return current
    const {host, port} = this.primaries[index]
    const reopened = await this.connectionAt(host, port)
    if (this.primaries[index]?.host === host && this.primaries[index]?.port === port) this.primaryConnections[index] = reopened
    return reopened
  }

  /** Every primary's connection, in primaries order. */
  allPrimaryConnections(): Promise<NodeConnection[]> {
    return Promise.all(this.primaries.map((_, i) => this.primaryConnection(i)))
  }

  /** The router's connection to host:port (bound to its db), opened on first use and after it broke. */
  async connectionAt(host: string, port: number, clusterMode?: boolean): Promise<NodeConnection> {
    if (this.closed) throw new ConnectionError(`the connection to ${this.displayUrl} is closed`)
    const address = formatAddress({host, port})
    const existing = this.connections.get(address)
    if (existing !== undefined) {
      const connection = await existing.catch(() => undefined)
      if (connection?.isOpen) return connection
    }
    const opening = NodeConnection.open(this.connectionOptions(host, port, this.db, clusterMode))
    this.connections.set(address, opening)
    opening.catch(() => this.connections.get(address) === opening && this.connections.delete(address))
    return opening
  }

  /** How to open a connection to host:port bound to `db` (undefined: no SELECT), with this target's credentials and TLS. */
  connectionOptions(host: string, port: number, db: number | undefined, clusterMode = this.mode === 'cluster'): ConnectionOptions {
    const {tls, tlsCa, tlsCert, tlsKey, username, password} = this.target
    return {host, port, tls, tlsCa, tlsCert, tlsKey, username, password, db, clusterMode, connectTimeoutMs: this.connectTimeoutMs}
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const all = [...this.connections.values()]
    this.connections.clear()
    await Promise.all(all.map((pending) => pending.then((connection) => connection.close()).catch(() => undefined)))
  }

  /**
   * Several commands per key (replies key-major: key 0's commands, then key 1's…). A command is
   * a name (sent as `NAME key`, encoded without an argv array: the hot read path) or a function
   * giving the argv. One pipeline per primary; only keys that meet a redirect go through
   * execute() again (all their commands, in order).
   */
  async executePerKey(keys: readonly Buffer[], slots: readonly number[], names: ReadonlyArray<Buffer | ((key: Buffer) => Arg[])>): Promise<Reply[]> {
    const per = names.length
    const results: Reply[] = new Array(keys.length * per)
    const groups = new Map<NodeConnection, number[]>()
    for (let i = 0; i < keys.length; i++) {
      const connection = this.connectionForSlot(slots[i])
      let group = groups.get(connection)
      if (group === undefined) groups.set(connection, (group = []))
      group.push(i)
    }
    const redirected: number[] = []
    await Promise.all(
      [...groups].map(async ([destination, indices]) => {
        const connection = destination.isOpen ? destination : await this.reopen(destination)
        const encoder = new CommandEncoder(indices.length * 48)
        for (const i of indices) {
          for (const name of names) {
            if (Buffer.isBuffer(name)) encoder.append2(name, keys[i])
            else encoder.append(name(keys[i]))
          }
        }
        const count = encoder.count
        const replies = await connection.exec(encoder.take(), count)
        for (let n = 0; n < indices.length; n++) {
          const i = indices[n]
          let redirect = false
          for (let c = 0; c < per; c++) {
            const reply = replies[n * per + c]
            results[i * per + c] = reply
            if (isRetryable(reply)) redirect = true
          }
          if (redirect) redirected.push(i)
        }
      }),
    )
    if (redirected.length > 0) {
      redirected.sort((a, b) => a - b)
      const commands = redirected.flatMap((i) => names.map((name) => ({argv: Buffer.isBuffer(name) ? [name, keys[i]] : name(keys[i]), slot: slots[i]})))
      const replies = await this.execute(commands)
      redirected.forEach((i, n) => {
        for (let c = 0; c < per; c++) results[i * per + c] = replies[n * per + c]
      })
    }
    return results
  }

  /**
   * Runs commands routed by slot, grouped per primary and pipelined. MOVED → topology refresh
   * and retry; ASK → ASKING + command on the named node; TRYAGAIN/CLUSTERDOWN/LOADING → short
   * wait and retry. Commands are retried in their original order. Replies come back in input
   * order; error replies that survive the retries are RespError values.
   */
  async execute(commands: ReadonlyArray<{argv: readonly Arg[]; slot: number}>): Promise<Reply[]> {
    const results: Reply[] = new Array(commands.length)
    let pending = commands.map((_, i) => i)
    let askTargets = new Map<number, string>()
    for (let attempt = 0; ; attempt++) {
      // Group by destination, keeping the input order within each group.
      const groups = new Map<NodeConnection | string, number[]>()
      for (const i of pending) {
        const destination = askTargets.get(i) ?? this.connectionForSlot(commands[i].slot)
        let group = groups.get(destination)
        if (group === undefined) groups.set(destination, (group = []))
        group.push(i)
      }
      const nextPending: number[] = []
      const nextAsk = new Map<number, string>()
      let movedTo: string | undefined
      let mustWait = false
      await Promise.all(
        [...groups].map(async ([destination, indices]) => {
          const asking = typeof destination === 'string'
          const connection = asking ? await this.connectionAtAddress(destination) : destination.isOpen ? destination : await this.reopen(destination)
          const encoder = new CommandEncoder(16 * 1024)
          for (const i of indices) {
            if (asking) encoder.append(['ASKING'])
            encoder.append(commands[i].argv)
          }
          const count = encoder.count
          const replies = await connection.exec(encoder.take(), count)
          indices.forEach((i, n) => {
            const reply = asking ? replies[2 * n + 1] : replies[n]
            results[i] = reply
            if (attempt >= MAX_REDIRECTS || !isRetryable(reply)) return
            const kind = retryKind(reply)
            if (kind === 'moved') movedTo = reply.message.split(' ')[2]
            else if (kind === 'ask') nextAsk.set(i, reply.message.split(' ')[2])
            else mustWait = true
            nextPending.push(i)
          })
        }),
      )
      if (nextPending.length === 0) return results
      nextPending.sort((a, b) => a - b)
      if (movedTo !== undefined) await this.refreshTopology(movedTo)
      if (mustWait) await sleep(Math.min(10 * 2 ** attempt, 500))
      pending = nextPending
      askTargets = nextAsk
    }
  }

  /**
   * Re-reads the topology (coalesced: concurrent callers share one refresh), asking `hint`
   * first (the node a MOVED named: it knows best), then the known primaries, then the seeds.
   * Opens connections to new primaries, each bound to the router's db.
   */
  async refreshTopology(hint?: string): Promise<void> {
    if (this.refreshing === null) {
      this.refreshing = this.doRefresh(hint).finally(() => {
        this.refreshing = null
      })
    }
    return this.refreshing
  }

  private async doRefresh(hint: string | undefined): Promise<void> {
    const candidates: Array<{host: string; port: number}> = []
    if (hint !== undefined) candidates.push(parseAddress(hint))
    candidates.push(...this.primaries, ...this.target.seeds)
    let lastError: Error | undefined
    const tried = new Set<string>()
    for (const candidate of candidates) {
      const address = formatAddress(candidate)
      if (tried.has(address)) continue
      tried.add(address)
      let probe: NodeConnection | undefined
      try {
        // A probe without SELECT: a cluster that refuses our db must still tell us it is a cluster.
        probe = await NodeConnection.open(this.connectionOptions(candidate.host, candidate.port, undefined))
        const topology = await probe.withinConnectTimeout(discoverTopology(probe, this.target.tls))
        if (topology.primaries.length === 0) throw new ConnectionError(`the cluster at ${probe.address} has no primary serving slots yet`)
        const connections = await Promise.all(topology.primaries.map((primary) => this.connectionAt(primary.host, primary.port, topology.mode === 'cluster')))
        this.mode = topology.mode
        this.primaries = topology.primaries
        this.primaryConnections = connections
        this.slotTable = buildSlotTable(topology.primaries)
        return
      } catch (error) {
        // Wrong password or a refused db are the same on every node: no point trying others.
        if (error instanceof DbNotAvailableError && probe !== undefined && (await isBundledEngine(probe))) {
          throw new DbNotAvailableError(error.detail, error.db, engineDatabasesRemedy(error.db))
        }
        if (error instanceof DbNotAvailableError || /authentication failed|requires a password/.test((error as Error).message)) throw error
        lastError = error as Error
      } finally {
        await probe?.close()
      }
    }
    throw lastError ?? new ConnectionError(`no server to ask for the topology of ${this.displayUrl}`)
  }

  private primaryIndexForSlot(slot: number): number {
    const index = this.slotTable[slot]
    if (index === undefined || index < 0) throw new ConnectionError(`slot ${slot} is not served by any primary of ${this.displayUrl}: the cluster is incomplete`)
    return index
  }

  private async reopen(connection: NodeConnection): Promise<NodeConnection> {
    const index = this.primaryConnections.indexOf(connection)
    return index >= 0 ? this.primaryConnection(index) : this.connectionAt(connection.options.host, connection.options.port)
  }

  private connectionAtAddress(address: string): Promise<NodeConnection> {
    const {host, port} = parseAddress(address)
    return this.connectionAt(host, port)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Whether the server is flip's bundled engine (it answers as Valkey but names itself in INFO's `executable`). */
async function isBundledEngine(connection: NodeConnection): Promise<boolean> {
  const info = await connection.call(['INFO', 'server']).catch(() => undefined)
  return /^executable:.*flip-engine\r?$/m.test(String(info ?? ''))
}
