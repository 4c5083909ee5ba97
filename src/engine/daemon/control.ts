// `flip engine stop` and `flip engine status` for the engine running from a directory.
import {existsSync, readdirSync} from 'node:fs'
import {join, resolve as resolvePath} from 'node:path'
import {readSnapshotMeta} from '../persist/reader.js'
import {isAlive, readPid, readState, removeRunFiles, type DaemonState} from './files.js'
import {Probe, ProbeError, parseInfo} from './probe.js'

export interface StopResult {
  /** False when nothing was running. */
  stopped: boolean
  pid?: number
  seconds?: number
}

/** Graceful stop: SIGTERM, then wait for the process (final snapshot included) to exit. */
export async function stopDaemon(dirOption: string, timeoutMs = 120_000): Promise<StopResult> {
  const dir = resolvePath(dirOption)
  const pid = readPid(dir)
  if (pid === undefined || !isAlive(pid)) {
    removeRunFiles(dir)
    return {stopped: false}
  }
  const started = Date.now()
  process.kill(pid, 'SIGTERM')
  while (isAlive(pid)) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`the engine (pid ${pid}) did not stop within ${Math.round(timeoutMs / 1000)} s; it may still be writing its snapshot`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  removeRunFiles(dir)
  return {stopped: true, pid, seconds: (Date.now() - started) / 1000}
}

export interface NodeStatus {
  index: number
  host: string
  port: number
  pid: number
  slots: Array<[number, number]>
  up: boolean
  /** Why the node could not be asked (down, wrong password). */
  error?: string
  keys: number
  usedMemoryBytes?: number
  lastSnapshotAt?: string
}

export interface EngineStatus {
  running: boolean
  dir: string
  pid?: number
  seedUrl?: string
  mode?: 'cluster' | 'standalone'
  startedAt?: string
  uptimeSeconds?: number
  databases?: number
  passwordRequired?: boolean
  nodes: NodeStatus[]
  /** Keys per database, summed over nodes ("5" → 1000). */
  keysPerDb: Record<string, number>
  totalKeys: number
  /** Estimated bytes per database (the per-db limit accounting), summed over nodes. */
  memoryPerDb: Record<string, number>
  /** Engine memory (heap + buffers), summed over nodes. */
  usedMemoryBytes: number
  dbMaxMemory: Record<string, number>
  /** The oldest of the nodes' last snapshots (the point every node's data is saved up to). */
  lastSnapshotAt: string | null
  snapshots: Array<{file: string; createdAt: string; nodeIndex: number}>
}

/** Everything status shows; asks every node over RESP when the engine runs. */
export async function engineStatus(dirOption: string, password?: string): Promise<EngineStatus> {
  const dir = resolvePath(dirOption)
  const snapshots = snapshotFiles(dir)
  const pid = readPid(dir)
  const state = readState(dir)
  const base: EngineStatus = {
    running: false,
    dir,
    nodes: [],
    keysPerDb: {},
    totalKeys: 0,
    memoryPerDb: {},
    usedMemoryBytes: 0,
    dbMaxMemory: {},
    lastSnapshotAt: oldest(snapshots.map((s) => s.createdAt)),
    snapshots,
  }
  if (pid === undefined || !isAlive(pid) || state === undefined || state.pid !== pid) return base
  const status: EngineStatus = {
    ...base,
    running: true,
    pid,
    seedUrl: state.seedUrl,
    mode: state.mode,
    startedAt: state.startedAt,
    uptimeSeconds: Math.round((Date.now() - Date.parse(state.startedAt)) / 1000),
    databases: state.databases,
    passwordRequired: state.passwordRequired,
    dbMaxMemory: Object.fromEntries(state.dbMaxMemory.map(([db, bytes]) => [String(db), bytes])),
  }
  const answers = await Promise.all(state.nodes.map((node) => nodeStatus(node, password)))
  status.nodes = answers.map((a) => a.status)
  const saves = status.nodes.flatMap((n) => (n.lastSnapshotAt ? [n.lastSnapshotAt] : []))
  for (const {info} of answers) {
    if (info === null) continue
    for (const [field, value] of Object.entries(info)) {
      const keyspace = /^db(\d+)$/.exec(field)
      if (keyspace) {
        const keys = Number(/keys=(\d+)/.exec(value)?.[1] ?? 0)
        status.keysPerDb[keyspace[1]] = (status.keysPerDb[keyspace[1]] ?? 0) + keys
        status.totalKeys += keys
      }
      const memory = /^used_memory_db(\d+)$/.exec(field)
      if (memory) status.memoryPerDb[memory[1]] = (status.memoryPerDb[memory[1]] ?? 0) + Number(value)
    }
    status.usedMemoryBytes += Number(info.used_memory ?? 0)
  }
  if (saves.length === status.nodes.length && saves.length > 0) status.lastSnapshotAt = oldest(saves)
  return status
}

async function nodeInfo(node: DaemonState['nodes'][number], password?: string): Promise<Record<string, string>> {
  const probe = await Probe.connect(node.host, node.port, {password})
  try {
    const reply = await probe.command('INFO')
    if (reply instanceof ProbeError) throw reply
    return parseInfo(String(reply))
  } finally {
    probe.close()
  }
}

async function nodeStatus(
  node: DaemonState['nodes'][number],
  password?: string,
): Promise<{status: NodeStatus; info: Record<string, string> | null}> {
  let info: Record<string, string> | null = null
  const status: NodeStatus = {index: node.index, host: node.host, port: node.port, pid: node.pid, slots: node.slots, up: false, keys: 0}
  try {
    info = await nodeInfo(node, password)
    status.up = true
    for (const [field, value] of Object.entries(info)) {
      if (/^db\d+$/.test(field)) status.keys += Number(/keys=(\d+)/.exec(value)?.[1] ?? 0)
    }
    if (info.used_memory) status.usedMemoryBytes = Number(info.used_memory)
    // Before a first save (or loaded snapshot) rdb_last_save_time is only the start time.
    if (info.rdb_last_save_time && Number(info.rdb_saves ?? 0) + Number(info.flip_snapshot_loaded ?? 0) > 0) {
      status.lastSnapshotAt = new Date(Number(info.rdb_last_save_time) * 1000).toISOString()
    }
  } catch (error) {
    const message = error instanceof ProbeError ? error.message : (error as NodeJS.ErrnoException).code ?? (error as Error).message
    status.error = /^NOAUTH|^WRONGPASS/.test(message)
      ? `${message.split(' ')[0]}: set FLIP_ENGINE_PASSWORD to the engine's password`
      : `not answering (${message})`
    status.up = /^NOAUTH|^WRONGPASS/.test(message)
  }
  return {status, info}
}

function snapshotFiles(dir: string): EngineStatus['snapshots'] {
  if (!existsSync(dir)) return []
  const out: EngineStatus['snapshots'] = []
  for (const name of readdirSync(dir).sort()) {
    if (!/^node-\d+\.snapshot$/.test(name)) continue
    try {
      const meta = readSnapshotMeta(join(dir, name))
      out.push({file: join(dir, name), createdAt: new Date(meta.createdAt).toISOString(), nodeIndex: meta.nodeIndex})
    } catch {
      // A bad file shows up when the engine refuses it; status lists the good ones.
    }
  }
  return out
}

function oldest(isoTimes: string[]): string | null {
  if (isoTimes.length === 0) return null
  return isoTimes.reduce((a, b) => (a < b ? a : b))
}
