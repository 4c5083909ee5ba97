// The data plane: every data command of flip (stage, verify, diff, status, cutover, rollback)
// talks to the server through one Plane.
//
//   const plane = await connectPlane({url, db: 1})      // url: --url, else FLIP_URL, else VALKEY_URL
//   plane.mode                                         // 'cluster' | 'standalone'
//   plane.primaries                                    // [{id, host, port, slots: [[first, last], …]}]
//   plane.identity()                                   // {mode, nodes: [{id, address, slots}]}: no secrets
//   await plane.databases()                            // CONFIG GET cluster-databases / databases, if allowed
//   plane.nodeForSlot(slot), plane.nodeForKey(key)     // routing (CRC16 + hash tags, src/util/keyslot.ts)
//   await plane.writeRecords(records)                  // write and wait for every acknowledgement
//   const w = plane.writer(); await w.write(batch) …; await w.finish()   // streaming, windowed (stage)
//   for await (const keys of plane.scanKeys({match, count})) …          // SCAN on every primary
//   for await (const stored of plane.scanValues()) …   // SCAN + pipelined reads, the fast verify path
//   await plane.readValues(keys)                       // StoredKey[] in the order of keys
//   await plane.dbsize(), plane.flushdb(), plane.health()
//   await plane.command(node, argv)                    // one command on that primary (this plane's db); error replies throw
//   await plane.pipeline(node, argvs)                  // several, sent in one write; error replies are RespError values
//   plane.connectionFor(node)                          // the shared NodeConnection (no SELECT on it!)
//   await plane.dedicated(node, {db})                  // a new raw NodeConnection bound to db; the caller closes it
//   await plane.dedicatedClient(node, {db})            // a new iovalkey client bound to db and checked; the caller quits it
//   await plane.close()
//
// TLS (valkeys://, rediss://) verifies the server certificate; a private CA comes from
// PlaneOptions.tlsCa or the file named by env FLIP_TLS_CA.
//
// Connections: one raw socket per primary, bound to `db` by a checked SELECT in its handshake
// (see connection.ts); never a runtime SELECT on a shared connection. Commands are routed by
// key slot; MOVED refreshes the topology (asking the node named in the reply first), ASK sends
// ASKING + the command to the named node, TRYAGAIN/CLUSTERDOWN/LOADING wait and retry.
// Database-wide operations (DBSIZE, SCAN, FLUSHDB) run on every primary and are summed.
import {readFileSync} from 'node:fs'
import {isIP} from 'node:net'
import {Valkey} from 'iovalkey'
import type {DatasetRecord, StoredKey, ValueType} from '../dataset/record.js'
import {keySlot} from '../util/keyslot.js'
import {NodeConnection, type ConnectionOptions} from './connection.js'
import {CommandError, ConnectionError, DbNotAvailableError, PlaneError, RespError, UsageError, clusterDatabasesRemedy, describeReply, engineDatabasesRemedy, isRetryable} from './errors.js'
import {type KeyedExecutor, ValueReader} from './read-values.js'
import {type Arg, CommandEncoder, type Reply} from './resp.js'
import {merge, scanNode, type ScanOptions} from './scan.js'
import {
  type PlaneMode,
  type PrimaryInfo,
  buildSlotTable,
  discoverTopology,
  formatRanges,
  migrationProblems,
  parseAddress,
  uncoveredRanges,
} from './topology.js'
import {formatAddress, parseTargetUrl, redactUrl, resolveTargetUrl, type ParsedUrl} from './url.js'
import {RecordWriter, type WriterOptions, type WriteRouter} from './writer.js'

export type {PlaneMode, PrimaryInfo} from './topology.js'
export type {ScanOptions} from './scan.js'
export type {WriteSummary, WriterOptions} from './writer.js'
export {RecordWriter} from './writer.js'

export interface PlaneOptions {
  /** Target URL; default env FLIP_URL, then VALKEY_URL. */
  url?: string
  /** Used when the URL has no password; default env FLIP_PASSWORD. */
  password?: string
  /** The db every connection of this plane is bound to. */
  db: number
  connectTimeoutMs?: number
  /** For valkeys:// / rediss://: extra CA certificates (PEM) to trust; default the file named by env FLIP_TLS_CA. */
  tlsCa?: string | Buffer
  /** Environment to read FLIP_URL / VALKEY_URL / FLIP_PASSWORD / FLIP_TLS_CA from (default process.env). */
  env?: NodeJS.ProcessEnv
}

export interface TargetIdentity {
  mode: PlaneMode
  nodes: Array<{id: string; address: string; slots: Array<[number, number]>}>
}

export interface Health {
  ok: boolean
  problems: string[]
}

export interface DbSize {
  total: number
  perNode: Array<{id: string; address: string; keys: number}>
}

/** Attempts per command on MOVED/ASK/TRYAGAIN before giving up with the server's error. */
const MAX_REDIRECTS = 8

export async function connectPlane(options: PlaneOptions): Promise<Plane> {
  const env = options.env ?? process.env
  if (!Number.isSafeInteger(options.db) || options.db < 0) throw new UsageError(`invalid db ${options.db}: expected an integer >= 0`)
  const url = resolveTargetUrl(options.url, env)
  if (url === undefined) {
    throw new UsageError('no server given: pass --url, set FLIP_URL or VALKEY_URL, or start the bundled engine with "flip engine start"')
  }
  const target = parseTargetUrl(url, {password: options.password, env})
  const tlsCa = options.tlsCa ?? (target.tls && env.FLIP_TLS_CA ? readCaFile(env.FLIP_TLS_CA) : undefined)
  const plane = new Plane({...target, tlsCa}, options.db, options.connectTimeoutMs, redactUrl(url))
  await plane.init()
  return plane
}

function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new UsageError(`cannot read the CA file ${path} (FLIP_TLS_CA): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

export class Plane implements WriteRouter, KeyedExecutor {
  mode: PlaneMode = 'standalone'
  primaries: PrimaryInfo[] = []
  private slotTable: Int32Array = new Int32Array(0)
  private primaryConnections: NodeConnection[] = []
  /** Every connection this plane opened, by host:port (primaries and ASK targets). */
  private readonly connections = new Map<string, Promise<NodeConnection>>()
  private refreshing: Promise<void> | null = null
  private readonly reader = new ValueReader(this)
  private closed = false

  /** @internal use connectPlane() */
  constructor(
    private readonly target: ParsedUrl & {tlsCa?: string | Buffer},
    readonly db: number,
    private readonly connectTimeoutMs: number | undefined,
    /** The URL with its password hidden. */
    readonly displayUrl: string,
  ) {}

  /** @internal */
  async init(): Promise<void> {
    await this.refreshTopology()
  }

  identity(): TargetIdentity {
    return {
      mode: this.mode,
      nodes: this.primaries.map((primary) => ({id: primary.id, address: formatAddress(primary), slots: primary.slots.map(([a, b]) => [a, b])})),
    }
  }

  /** How many dbs the server offers (CONFIG GET cluster-databases in a cluster, databases standalone); undefined when CONFIG is refused. */
  async databases(): Promise<number | undefined> {
    const setting = this.mode === 'cluster' ? 'cluster-databases' : 'databases'
    const reply = await this.primaryConnection(0)
      .then((connection) => connection.call(['CONFIG', 'GET', setting]))
      .catch(() => null)
    if (!Array.isArray(reply) || reply.length < 2) return undefined
    const value = Number(String(reply[1]))
    return Number.isSafeInteger(value) ? value : undefined
  }

  nodeForSlot(slot: number): PrimaryInfo {
    return this.primaries[this.primaryIndexForSlot(slot)]
  }

  nodeForKey(key: Buffer | string): PrimaryInfo {
    return this.nodeForSlot(keySlot(key))
  }

  // ---- writing -------------------------------------------------------------------------------

  /** A streaming writer (stage's path): write() batches as they come, finish() waits for all acks. */
  writer(options?: WriterOptions): RecordWriter {
    return new RecordWriter(this, options)
  }

  /** Writes records (SET/HSET/SADD/ZADD/RPUSH, then EXPIRE for a ttl) and waits until all are acknowledged. */
  async writeRecords(records: readonly DatasetRecord[]): Promise<void> {
    const writer = this.writer()
    await writer.write(records)
    await writer.finish()
  }

  // ---- reading -------------------------------------------------------------------------------

  /** SCAN on every primary (concurrently); yields batches of keys as they arrive. */
  async *scanKeys(options: ScanOptions = {}): AsyncIterable<Buffer[]> {
    const connections = await Promise.all(this.primaries.map((_, i) => this.primaryConnection(i)))
    yield* merge(connections.map((connection) => scanNode(connection, options)))
  }

  /**
   * Every key of the db with its value and TTL presence: SCAN on every primary with pipelined
   * type-aware reads, about four batches in flight in total. Keys that vanish between SCAN and
   * read are left out. typeHint: the type most keys are expected to have (a manifest knows),
   * read first instead of learning it from the first batch.
   */
  async *scanValues(options: ScanOptions & {readsInFlight?: number; typeHint?: ValueType} = {}): AsyncIterable<StoredKey[]> {
    if (options.typeHint !== undefined) this.reader.expect(options.typeHint)
    // About four SCAN batches of reads in flight in total, shared by the primaries (at least one
    // per node): each batch's replies are held until the caller takes them, so the peak heap grows
    // with batches in flight (a 3-node cluster with 4 per node held 12: verify of 100k hashes
    // peaked at 200-230 MB RSS; with 2 per node ~135 MB, string throughput unchanged).
    const window = options.readsInFlight ?? Math.ceil(4 / Math.max(1, this.primaries.length))
    const connections = await Promise.all(this.primaries.map((_, i) => this.primaryConnection(i)))
    const perNode = connections.map((connection) => this.scanNodeValues(connection, options, window))
    yield* merge(perNode)
  }

  /**
   * Runs `read`, one pass over this db's keys (scanValues with `distinct` as given), and returns
   * its result. SCAN may return a key twice when a server resizes its table during the scan:
   * when the pass read more keys than the db holds afterwards (that, or keys expired or were
   * deleted meanwhile), it runs again with repeats left out, so a repeat cannot count twice.
   */
  async readWithoutRepeats<T>(read: (distinct: boolean) => Promise<T>, keysRead: (result: T) => number): Promise<T> {
    const result = await read(false)
    if (keysRead(result) <= (await this.dbsize()).total) return result
    return read(true)
  }

  private async *scanNodeValues(connection: NodeConnection, options: ScanOptions, window: number): AsyncGenerator<StoredKey[]> {
    // A node whose db holds no key with an expiry (INFO keyspace: expires=0, an exact count)
    // needs no PTTL per key: half the commands for the usual TTL-free dataset.
    const withTtl = (await this.expiringKeys(connection)) !== 0
    const reads: Array<Promise<StoredKey[]>> = []
    try {
      // The first batch is read alone: it teaches the reader the dataset's usual type, so the
      // batches after it do not all guess wrong and pay the two extra rounds (TYPE, re-read).
      let first = true
      for await (const keys of scanNode(connection, options)) {
        const read = this.reader.read(keys, withTtl)
        read.catch(() => undefined) // awaited below; this only silences "unhandled" while queued
        reads.push(read)
        if (reads.length >= (first ? 1 : window)) yield present(await reads.shift()!)
        first = false
      }
      while (reads.length > 0) yield present(await reads.shift()!)
    } finally {
      reads.length = 0
    }
  }

  /** Keys with an expiry in this db on one node (INFO keyspace), or undefined when INFO is refused. */
  private async expiringKeys(connection: NodeConnection): Promise<number | undefined> {
    const info = await connection.call(['INFO', 'keyspace'])
    if (info instanceof RespError || info === null) return undefined
    const line = new RegExp(`^db${this.db}:(.*)$`, 'm').exec(String(info))
    if (line === null) return 0
    const expires = /(?:^|,)expires=(\d+)/.exec(line[1])
    return expires === null ? undefined : Number(expires[1])
  }

  /**
   * Values and TTL presence of keys, in order; value null for a key that does not exist.
   * See read-values.ts for the rounds it takes.
   */
  async readValues(keys: readonly Buffer[]): Promise<StoredKey[]> {
    return this.reader.read(keys, true)
  }

  /** Keys in this db, per primary and summed. */
  async dbsize(): Promise<DbSize> {
    const perNode = await Promise.all(
      this.primaries.map(async (primary, i) => ({id: primary.id, address: formatAddress(primary), keys: Number(await this.callOrThrow(await this.primaryConnection(i), ['DBSIZE']))})),
    )
    return {total: perNode.reduce((sum, node) => sum + node.keys, 0), perNode}
  }

  /**
   * Empties this db on every primary (other dbs untouched). ASYNC: the server frees the old
   * keys in the background instead of blocking every client of that primary for the whole
   * free (about a second per million keys); a server too old for ASYNC gets a plain FLUSHDB.
   */
  async flushdb(): Promise<void> {
    await Promise.all(
      this.primaries.map(async (_, i) => {
        const connection = await this.primaryConnection(i)
        const reply = await connection.call(['FLUSHDB', 'ASYNC'])
        // Redis before 4.0 takes no argument ("wrong number of arguments"); others may say "syntax error".
        if (reply instanceof RespError && /syntax|wrong number of arguments/i.test(reply.message)) await this.callOrThrow(connection, ['FLUSHDB'])
        else if (reply instanceof RespError) throw new CommandError(`${connection.address} refused FLUSHDB: ${reply.message}`, reply.message)
      }),
    )
  }

  /**
   * Is the target fit for a cutover? Cluster: every primary reachable and reporting
   * cluster_state:ok, all 16384 slots served, no slot migrating or importing. Standalone: PING.
   */
  async health(): Promise<Health> {
    const problems: string[] = []
    try {
      await this.refreshTopology()
    } catch (error) {
      problems.push(`cannot read the topology: ${(error as Error).message}`)
    }
    if (this.mode === 'cluster') {
      const uncovered = uncoveredRanges(this.slotTable)
      if (uncovered.length > 0) {
        const count = uncovered.reduce((sum, [a, b]) => sum + b - a + 1, 0)
        problems.push(`${count} slots are not served by any primary (${formatRanges(uncovered.slice(0, 5))}${uncovered.length > 5 ? ',…' : ''})`)
      }
    }
    await Promise.all(
      this.primaries.map(async (primary, i) => {
        const address = formatAddress(primary)
        try {
          const connection = await this.primaryConnection(i)
          if (this.mode === 'standalone') {
            const pong = await connection.call(['PING'])
            if (pong !== 'PONG') problems.push(`${address} answered PING with ${describeReply(pong)}`)
            return
          }
          const [info, nodes] = await connection.pipeline([
            ['CLUSTER', 'INFO'],
            ['CLUSTER', 'NODES'],
          ])
          const state = /cluster_state:(\w+)/.exec(String(info))?.[1]
          if (state !== 'ok') problems.push(`node ${address} reports cluster_state:${state ?? describeReply(info)}`)
          problems.push(...migrationProblems(String(nodes), address))
        } catch (error) {
          problems.push(`node ${address} is unreachable: ${(error as Error).message}`)
        }
      }),
    )
    return {ok: problems.length === 0, problems}
  }

  // ---- escape hatches ---------------------------------------------------------------------------

  /** One command on a primary's connection (in this plane's db). Error replies throw CommandError. */
  async command(node: PrimaryInfo, argv: readonly Arg[]): Promise<Reply> {
    return this.callOrThrow(await this.connectionAt(node.host, node.port), argv)
  }

  /** Several commands sent in one write on a primary's connection; error replies are RespError values. */
  async pipeline(node: PrimaryInfo, commands: readonly (readonly Arg[])[]): Promise<Reply[]> {
    return (await this.connectionAt(node.host, node.port)).pipeline(commands)
  }

  /** The shared connection of a primary. Never SELECT on it: open a dedicated() one for another db. */
  connectionFor(node: PrimaryInfo): NodeConnection {
    const index = this.primaries.findIndex((primary) => primary.host === node.host && primary.port === node.port)
    if (index < 0) throw new ConnectionError(`${formatAddress(node)} is not a primary of this target`)
    return this.primaryConnections[index]
  }

  /** A new raw connection to a node, bound to `db` (default: this plane's) and checked; the caller closes it. */
  async dedicated(node: {host: string; port: number}, options: {db?: number} = {}): Promise<NodeConnection> {
    return NodeConnection.open(this.connectionOptions(node.host, node.port, options.db ?? this.db))
  }

  /**
   * A new iovalkey client to a node, bound to `db` (default: this plane's) with the `db` option
   * (re-selected on every reconnect) and checked with CLIENT INFO before it is returned, since
   * iovalkey carries on in db 0 when the server refuses SELECT. The caller must quit() it.
   */
  async dedicatedClient(node: {host: string; port: number}, options: {db?: number} = {}): Promise<Valkey> {
    const db = options.db ?? this.db
    const address = formatAddress(node)
    const client = new Valkey({
      host: node.host,
      port: node.port,
      username: this.target.username,
      password: this.target.password,
      db,
      tls: this.target.tls
        ? {...(isIP(node.host) ? {} : {servername: node.host}), ...(this.target.tlsCa === undefined ? {} : {ca: this.target.tlsCa})}
        : undefined,
      lazyConnect: true,
      connectTimeout: this.connectTimeoutMs ?? 5000,
      maxRetriesPerRequest: 2,
    })
    let lastError: Error | undefined
    client.on('error', (error: Error) => {
      lastError = error
    })
    try {
      await client.connect()
      const info = String(await client.call('CLIENT', 'INFO'))
      const actual = Number(/(?:^| )db=(\d+)/.exec(info)?.[1])
      if (actual !== db) {
        throw new DbNotAvailableError(
          `database ${db} is not available on ${address} (the connection is in db ${actual}${lastError ? `: ${lastError.message}` : ''})`,
          db,
          this.mode === 'cluster' ? clusterDatabasesRemedy(db) : undefined,
        )
      }
      return client
    } catch (error) {
      client.disconnect()
      if (error instanceof PlaneError) throw error
      throw new ConnectionError(`cannot connect to ${address}: ${(error as Error).message}`)
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const all = [...this.connections.values()]
    this.connections.clear()
    await Promise.all(all.map((pending) => pending.then((connection) => connection.close()).catch(() => undefined)))
  }

  // ---- routing and redirects ----------------------------------------------------------------------

  /** @internal the primary connection serving a slot (WriteRouter). */
  connectionForSlot(slot: number): NodeConnection {
    return this.primaryConnections[this.primaryIndexForSlot(slot)]
  }

  /** Primary i's connection, reopened (handshake and db check included) if it broke since. */
  private async primaryConnection(index: number): Promise<NodeConnection> {
    const current = this.primaryConnections[index]
    if (current.isOpen) return current
    const {host, port} = this.primaries[index]
    const reopened = await this.connectionAt(host, port)
    if (this.primaries[index]?.host === host && this.primaries[index]?.port === port) this.primaryConnections[index] = reopened
    return reopened
  }

  private primaryIndexForSlot(slot: number): number {
    const index = this.slotTable[slot]
    if (index === undefined || index < 0) throw new ConnectionError(`slot ${slot} is not served by any primary of ${this.displayUrl}: the cluster is incomplete`)
    return index
  }

  /**
   * Several commands per key (replies key-major: key 0's commands, then key 1's…). A command is
   * a name (sent as `NAME key`, encoded without an argv array: the hot read path) or a function
   * giving the argv. One pipeline per primary; only keys that meet a redirect go through
   * execute() again (all their commands, in order).
   */
  /** @internal */
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
            if (!(reply instanceof RespError) || attempt >= MAX_REDIRECTS) return
            switch (reply.code) {
              case 'MOVED':
                movedTo = reply.message.split(' ')[2]
                nextPending.push(i)
                break
              case 'ASK':
                nextAsk.set(i, reply.message.split(' ')[2])
                nextPending.push(i)
                break
              case 'TRYAGAIN':
              case 'CLUSTERDOWN':
              case 'LOADING':
                mustWait = true
                nextPending.push(i)
                break
            }
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
   * Opens connections to new primaries, each bound to this plane's db.
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

  private connectionOptions(host: string, port: number, db: number | undefined, clusterMode = this.mode === 'cluster'): ConnectionOptions {
    const {tls, tlsCa, username, password} = this.target
    return {host, port, tls, tlsCa, username, password, db, clusterMode, connectTimeoutMs: this.connectTimeoutMs}
  }

  /** The plane's connection to host:port (bound to this plane's db), opened on first use and after it broke. */
  private async connectionAt(host: string, port: number, clusterMode?: boolean): Promise<NodeConnection> {
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

  private async reopen(connection: NodeConnection): Promise<NodeConnection> {
    const index = this.primaryConnections.indexOf(connection)
    return index >= 0 ? this.primaryConnection(index) : this.connectionAt(connection.options.host, connection.options.port)
  }

  private connectionAtAddress(address: string): Promise<NodeConnection> {
    const {host, port} = parseAddress(address)
    return this.connectionAt(host, port)
  }

  private async callOrThrow(connection: NodeConnection, argv: readonly Arg[]): Promise<Reply> {
    const reply = await connection.call(argv)
    if (reply instanceof RespError) throw new CommandError(`${connection.address} refused ${String(argv[0]).toUpperCase()}: ${reply.message}`, reply.message)
    return reply
  }
}

/** Keys that vanished between SCAN and read are left out of a scan. */
function present(stored: StoredKey[]): StoredKey[] {
  return stored.filter((entry) => entry.value !== null)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Whether the server is flip's bundled engine (it answers as Valkey but names itself in INFO's `executable`). */
async function isBundledEngine(connection: NodeConnection): Promise<boolean> {
  const info = await connection.call(['INFO', 'server']).catch(() => undefined)
  return /^executable:.*flip-engine\r?$/m.test(String(info ?? ''))
}
