// The state of one engine node (one process): configuration, keyspace, cluster view, clients,
// WATCH registry, SCAN cursors and the script engine.
import {Acl} from './acl/index.js'
import type {Client} from './client.js'
import type {Topology} from './cluster/topology.js'
import {Keyspace, type Db} from './keyspace/db.js'
import {ClientLimits} from './limits/client-limits.js'
import type {NodeOps} from './persist/node-ops.js'
import type {ScriptEngineLike} from './scripting-host.js'

export interface NodeConfig {
  index: number
  mode: 'cluster' | 'standalone'
  databases: number
  host: string
  port: number
  password?: string
  /** Engine size, for re-sharding a snapshot of another shape (persist/). */
  nodeCount?: number
  /** Snapshot directory: load at start, save periodically and on stop (persist/). */
  snapshotDir?: string
  saveSeconds?: number
  /** Per-db memory limits as [db, bytes] (limits/). */
  dbMaxMemory?: Array<[number, number]>
  /** Valkey's maxclients (default 10000). */
  maxclients?: number
}

export class EngineNode {
  readonly keyspace: Keyspace
  /** Users, ACL LOG and authentication; per node, as ACL is per node in a Valkey cluster. */
  readonly acl: Acl
  /** Persistence and per-db limits; null for engines started without them. */
  ops: NodeOps | null = null
  topology: Topology | null = null
  readonly clients = new Set<Client>()
  /** maxclients, proto-max-bulk-len, query and output buffer limits (CONFIG GET/SET). */
  readonly limits = new ClientLimits()
  nextClientId = 1
  scripts: ScriptEngineLike | null = null
  /** The fake client scripts run their commands as (Valkey's script client). */
  scriptClient: Client | null = null
  scriptsUnavailable = 'ERR scripting is not available in this engine build'
  /**
   * The command time while a script or EXEC runs: Valkey updates its cached clock only between
   * top-level commands, so TIME inside a script or a transaction returns the moment it started.
   */
  frozenTimeUs: bigint | null = null
  readonly startedAt = Date.now()
  totalCommands = 0
  /** Error replies to top-level commands (INFO total_error_replies). */
  totalErrorReplies = 0
  totalConnections = 0
  lastSave = Math.floor(Date.now() / 1000)
  /** Settings CONFIG SET may change that nothing else reads. */
  readonly settings = new Map<string, string>([
    ['save', ''],
    ['appendonly', 'no'],
    ['maxmemory', '0'],
    ['maxmemory-policy', 'noeviction'],
  ])

  /** WATCHed keys: db → key → watching clients. Empty unless someone WATCHes. */
  readonly watchers = new Map<Db, Map<string, Set<Client>>>()
  watchCount = 0

  /** Live SCAN iterators by cursor number (Map iterators survive inserts and deletes). */
  readonly cursors = new Map<number, Iterator<string>>()
  nextCursor = 1

  constructor(
    readonly config: NodeConfig,
    keyspace?: Keyspace,
  ) {
    this.keyspace = keyspace ?? new Keyspace(config.databases)
    this.acl = new Acl(config.password)
    if (config.maxclients !== undefined) this.limits.maxclients = config.maxclients
  }

  get cluster(): boolean {
    return this.config.mode === 'cluster'
  }

  /** Marks clients WATCHing key in db as dirty (Valkey's touchWatchedKey). */
  touchKey(db: Db, key: string): void {
    if (this.watchCount === 0) return
    const clients = this.watchers.get(db)?.get(key)
    if (clients) for (const c of clients) c.watchDirty = true
  }

  /** Marks every client WATCHing a key of db that exists (FLUSHDB/SWAPDB: touchAllWatchedKeysInDb). */
  touchDb(db: Db, other?: Db): void {
    if (this.watchCount === 0) return
    const keys = this.watchers.get(db)
    if (!keys) return
    for (const [key, clients] of keys) {
      if (db.keys.has(key) || (other && other.keys.has(key))) for (const c of clients) c.watchDirty = true
    }
  }

  watch(client: Client, db: Db, key: string): void {
    if (client.watched.some((w) => w.db === db && w.key === key)) return
    let keys = this.watchers.get(db)
    if (!keys) this.watchers.set(db, (keys = new Map()))
    let clients = keys.get(key)
    if (!clients) keys.set(key, (clients = new Set()))
    clients.add(client)
    client.watched.push({db, key})
    this.watchCount++
  }

  unwatchAll(client: Client): void {
    for (const {db, key} of client.watched) {
      const keys = this.watchers.get(db)
      const clients = keys?.get(key)
      if (!clients) continue
      clients.delete(client)
      this.watchCount--
      if (clients.size === 0) keys!.delete(key)
      if (keys!.size === 0) this.watchers.delete(db)
    }
    client.watched = []
    client.watchDirty = false
  }

  /** Registers a SCAN iterator and returns its cursor; bounded so abandoned scans cost little. */
  saveCursor(iterator: Iterator<string>): number {
    if (this.cursors.size >= 10_000) {
      const oldest = this.cursors.keys().next().value
      if (oldest !== undefined) this.cursors.delete(oldest)
    }
    const cursor = this.nextCursor++
    if (this.nextCursor > 2 ** 52) this.nextCursor = 1
    this.cursors.set(cursor, iterator)
    return cursor
  }

  takeCursor(cursor: number): Iterator<string> | undefined {
    const it = this.cursors.get(cursor)
    if (it) this.cursors.delete(cursor)
    return it
  }
}

/** Current time in microseconds since the epoch, as TIME reports it. */
export function nowMicros(): bigint {
  return BigInt(Date.now()) * 1000n + (process.hrtime.bigint() / 1000n) % 1000n
}

/** Runs `body` with the node's command time frozen (nested runs keep the outer moment). */
export function withFrozenTime<T>(node: EngineNode, body: () => T): T {
  if (node.frozenTimeUs !== null) return body()
  node.frozenTimeUs = nowMicros()
  try {
    return body()
  } finally {
    node.frozenTimeUs = null
  }
}
