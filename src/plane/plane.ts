// The data plane: every data command of flip (stage, verify, diff, status, cutover, rollback)
// talks to the server through one Plane.
//
//   const plane = await connectPlane({url, db: 1})      // url: --url, else FLIP_URL, else VALKEY_URL
//   plane.mode                                         // 'cluster' | 'standalone'
//   plane.primaries                                    // [{id, host, port, slots: [[first, last], …]}]
//   plane.identity()                                   // {mode, nodes: [{id, address, slots}]}: no secrets
//   await plane.databases()                            // CONFIG GET cluster-databases / databases, if allowed
//   await plane.databaseCount()                        // the same, or the reply that refused it
//   plane.nodeForSlot(slot), plane.nodeForKey(key)     // routing (CRC16 + hash tags, src/util/keyslot.ts)
//   await plane.writeRecords(records)                  // write and wait for every acknowledgement
//   const w = plane.writer(); await w.write(batch) …; await w.finish()   // streaming, windowed (stage)
//   for await (const keys of plane.scanKeys({match, count})) …          // SCAN on every primary
//   for await (const stored of plane.scanValues()) …   // SCAN + pipelined reads, the fast verify path
//   await plane.readValues(keys)                       // StoredKey[] in the order of keys
//   await plane.execute([{argv, slot}, …])             // routed, following MOVED/ASK/TRYAGAIN (router.ts)
//   await plane.dbsize(), plane.flushdb(), plane.health()
//   await plane.command(node, argv)                    // one command on that primary (this plane's db); error replies throw
//   await plane.pipeline(node, argvs)                  // several, sent in one write; error replies are RespError values
//   await plane.dedicated(node, {db})                  // a new raw NodeConnection bound to db; the caller closes it
//   await plane.close()
//
// Behind it: connect.ts (URL, password, TLS CA), router.ts (topology, per-node connections bound
// to the db, the redirect executor), health.ts, writer.ts, read-values.ts, scan.ts.
// Database-wide operations (DBSIZE, SCAN, FLUSHDB) run on every primary and are summed.
import type {DatasetRecord, StoredKey, ValueType} from '../dataset/record.js'
import {inFlight} from '../util/in-flight.js'
import {keySlot} from '../util/keyslot.js'
import {type PlaneOptions, resolvePlaneTarget} from './connect.js'
import {type ConnectionOptions, NodeConnection} from './connection.js'
import {CommandError, RespError} from './errors.js'
import {checkHealth, type Health} from './health.js'
import {ValueReader} from './read-values.js'
import type {Arg, Reply} from './resp.js'
import {Router, type RouterTarget} from './router.js'
import {merge, scanNode, type ScanOptions} from './scan.js'
import type {PlaneMode, PrimaryInfo} from './topology.js'
import {formatAddress} from './url.js'
import {RecordWriter, type WriterOptions} from './writer.js'

export type {PlaneOptions} from './connect.js'
export type {Health} from './health.js'
export type {PlaneMode, PrimaryInfo} from './topology.js'
export type {ScanOptions} from './scan.js'
export type {WriterOptions} from './writer.js'
export {RecordWriter} from './writer.js'

export interface TargetIdentity {
  mode: PlaneMode
  nodes: Array<{id: string; address: string; slots: Array<[number, number]>}>
}

export interface DbSize {
  total: number
  perNode: Array<{id: string; address: string; keys: number}>
}

export async function connectPlane(options: PlaneOptions): Promise<Plane> {
  const {target, displayUrl} = resolvePlaneTarget(options)
  const plane = new Plane(target, options.db, options.connectTimeoutMs, displayUrl)
  await plane.init()
  return plane
}

export class Plane {
  private readonly router: Router
  private readonly reader: ValueReader

  /** @internal use connectPlane() */
  constructor(target: RouterTarget, db: number, connectTimeoutMs: number | undefined, displayUrl: string) {
    this.router = new Router(target, db, connectTimeoutMs, displayUrl)
    this.reader = new ValueReader(this.router)
  }

  /** @internal */
  async init(): Promise<void> {
    await this.router.refreshTopology()
  }

  get mode(): PlaneMode {
    return this.router.mode
  }

  get primaries(): PrimaryInfo[] {
    return this.router.primaries
  }

  /** The db every connection of this plane is bound to. */
  get db(): number {
    return this.router.db
  }

  /** The URL with its password hidden. */
  get displayUrl(): string {
    return this.router.displayUrl
  }

  identity(): TargetIdentity {
    return {
      mode: this.mode,
      nodes: this.primaries.map((primary) => ({id: primary.id, address: formatAddress(primary), slots: primary.slots.map(([a, b]) => [a, b])})),
    }
  }

  /** How many dbs the server offers (CONFIG GET cluster-databases in a cluster, databases standalone); undefined when CONFIG is refused. */
  async databases(): Promise<number | undefined> {
    const found = await this.databaseCount()
    return 'count' in found ? found.count : undefined
  }

  /**
   * The db count, or why the server would not say: `refused` is the reply (NOPERM when this
   * user lacks CONFIG GET, ERR on servers that rename or disable CONFIG).
   */
  async databaseCount(): Promise<{count: number} | {refused: string}> {
    const setting = this.mode === 'cluster' ? 'cluster-databases' : 'databases'
    const reply = await this.router
      .primaryConnection(0)
      .then((connection) => connection.call(['CONFIG', 'GET', setting]))
      .catch((error: Error) => new RespError(`ERR ${error.message}`))
    if (reply instanceof RespError) return {refused: reply.message}
    const value = Array.isArray(reply) && reply.length >= 2 ? Number(String(reply[1])) : NaN
    return Number.isSafeInteger(value) ? {count: value} : {refused: `CONFIG GET ${setting} returned no number`}
  }

  nodeForSlot(slot: number): PrimaryInfo {
    return this.router.nodeForSlot(slot)
  }

  nodeForKey(key: Buffer | string): PrimaryInfo {
    return this.nodeForSlot(keySlot(key))
  }

  // ---- routed commands ---------------------------------------------------------------------------

  /**
   * Runs commands routed by slot, grouped per primary and pipelined, following MOVED/ASK/TRYAGAIN
   * (see router.ts). Replies in input order; error replies that survive the retries are RespError values.
   */
  execute(commands: ReadonlyArray<{argv: readonly Arg[]; slot: number}>): Promise<Reply[]> {
    return this.router.execute(commands)
  }

  /** Re-reads the topology, asking `hint` (host:port) first. */
  refreshTopology(hint?: string): Promise<void> {
    return this.router.refreshTopology(hint)
  }

  // ---- writing -------------------------------------------------------------------------------

  /** A streaming writer (stage's path): write() batches as they come, finish() waits for all acks. */
  writer(options?: WriterOptions): RecordWriter {
    return new RecordWriter(this.router, options)
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
    const connections = await this.router.allPrimaryConnections()
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
    // per node): each batch's replies are held until the caller takes them, so the peak heap
    // grows with the batches in flight times the nodes.
    const window = options.readsInFlight ?? Math.ceil(4 / Math.max(1, this.primaries.length))
    const connections = await this.router.allPrimaryConnections()
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
    // The first batch is read alone: it teaches the reader the dataset's usual type, so the
    // batches after it do not all guess wrong and pay the two extra rounds (TYPE, re-read).
    const reads = inFlight(scanNode(connection, options), (keys) => this.reader.read(keys, withTtl), (started) => (started === 1 ? 1 : window))
    for await (const stored of reads) yield present(stored)
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

  // ---- the whole db ----------------------------------------------------------------------------

  /** Keys in this db, per primary and summed. */
  async dbsize(): Promise<DbSize> {
    const perNode = await Promise.all(
      this.primaries.map(async (primary, i) => ({id: primary.id, address: formatAddress(primary), keys: Number(await callOrThrow(await this.router.primaryConnection(i), ['DBSIZE']))})),
    )
    return {total: perNode.reduce((sum, node) => sum + node.keys, 0), perNode}
  }

  /**
   * Empties this db on every primary (other dbs untouched). ASYNC: the server frees the old
   * keys in the background instead of blocking every client of that primary for the whole
   * free; a server too old for ASYNC gets a plain FLUSHDB.
   */
  async flushdb(): Promise<void> {
    await Promise.all(
      this.primaries.map(async (_, i) => {
        const connection = await this.router.primaryConnection(i)
        const reply = await connection.call(['FLUSHDB', 'ASYNC'])
        // Redis before 4.0 takes no argument ("wrong number of arguments"); others may say "syntax error".
        if (reply instanceof RespError && /syntax|wrong number of arguments/i.test(reply.message)) await callOrThrow(connection, ['FLUSHDB'])
        else if (reply instanceof RespError) throw new CommandError(`${connection.address} refused FLUSHDB: ${reply.message}`, reply.message)
      }),
    )
  }

  /** Is the target fit for a cutover? See health.ts. */
  health(): Promise<Health> {
    return checkHealth(this.router)
  }

  // ---- escape hatches ---------------------------------------------------------------------------

  /** One command on a primary's connection (in this plane's db). Error replies throw CommandError. */
  async command(node: PrimaryInfo, argv: readonly Arg[]): Promise<Reply> {
    return callOrThrow(await this.router.connectionAt(node.host, node.port), argv)
  }

  /** Several commands sent in one write on a primary's connection; error replies are RespError values. */
  async pipeline(node: PrimaryInfo, commands: readonly (readonly Arg[])[]): Promise<Reply[]> {
    return (await this.router.connectionAt(node.host, node.port)).pipeline(commands)
  }

  /** A new raw connection to a node, bound to `db` (default: this plane's) and checked; the caller closes it. */
  async dedicated(node: {host: string; port: number}, options: {db?: number} = {}): Promise<NodeConnection> {
    return NodeConnection.open(this.connectionOptions(node, options))
  }

  /**
   * @internal What dedicated() connects with (credentials and TLS included): for test clients
   * that must reach exactly what the plane reaches. Never log it.
   */
  connectionOptions(node: {host: string; port: number}, options: {db?: number} = {}): ConnectionOptions {
    return this.router.connectionOptions(node.host, node.port, options.db ?? this.db)
  }

  async close(): Promise<void> {
    await this.router.close()
  }
}

/** Keys that vanished between SCAN and read are left out of a scan. */
function present(stored: StoredKey[]): StoredKey[] {
  return stored.filter((entry) => entry.value !== null)
}

async function callOrThrow(connection: NodeConnection, argv: readonly Arg[]): Promise<Reply> {
  const reply = await connection.call(argv)
  if (reply instanceof RespError) throw new CommandError(`${connection.address} refused ${String(argv[0]).toUpperCase()}: ${reply.message}`, reply.message)
  return reply
}
