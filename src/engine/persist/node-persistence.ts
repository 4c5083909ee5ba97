// One node's snapshot lifecycle: load at start (refusing bad files), save every `saveSeconds`
// when something changed, and a final save on a graceful stop.
//
// A snapshot written by an engine of another shape (node count or mode) is re-sharded on load:
// every node reads all snapshot files of the directory and keeps the keys of its own slots; the
// nodes then save in the new shape and node 0 removes files of node indexes that no longer exist.
import {existsSync, readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {keySlotOfBytes, splitSlots} from '../../util/keyslot.js'
import {Keyspace} from '../keyspace/db.js'
import {snapshotPath, type SnapshotMeta} from './format.js'
import {loadSnapshot, readSnapshotMeta} from './reader.js'
import {saveSnapshot, saveSnapshotSync, type SnapshotStats} from './writer.js'

export interface PersistenceConfig {
  dir: string
  nodeIndex: number
  nodeCount: number
  mode: 'cluster' | 'standalone'
  databases: number
  /** Seconds between periodic saves; 0 = only on stop. */
  saveSeconds: number
  /** Where progress lines go (the engine log); default none. */
  log?: (line: string) => void
}

export interface LoadReport {
  keyspace: Keyspace
  keys: number
  expired: number
  files: string[]
  resharded: boolean
  ms: number
}

const FILE_PATTERN = /^node-(\d+)\.snapshot$/

export class NodePersistence {
  /** Write commands since the last save (the engine counts them; Valkey's "dirty"). */
  changes = 0
  lastSaveAt: number | null = null
  lastSaveOk = true
  lastSaveStats: SnapshotStats | null = null
  saves = 0
  /** The keyspace came from a snapshot (then lastSaveAt is that snapshot's time). */
  loadedSnapshot = false
  private saving = false
  private timer: NodeJS.Timeout | null = null
  private resharded = false
  private readonly log: (line: string) => void

  constructor(readonly config: PersistenceConfig) {
    this.log = config.log ?? (() => {})
  }

  get path(): string {
    return snapshotPath(this.config.dir, this.config.nodeIndex)
  }

  private get meta(): Omit<SnapshotMeta, 'createdAt'> {
    const {mode, nodeIndex, nodeCount, databases} = this.config
    return {mode, nodeIndex, nodeCount, databases}
  }

  /** Loads this node's keyspace from the directory (a fresh one when there is no snapshot). */
  load(): LoadReport {
    const started = performance.now()
    const {dir, databases, nodeIndex} = this.config
    const names = existsSync(dir) ? readdirSync(dir) : []
    // Temp files of a save that a crash interrupted: never complete, never loaded.
    const ownTemp = `.node-${nodeIndex}.snapshot.`
    for (const name of names) if (name.startsWith(ownTemp) && name.endsWith('.tmp')) rmSync(join(dir, name), {force: true})
    const files = names.filter((f) => FILE_PATTERN.test(f)).map((f) => join(dir, f))
    if (files.length === 0) return {keyspace: new Keyspace(databases), keys: 0, expired: 0, files: [], resharded: false, ms: 0}
    const shapes = files.map((file) => ({file, meta: readSnapshotMeta(file)}))
    const sameShape = shapes.every(({meta}) => meta.mode === this.config.mode && meta.nodeCount === this.config.nodeCount)
    if (sameShape) {
      const own = this.path
      if (!existsSync(own)) return {keyspace: new Keyspace(databases), keys: 0, expired: 0, files: [], resharded: false, ms: 0}
      const loaded = loadSnapshot(own, {databases})
      const ms = performance.now() - started
      this.lastSaveAt = loaded.meta.createdAt
      this.loadedSnapshot = true
      this.log(`node ${nodeIndex}: loaded ${loaded.keys} keys from ${own} in ${Math.round(ms)} ms${loaded.expired ? ` (${loaded.expired} had expired)` : ''}`)
      return {keyspace: loaded.keyspace, keys: loaded.keys, expired: loaded.expired, files: [own], resharded: false, ms}
    }
    // Another shape wrote these files: take this node's slots from all of them.
    const keep = this.ownsKey()
    const keyspace = new Keyspace(databases)
    let keys = 0
    let expired = 0
    try {
      for (const {file} of shapes) {
        const loaded = loadSnapshot(file, {databases, keep})
        keys += loaded.keys
        expired += loaded.expired
        mergeInto(keyspace, loaded.keyspace)
      }
    } catch (error) {
      keyspace.stop()
      throw error
    }
    const ms = performance.now() - started
    this.resharded = true
    this.log(
      `node ${nodeIndex}: re-sharded ${keys} keys from ${files.length} snapshot(s) of a ${describeShape(shapes[0].meta)} engine in ${Math.round(ms)} ms`,
    )
    return {keyspace, keys, expired, files, resharded: true, ms}
  }

  /** Call once the engine serves: starts periodic saves, and finishes a re-shard. */
  started(getKeyspace: () => Keyspace): void {
    if (this.resharded) {
      // A failed save is logged by save(); the old snapshots then stay, as the only complete copy.
      this.save(getKeyspace()).then(
        () => this.removeStaleFiles(),
        () => undefined,
      ).catch((error: unknown) => this.log(`node ${this.config.nodeIndex}: removing stale snapshots failed: ${(error as Error).message}`))
    }
    if (this.config.saveSeconds > 0 && this.timer === null) {
      this.timer = setInterval(() => {
        if (this.changes > 0 || this.lastSaveAt === null) void this.save(getKeyspace()).catch(() => {})
      }, this.config.saveSeconds * 1000)
      this.timer.unref()
    }
  }

  /** Saves now (SAVE/BGSAVE and the periodic timer); concurrent calls share nothing, the second is skipped. */
  async save(keyspace: Keyspace): Promise<SnapshotStats | null> {
    if (this.saving) return null
    this.saving = true
    const changesBefore = this.changes
    try {
      const stats = await saveSnapshot(keyspace, this.path, this.meta)
      this.recordSave(stats, changesBefore)
      return stats
    } catch (error) {
      this.lastSaveOk = false
      this.log(`node ${this.config.nodeIndex}: snapshot failed: ${(error as Error).message}`)
      throw error
    } finally {
      this.saving = false
    }
  }

  /** A synchronous save (SAVE, and the final save of a graceful stop). */
  saveSync(keyspace: Keyspace): SnapshotStats {
    try {
      const stats = saveSnapshotSync(keyspace, this.path, this.meta)
      this.recordSave(stats, this.changes)
      return stats
    } catch (error) {
      this.lastSaveOk = false
      this.log(`node ${this.config.nodeIndex}: snapshot failed: ${(error as Error).message}`)
      throw error
    }
  }

  /** The final save of a graceful stop (synchronous: the process exits right after). */
  saveFinal(keyspace: Keyspace): SnapshotStats {
    this.stop()
    return this.saveSync(keyspace)
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** INFO persistence lines (Valkey's names where they exist). */
  infoLines(): string[] {
    const lastSave = Math.floor((this.lastSaveAt ?? Date.now()) / 1000)
    return [
      'loading:0',
      'async_loading:0',
      `rdb_changes_since_last_save:${this.changes}`,
      `rdb_bgsave_in_progress:${this.saving ? 1 : 0}`,
      `rdb_last_save_time:${lastSave}`,
      `rdb_last_bgsave_status:${this.lastSaveOk ? 'ok' : 'err'}`,
      `rdb_last_bgsave_time_sec:${this.lastSaveStats ? Math.round(this.lastSaveStats.totalMs / 1000) : -1}`,
      `rdb_saves:${this.saves}`,
      `flip_snapshot_loaded:${this.loadedSnapshot ? 1 : 0}`,
      `flip_snapshot_keys:${this.lastSaveStats?.keys ?? 0}`,
      `flip_snapshot_bytes:${this.lastSaveStats?.bytes ?? 0}`,
      `flip_save_seconds:${this.config.saveSeconds}`,
      'aof_enabled:0',
    ]
  }

  private recordSave(stats: SnapshotStats, changesCovered: number): void {
    this.changes = Math.max(0, this.changes - changesCovered)
    this.lastSaveAt = stats.createdAt
    this.lastSaveOk = true
    this.lastSaveStats = stats
    this.saves++
    this.log(`node ${this.config.nodeIndex}: saved ${stats.keys} keys (${stats.bytes} bytes) in ${Math.round(stats.totalMs)} ms`)
  }

  private ownsKey(): ((key: string) => boolean) | undefined {
    if (this.config.mode !== 'cluster') return undefined
    const [from, to] = splitSlots(this.config.nodeCount)[this.config.nodeIndex]
    let scratch = Buffer.allocUnsafe(1024)
    return (key) => {
      if (key.length > scratch.length) scratch = Buffer.allocUnsafe(key.length)
      const n = scratch.latin1Write(key, 0)
      const slot = keySlotOfBytes(scratch, 0, n)
      return slot >= from && slot <= to
    }
  }

  /** After a re-shard, node 0 removes the files of nodes that no longer exist. */
  private removeStaleFiles(): void {
    if (this.config.nodeIndex !== 0) return
    for (const name of readdirSync(this.config.dir)) {
      const match = FILE_PATTERN.exec(name)
      if (match && Number(match[1]) >= this.config.nodeCount) {
        rmSync(join(this.config.dir, name), {force: true})
        this.log(`node 0: removed ${name} (that node no longer exists)`)
      }
    }
  }
}

function mergeInto(target: Keyspace, source: Keyspace): void {
  for (const db of source.existing()) {
    const into = target.db(db.index)
    for (const [key, value] of db.keys) {
      into.set(key, value)
      const at = db.expiryOf(key)
      if (at !== undefined) into.expireAt(key, at)
    }
  }
  source.stop()
}

function describeShape(meta: SnapshotMeta): string {
  return meta.mode === 'standalone' ? 'standalone' : `${meta.nodeCount}-node`
}

