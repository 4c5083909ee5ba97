// Starts a scratch Valkey 9 cluster (3 primaries, optionally with replicas, cluster-databases 16) from a valkey-server
// binary named by FLIP_TEST_VALKEY_SERVER, so the conformance suite can check the engine against
// the real thing without any shared cluster. Slots are assigned as valkey-cli --cluster create does.
import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {splitSlots} from '../../../src/util/keyslot.js'
import {spawnServer} from '../../support/redis-server.js'
import {RespClient} from './resp-client.js'

export interface ScratchCluster {
  url: string
  /** Ports of the replicas (`replicas` per primary, primary i's first), empty without them. */
  replicaPorts: number[]
  /** SIGKILLs replica i (an unreachable replica, as its primary still lists it). */
  killReplica(i: number): Promise<void>
  stop(): Promise<void>
}

/**
 * `options.replicas`: replicas per primary (default 0: primaries only, as before), each attached
 * with CLUSTER REPLICATE and waited for until its primary reports it online. `options.databases`:
 * cluster-databases (default 16).
 */
export async function startValkeyCluster(binary: string, primaries = 3, options: {replicas?: number; databases?: number} = {}): Promise<ScratchCluster> {
  const replicasPer = options.replicas ?? 0
  const total = primaries * (1 + replicasPer)
  const dir = mkdtempSync(join(tmpdir(), 'flip-valkey-'))
  const ports: number[] = []
  const busPorts: number[] = []
  const children: ChildProcess[] = []
  const kill = async (child: ChildProcess) => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGKILL')
      await exited
    }
  }
  const stop = async () => {
    await Promise.all(children.map(kill))
    rmSync(dir, {recursive: true, force: true})
  }
  try {
    for (let i = 0; i < total; i++) {
      // Fresh client and bus ports (the default bus port, port + 10000, may be taken or beyond 65535).
      const server = await spawnServer(binary, 2, ([port, busPort]) => [
        '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-databases', String(options.databases ?? 16),
        '--save', '', '--appendonly', 'no', '--dir', dir, '--cluster-config-file', `${join(dir, String(port))}.conf`,
      ])
      children.push(server.child)
      ports.push(server.ports[0])
      busPorts.push(server.ports[1])
    }
    const clients = await Promise.all(ports.map((p) => RespClient.connect(p)))
    const ranges = splitSlots(primaries)
    for (let i = 0; i < primaries; i++) await clients[i].call('CLUSTER', 'ADDSLOTSRANGE', String(ranges[i][0]), String(ranges[i][1]))
    for (let i = 1; i < total; i++) await clients[0].call('CLUSTER', 'MEET', '127.0.0.1', String(ports[i]), String(busPorts[i]))
    const deadline = Date.now() + 60_000
    const waitFor = async (what: string, ready: () => Promise<boolean>) => {
      while (!(await ready())) {
        if (Date.now() > deadline) throw new Error(`scratch Valkey cluster: ${what} within 60s`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    const allInfo = (text: string) => async () => (await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO')))).every((info) => typeof info === 'string' && info.includes(text))
    await waitFor(`all ${total} nodes did not meet`, allInfo(`cluster_known_nodes:${total}`))
    if (replicasPer > 0) {
      const ids = await Promise.all(clients.slice(0, primaries).map(async (c) => String(await c.call('CLUSTER', 'MYID')).replace(/^\$/, '')))
      for (let r = 0; r < primaries * replicasPer; r++) {
        const replica = clients[primaries + r]
        const of = Math.floor(r / replicasPer)
        // A replica learns its primary's role by gossip: retry until it accepts.
        await waitFor('a replica did not accept CLUSTER REPLICATE', async () => (await replica.call('CLUSTER', 'REPLICATE', ids[of])) === '+OK')
      }
      await waitFor('the replicas did not come online', async () => {
        const infos = await Promise.all(clients.slice(0, primaries).map((c) => c.call('INFO', 'replication')))
        return infos.every((info) => typeof info === 'string' && (info.match(/^slave\d+:.*state=online/gm) ?? []).length === replicasPer)
      })
    }
    await waitFor('cluster_state did not reach ok', allInfo('cluster_state:ok'))
    for (const c of clients) c.close()
    return {
      url: `valkey://127.0.0.1:${ports[0]}`,
      replicaPorts: ports.slice(primaries),
      killReplica: (i) => kill(children[primaries + i]),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
