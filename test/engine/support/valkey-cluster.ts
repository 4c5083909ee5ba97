// Starts a scratch Valkey 9 cluster (3 primaries, cluster-databases 16) from a valkey-server
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
  stop(): Promise<void>
}

export async function startValkeyCluster(binary: string, primaries = 3): Promise<ScratchCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'flip-valkey-'))
  const ports: number[] = []
  const busPorts: number[] = []
  const children: ChildProcess[] = []
  const stop = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())))
    rmSync(dir, {recursive: true, force: true})
  }
  try {
    for (let i = 0; i < primaries; i++) {
      // Fresh client and bus ports (the default bus port, port + 10000, may be taken or beyond 65535).
      const server = await spawnServer(binary, 2, ([port, busPort]) => [
        '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-databases', '16',
        '--save', '', '--appendonly', 'no', '--dir', dir, '--cluster-config-file', `${join(dir, String(port))}.conf`,
      ])
      children.push(server.child)
      ports.push(server.ports[0])
      busPorts.push(server.ports[1])
    }
    const clients = await Promise.all(ports.map((p) => RespClient.connect(p)))
    const ranges = splitSlots(primaries)
    for (let i = 0; i < primaries; i++) {
      await clients[i].call('CLUSTER', 'ADDSLOTSRANGE', String(ranges[i][0]), String(ranges[i][1]))
      if (i > 0) await clients[0].call('CLUSTER', 'MEET', '127.0.0.1', String(ports[i]), String(busPorts[i]))
    }
    const deadline = Date.now() + 60_000
    for (;;) {
      const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO')))
      const ok = infos.every((info) => typeof info === 'string' && info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${primaries}`))
      if (ok) break
      if (Date.now() > deadline) throw new Error('scratch Valkey cluster did not reach cluster_state:ok')
      await new Promise((r) => setTimeout(r, 100))
    }
    for (const c of clients) c.close()
    return {url: `valkey://127.0.0.1:${ports[0]}`, stop}
  } catch (error) {
    await stop()
    throw error
  }
}
