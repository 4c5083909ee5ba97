// A scratch Valkey cluster with replicas (N primaries, R replicas each, cluster-databases 16) from
// the valkey-server named by FLIP_TEST_VALKEY_SERVER, for the replica and failover tests. Slots are
// split as valkey-cli --cluster create does; replicas join with CLUSTER REPLICATE. Ready means
// every node says cluster_state:ok and every primary has its R replicas online. Nodes can be
// killed (kill -9) and the test waits for the cluster to settle again (a replica promoted).
import {spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {splitSlots} from '../../src/util/keyslot.js'
import {RespClient, type Wire} from '../engine/support/resp-client.js'
import {spawnServer} from './redis-server.js'

export interface ClusterNode {
  port: number
  id: string
  child: ChildProcess
}

export interface ReplicatedCluster {
  /** valkey://127.0.0.1:<port of primary 0>. */
  url: string
  primaries: ClusterNode[]
  /** replicas[i]: primary i's replicas (as started; roles change after a failover). */
  replicas: ClusterNode[][]
  /** Every node still running. */
  alive(): ClusterNode[]
  /** kill -9, waiting for the process to be gone. */
  kill(node: ClusterNode): Promise<void>
  /** SIGSTOP / SIGCONT: a node that stops answering without closing its connections. */
  pause(node: ClusterNode): void
  resume(node: ClusterNode): void
  /** One command on one node (a fresh connection). */
  call(node: ClusterNode, ...argv: string[]): Promise<Wire>
  /** Until every running node says cluster_state:ok and every serving primary has `replicas` replicas online. */
  settle(options?: {replicas?: number; timeoutMs?: number}): Promise<void>
  /** Until every running node's CLUSTER SHARDS gives `node` this health (online, loading, fail). */
  waitHealth(node: ClusterNode, health: string, timeoutMs?: number): Promise<void>
  /** Port of the node serving slot 0..16383 as primary now, per running node's view (CLUSTER SHARDS of a running node). */
  primaryPorts(): Promise<number[]>
  stop(): Promise<void>
}

/** valkey-server >= 9 from FLIP_TEST_VALKEY_SERVER (or PATH), or undefined: tests skip visibly. */
export function findValkey9(): string | undefined {
  const binary = process.env.FLIP_TEST_VALKEY_SERVER || 'valkey-server'
  const version = spawnSync(binary, ['--version'], {encoding: 'utf8'})
  const major = Number(/v=(\d+)\./.exec(version.stdout ?? '')?.[1])
  return major >= 9 ? binary : undefined
}

export async function startReplicatedCluster(
  binary: string,
  options: {primaries?: number; replicas?: number; nodeTimeoutMs?: number} = {},
): Promise<ReplicatedCluster> {
  const primaryCount = options.primaries ?? 3
  const replicaCount = options.replicas ?? 1
  const dir = mkdtempSync(join(tmpdir(), 'flip-valkey-repl-'))
  const all: ClusterNode[] = []
  const busPorts: number[] = []
  const dead = new Set<ClusterNode>()
  const stop = async () => {
    for (const node of all) {
      if (node.child.exitCode === null && node.child.signalCode === null) {
        node.child.kill('SIGCONT')
        node.child.kill('SIGKILL')
      }
    }
    await Promise.all(all.map((node) => (node.child.exitCode === null && node.child.signalCode === null ? new Promise((r) => node.child.once('exit', r)) : Promise.resolve())))
    rmSync(dir, {recursive: true, force: true})
  }
  const call = async (node: ClusterNode, ...argv: string[]): Promise<Wire> => {
    const client = await RespClient.connect(node.port)
    try {
      return await client.call(...argv)
    } finally {
      client.close()
    }
  }
  try {
    for (let i = 0; i < primaryCount * (1 + replicaCount); i++) {
      const server = await spawnServer(binary, 2, ([port, busPort]) => [
        '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-databases', '16',
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 15_000), '--cluster-replica-validity-factor', '0', '--cluster-allow-replica-migration', 'no',
        // Replicas report their offset soon (CLUSTER SHARDS calls a replica at offset 0 "loading").
        '--repl-ping-replica-period', '1',
        '--save', '', '--appendonly', 'no', '--dir', dir, '--cluster-config-file', `${join(dir, String(port))}.conf`,
      ])
      all.push({port: server.ports[0], id: '', child: server.child})
      busPorts.push(server.ports[1])
    }
    for (const node of all) node.id = String(await call(node, 'CLUSTER', 'MYID')).replace(/^\$/, '')
    const primaries = all.slice(0, primaryCount)
    const replicas = primaries.map((_, i) => all.slice(primaryCount + i * replicaCount, primaryCount + (i + 1) * replicaCount))
    const ranges = splitSlots(primaryCount)
    for (let i = 0; i < primaryCount; i++) await call(primaries[i], 'CLUSTER', 'ADDSLOTSRANGE', String(ranges[i][0]), String(ranges[i][1]))
    for (let i = 1; i < all.length; i++) await call(all[0], 'CLUSTER', 'MEET', '127.0.0.1', String(all[i].port), String(busPorts[i]))
    // A replica can only follow a primary it already knows: retry until gossip has told it.
    for (let i = 0; i < primaryCount; i++) {
      for (const replica of replicas[i]) {
        const deadline = Date.now() + 60_000
        for (;;) {
          const reply = await call(replica, 'CLUSTER', 'REPLICATE', primaries[i].id)
          if (reply === '+OK') break
          if (Date.now() > deadline) throw new Error(`replica ${replica.port} refused CLUSTER REPLICATE: ${String(reply)}`)
          await sleep(100)
        }
      }
    }
    const cluster: ReplicatedCluster = {
      url: `valkey://127.0.0.1:${primaries[0].port}`,
      primaries,
      replicas,
      alive: () => all.filter((node) => !dead.has(node)),
      async kill(node) {
        dead.add(node)
        const exited = new Promise((r) => node.child.once('exit', r))
        node.child.kill('SIGKILL')
        await exited
      },
      pause: (node) => void node.child.kill('SIGSTOP'),
      resume: (node) => void node.child.kill('SIGCONT'),
      call,
      async settle(settleOptions = {}) {
        const wanted = settleOptions.replicas ?? replicaCount
        const deadline = Date.now() + (settleOptions.timeoutMs ?? 60_000)
        let last = ''
        for (;;) {
          try {
            const alive = cluster.alive()
            const infos = await Promise.all(alive.map((node) => call(node, 'CLUSTER', 'INFO')))
            const ok = infos.every((info) => typeof info === 'string' && info.includes('cluster_state:ok'))
            const roles = await Promise.all(alive.map((node) => call(node, 'INFO', 'replication')))
            const masters = roles.filter((info): info is string => typeof info === 'string' && /role:master/.test(info))
            const online = masters.every((info) => (info.match(/state=online/g) ?? []).length >= wanted)
            last = `cluster_state ok everywhere: ${ok}; primaries: ${masters.length}; each with ${wanted} replicas online: ${online}`
            // And every running node looks online to every running node (what flip's pre-flight reads).
            const alivePorts = new Set(alive.map((node) => node.port))
            const views = await Promise.all(alive.map((node) => call(node, 'CLUSTER', 'SHARDS')))
            const seen = views.every((shards) => shardNodes(shards).every((node) => !alivePorts.has(node.port) || node.health === 'online'))
            last += `; all seen online: ${seen}`
            if (ok && online && seen && masters.length >= primaryCount) return
          } catch (error) {
            last = (error as Error).message
          }
          if (Date.now() > deadline) throw new Error(`the replicated Valkey cluster did not settle: ${last}`)
          await sleep(100)
        }
      },
      async waitHealth(node, health, timeoutMs = 60_000) {
        const deadline = Date.now() + timeoutMs
        for (;;) {
          const views = await Promise.all(cluster.alive().map((viewer) => call(viewer, 'CLUSTER', 'SHARDS')))
          if (views.every((shards) => shardNodes(shards).some((seen) => seen.port === node.port && seen.health === health))) return
          if (Date.now() > deadline) throw new Error(`node ${node.port} did not become ${health} in every view`)
          await sleep(100)
        }
      },
      async primaryPorts() {
        const nodes = shardNodes(await call(cluster.alive()[0], 'CLUSTER', 'SHARDS'))
        return nodes.filter((node) => node.role === 'master' && node.health === 'online').map((node) => node.port)
      },
      stop,
    }
    await cluster.settle()
    return cluster
  } catch (error) {
    await stop()
    throw error
  }
}

/** CLUSTER SHARDS in the test client's notation → every node's port, role and health. */
function shardNodes(shards: Wire): Array<{port: number; role: string; health: string}> {
  const out: Array<{port: number; role: string; health: string}> = []
  for (const shard of Array.isArray(shards) ? (shards as Wire[][]) : []) {
    for (const node of shard[shard.indexOf('$nodes') + 1] as Wire[][]) {
      const field = (name: string) => String(node[node.indexOf(`$${name}`) + 1]).replace(/^[$:]/, '')
      out.push({port: Number(field('port')), role: field('role'), health: field('health')})
    }
  }
  return out
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
