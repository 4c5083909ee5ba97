// The bundled engine's public entry point: starts N node processes (cluster mode, slots split as
// `valkey-cli --cluster create` does) or one standalone node, and supervises them.
import {fork, type ChildProcess} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {splitSlots} from '../util/keyslot.js'
import {randomNodeId, type TopologyNode} from './cluster/topology.js'
import type {NodeConfig} from './node.js'
import type {FromNode, ToNode} from './process-protocol.js'

export interface EngineOptions {
  /** Default 'cluster'. */
  mode?: 'cluster' | 'standalone'
  /** Primaries in cluster mode, default 3 (standalone: always 1). */
  nodes?: number
  /** Exact ports, one per node; or basePort, basePort+1, ...; default: free ephemeral ports. */
  ports?: number[]
  basePort?: number
  /** Bind address, default '127.0.0.1'. */
  host?: string
  /** cluster-databases (cluster) or databases (standalone), default 16. */
  databases?: number
  /** requirepass on every node. */
  password?: string
  /** How long a node may take to come up, default 30 s. */
  startTimeoutMs?: number
  /** Snapshot directory: each node loads node-<i>.snapshot at start, saves periodically and on stop. */
  snapshotDir?: string
  /** Seconds between snapshots when something changed (default 60; 0 = only on stop). */
  saveSeconds?: number
  /** Per-db memory limits as [db, bytes] pairs (--db-maxmemory). */
  dbMaxMemory?: Array<[number, number]>
  /** Valkey's maxclients on every node (default 10000; CONFIG SET maxclients changes it later). */
  maxclients?: number
}

export interface EngineNodeInfo {
  index: number
  id: string
  host: string
  port: number
  pid: number
  slots: Array<[number, number]>
}

export interface EngineHandle {
  mode: 'cluster' | 'standalone'
  nodes: EngineNodeInfo[]
  /** e.g. 'valkey://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002' (never holds the password). */
  seedUrl: string
  /** Clean stop of every node process. */
  stop(): Promise<void>
  /** Kills one node (default SIGKILL) and waits for it to exit; the others keep serving. */
  killNode(index: number, signal?: NodeJS.Signals): Promise<void>
  /** Resolves when every node has exited. */
  exited: Promise<void>
}

interface NodeProcess {
  child: ChildProcess
  exited: Promise<void>
}

const MAX_DATABASES = 2147483647

function nodeEntry(): {path: string; execArgv: string[]} {
  const fromSources = import.meta.url.endsWith('.ts')
  const path = fileURLToPath(new URL(fromSources ? './node-process.ts' : './node-process.js', import.meta.url))
  // Under vitest/tsx the sources are TypeScript: the child needs tsx's loader too.
  return {path, execArgv: fromSources ? ['--import', import.meta.resolve('tsx')] : []}
}

function waitFor(child: ChildProcess, type: FromNode['type'], what: string, timeoutMs: number): Promise<FromNode> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`engine node did not ${what} within ${timeoutMs} ms`)), timeoutMs)
    const onMessage = (message: FromNode) => {
      if (message.type === type) finish(null, message)
      else if (message.type === 'failed') finish(Object.assign(new Error(message.message), {code: message.code}))
    }
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`engine node exited while starting (${signal ?? `code ${code}`})`))
    function finish(error: Error | null, message?: FromNode) {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      if (error) reject(error)
      else resolve(message!)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

function spawnNode(): NodeProcess {
  const {path, execArgv} = nodeEntry()
  const child = fork(path, [], {execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json'})
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  return {child, exited}
}

function send(child: ChildProcess, message: ToNode): void {
  if (child.connected) child.send(message)
}

async function killAll(processes: NodeProcess[]): Promise<void> {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL')
  await Promise.all(processes.map((p) => p.exited))
}

export async function startEngine(options: EngineOptions = {}): Promise<EngineHandle> {
  const mode = options.mode ?? 'cluster'
  const count = mode === 'standalone' ? 1 : options.nodes ?? 3
  const host = options.host ?? '127.0.0.1'
  const databases = options.databases ?? 16
  const timeoutMs = options.startTimeoutMs ?? 30_000
  if (!Number.isInteger(count) || count < 1 || count > 16384) throw new Error(`nodes must be 1..16384, got ${count}`)
  if (!Number.isInteger(databases) || databases < 1 || databases > MAX_DATABASES) {
    throw new Error(`databases must be 1..${MAX_DATABASES}, got ${databases}`)
  }
  let ports: number[]
  if (options.ports) {
    if (options.ports.length !== count) throw new Error(`${count} node(s) need ${count} port(s), got ${options.ports.length}`)
    ports = options.ports
  } else if (options.basePort !== undefined) ports = Array.from({length: count}, (_, i) => options.basePort! + i)
  else ports = new Array(count).fill(0)

  const processes = ports.map(() => spawnNode())
  try {
    const listening = await Promise.all(
      processes.map(async (p, index) => {
        const config: NodeConfig = {
          index,
          mode,
          databases,
          host,
          port: ports[index],
          password: options.password,
          nodeCount: count,
          snapshotDir: options.snapshotDir,
          saveSeconds: options.saveSeconds,
          dbMaxMemory: options.dbMaxMemory,
          maxclients: options.maxclients,
        }
        const ready = waitFor(p.child, 'listening', 'start listening', timeoutMs)
        send(p.child, {type: 'start', config})
        try {
          return ((await ready) as {port: number}).port
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${ports[index]} is already in use`)
          if ((error as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') throw new Error(`address ${host} is not available on this machine`)
          throw error
        }
      }),
    )
    const slotRanges = mode === 'cluster' ? splitSlots(count) : [[0, 16383] as [number, number]]
    const topology: TopologyNode[] = listening.map((port, index) => ({
      index,
      id: randomNodeId(),
      shardId: randomNodeId(),
      host,
      port,
      slots: [slotRanges[index]],
    }))
    await Promise.all(
      processes.map((p, index) => {
        const ready = waitFor(p.child, 'ready', 'become ready', timeoutMs)
        send(p.child, {type: 'topology', nodes: topology, myIndex: index})
        return ready
      }),
    )
    const nodes: EngineNodeInfo[] = topology.map((t, index) => ({
      index,
      id: t.id,
      host,
      port: t.port,
      pid: processes[index].child.pid!,
      slots: mode === 'cluster' ? t.slots : [],
    }))
    return {
      mode,
      nodes,
      seedUrl: 'valkey://' + nodes.map((n) => `${urlHost(n.host)}:${n.port}`).join(','),
      exited: Promise.all(processes.map((p) => p.exited)).then(() => undefined),
      async stop() {
        await Promise.all(
          processes.map(async (p) => {
            if (p.child.exitCode !== null || p.child.signalCode !== null) return
            send(p.child, {type: 'stop'})
            // Leave time for the final snapshot when persistence is on.
            const timer = setTimeout(() => p.child.kill('SIGKILL'), options.snapshotDir ? 120_000 : 5000)
            await p.exited
            clearTimeout(timer)
          }),
        )
      },
      async killNode(index: number, signal: NodeJS.Signals = 'SIGKILL') {
        const p = processes[index]
        if (!p) throw new Error(`no engine node ${index}`)
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal)
        await p.exited
      },
    }
  } catch (error) {
    await killAll(processes)
    throw error
  }
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}
