// What a node process needs for persistence and per-db limits, behind one object the engine
// holds (EngineNode.ops) and calls from a few places: start, the write path, INFO, stop.
import {Keyspace, type Db} from '../keyspace/db.js'
import {DbMemory, type WriteScope} from '../limits/db-memory.js'
import {NodePersistence, type LoadReport} from './node-persistence.js'
import type {SnapshotStats} from './writer.js'

export interface NodeOpsConfig {
  index: number
  mode: 'cluster' | 'standalone'
  databases: number
  /** Nodes of the engine (cluster); 1 standalone. Needed to re-shard snapshots of another shape. */
  nodeCount?: number
  /** Directory of the snapshot files; no persistence without it. */
  snapshotDir?: string
  /** Seconds between periodic saves (default 60; 0 = only on stop). */
  saveSeconds?: number
  /** [db, bytes] limits (a JSON-friendly form of --db-maxmemory). */
  dbMaxMemory?: Array<[number, number]>
}

export class NodeOps {
  constructor(
    readonly memory: DbMemory,
    readonly persistence: NodePersistence | null,
    readonly loaded: LoadReport | null,
  ) {}

  /** Before a write command runs: the OOM message to reply with, or null to go ahead. */
  admit(db: Db, command: string, argv: readonly string[], denyoom: boolean): string | null {
    return this.memory.admit(db, command, argv, denyoom)
  }

  /** Right before the handler of an admitted write; `keys` is only called when a limit needs it. */
  beginWrite(db: Db, command: string, argv: readonly string[], keys: () => readonly string[]): WriteScope | null {
    if (this.persistence !== null) this.persistence.changes++
    if (this.memory.limits.size === 0) return null
    return this.memory.beginWrite(db, command, argv, keys())
  }

  endWrite(scope: WriteScope | null): void {
    if (scope !== null) this.memory.endWrite(scope)
  }

  /** Once the node serves (after the topology arrived). */
  started(getKeyspace: () => Keyspace): void {
    this.persistence?.started(getKeyspace)
  }

  /** BGSAVE: null when persistence is off or a save is already running. */
  save(keyspace: Keyspace): Promise<SnapshotStats | null> {
    return this.persistence ? this.persistence.save(keyspace) : Promise.resolve(null)
  }

  /** SAVE: a synchronous save; null when persistence is off. Throws when the file cannot be written. */
  saveSync(keyspace: Keyspace): SnapshotStats | null {
    return this.persistence ? this.persistence.saveSync(keyspace) : null
  }

  /** Graceful stop: the final snapshot (synchronous; call after the server stopped accepting). */
  shutdown(keyspace: Keyspace): SnapshotStats | null {
    return this.persistence ? this.persistence.saveFinal(keyspace) : null
  }

  /** Extra INFO memory lines: used_memory_dbN / maxmemory_dbN. */
  infoMemoryLines(): string[] {
    return this.memory.infoLines()
  }

  /** INFO persistence lines, or null to keep the engine's defaults (persistence off). */
  infoPersistenceLines(): string[] | null {
    return this.persistence ? this.persistence.infoLines() : null
  }
}

/**
 * Builds a node's keyspace (from its snapshot when there is one) and its NodeOps.
 * Throws SnapshotError (one line, names the file) when a snapshot cannot be used: the node must
 * then refuse to start, leaving the file untouched.
 */
export function openNodeOps(config: NodeOpsConfig, log?: (line: string) => void): {keyspace: Keyspace; ops: NodeOps} {
  let persistence: NodePersistence | null = null
  let loaded: LoadReport | null = null
  let keyspace: Keyspace
  if (config.snapshotDir) {
    persistence = new NodePersistence({
      dir: config.snapshotDir,
      nodeIndex: config.index,
      nodeCount: config.nodeCount ?? 1,
      mode: config.mode,
      databases: config.databases,
      saveSeconds: config.saveSeconds ?? 60,
      log,
    })
    loaded = persistence.load()
    keyspace = loaded.keyspace
  } else {
    keyspace = new Keyspace(config.databases)
  }
  const memory = new DbMemory(keyspace, new Map(config.dbMaxMemory ?? []))
  return {keyspace, ops: new NodeOps(memory, persistence, loaded)}
}
