// A real Redis 7 cluster of three Debian redis-server primaries for a test file: slots split as
// `redis-cli --cluster create` would, joined with CLUSTER MEET, ready when every node says
// cluster_state:ok. Admin clients are iovalkey (a client flip's plane does not share code with).
import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Valkey} from 'iovalkey'
import {splitSlots} from '../../../src/util/keyslot.js'
import {spawnServer} from '../../support/redis-server.js'

export interface ClusterNodeHandle {
  port: number
  busPort: number
  id: string
  admin: Valkey
}

export interface RedisCluster {
  nodes: ClusterNodeHandle[]
  url: string
  stop(): Promise<void>
}

export interface ClusterServerOptions {
  /** Server binary, default Debian's redis-server; a valkey-server works the same way. */
  binary?: string
  /** Extra server arguments, e.g. ['--cluster-databases', '16'] for Valkey 9. */
  args?: string[]
  /** requirepass on every node (the returned url carries it). */
  password?: string
}

export async function startRedisCluster(size = 3, options: ClusterServerOptions = {}): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'flip-redis-cluster-'))
  const children: ChildProcess[] = []
  const nodes: ClusterNodeHandle[] = []
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.admin.quit().catch(() => undefined)))
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null) return Promise.resolve()
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        return exited
      }),
    )
    rmSync(dir, {recursive: true, force: true})
  }
  try {
    for (let i = 0; i < size; i++) {
      // The client port and the bus port, both fresh (the default bus port, port + 10000, may be
      // taken or beyond 65535).
      const server = await spawnServer(options.binary ?? 'redis-server', 2, ([port, busPort]) => [
        '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '5000',
        '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.password ? ['--requirepass', options.password, '--masterauth', options.password] : []), ...(options.args ?? []),
      ])
      children.push(server.child)
      const [port, busPort] = server.ports
      const admin = new Valkey({port, host: '127.0.0.1', password: options.password, lazyConnect: true})
      admin.on('error', () => undefined)
      await admin.connect()
      nodes.push({port, busPort, admin, id: String(await admin.call('CLUSTER', 'MYID'))})
    }
    const ranges = splitSlots(size)
    await Promise.all(nodes.map((node, i) => node.admin.call('CLUSTER', 'ADDSLOTSRANGE', ranges[i][0], ranges[i][1])))
    // Node 0 meets everyone; gossip then introduces the others to each other.
    await Promise.all(nodes.slice(1).map((node) => nodes[0].admin.call('CLUSTER', 'MEET', '127.0.0.1', node.port, node.busPort)))
    await waitUntil(async () => {
      const states = await Promise.all(nodes.map((node) => node.admin.call('CLUSTER', 'INFO').then(String)))
      return states.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${size}`))
    }, 60_000)
  } catch (error) {
    await stop()
    throw error
  }
  const credentials = options.password ? `:${encodeURIComponent(options.password)}@` : ''
  return {nodes, url: `redis://${credentials}127.0.0.1:${nodes[0].port}`, stop}
}

/** Moves a slot from one node to another the way redis-cli reshard does (IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE), db 0 only. */
export async function beginSlotMigration(from: ClusterNodeHandle, to: ClusterNodeHandle, slot: number): Promise<void> {
  await to.admin.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id)
  await from.admin.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id)
}

export async function migrateSlotKeys(from: ClusterNodeHandle, to: ClusterNodeHandle, slot: number): Promise<void> {
  for (;;) {
    const keys = (await from.admin.call('CLUSTER', 'GETKEYSINSLOT', slot, 1000)) as string[]
    if (keys.length === 0) return
    await from.admin.call('MIGRATE', '127.0.0.1', to.port, '', 0, 5000, 'KEYS', ...keys)
  }
}

export async function finishSlotMigration(nodes: ClusterNodeHandle[], to: ClusterNodeHandle, slot: number): Promise<void> {
  await to.admin.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id)
  for (const node of nodes) if (node !== to) await node.admin.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id)
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
