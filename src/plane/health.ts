// Is the target fit for a cutover? Read through the router's own connections, so what is
// checked is what the cutover will use.
import {describeReply} from './errors.js'
import type {Router} from './router.js'
import {formatRanges, migrationProblems, uncoveredRanges, type PrimaryInfo} from './topology.js'
import {formatAddress} from './url.js'

export interface Health {
  ok: boolean
  problems: string[]
}

/**
 * Cluster: every primary reachable and reporting cluster_state:ok, all 16384 slots served, no
 * slot migrating or importing. Standalone: PING. The topology is read again first.
 */
export async function checkHealth(router: Router): Promise<Health> {
  const problems: string[] = []
  try {
    await router.refreshTopology()
  } catch (error) {
    problems.push(`cannot read the topology: ${(error as Error).message}`)
  }
  if (router.mode === 'cluster') {
    const uncovered = uncoveredRanges(router.slotTable)
    if (uncovered.length > 0) {
      const count = uncovered.reduce((sum, [a, b]) => sum + b - a + 1, 0)
      problems.push(`${count} slots are not served by any primary (${formatRanges(uncovered.slice(0, 5))}${uncovered.length > 5 ? ',…' : ''})`)
    }
  }
  await Promise.all(
    router.primaries.map(async (primary, i) => {
      const address = formatAddress(primary)
      try {
        const connection = await router.primaryConnection(i)
        if (router.mode === 'standalone') {
          const pong = await connection.call(['PING'])
          if (pong !== 'PONG') problems.push(`${address} answered PING with ${describeReply(pong)}`)
          return
        }
        const [info, nodes] = await connection.pipeline([
          ['CLUSTER', 'INFO'],
          ['CLUSTER', 'NODES'],
        ])
        const state = /cluster_state:(\w+)/.exec(String(info))?.[1]
        if (state !== 'ok') problems.push(`node ${address} reports cluster_state:${state ?? describeReply(info)}`)
        problems.push(...migrationProblems(String(nodes), address))
      } catch (error) {
        problems.push(`node ${address} is unreachable: ${(error as Error).message}`)
      }
    }),
  )
  return {ok: problems.length === 0, problems}
}

/**
 * A shard with fewer replicas online than it has (a replica failed or still loading; read with
 * the topology, so after health()): one line naming the primary and the replica, else nothing.
 * "primary A has 0 of 1 replicas online: B is fail", or nothing when every member serves. */
export function degradedShard(primary: PrimaryInfo): string[] {
  const down = primary.replicas.filter((replica) => replica.health !== 'online')
  if (down.length === 0) return []
  const online = primary.replicas.length - down.length
  const which = down.map((replica) => `${formatAddress(replica)} is ${replica.health}`).join(', ')
  return [`primary ${formatAddress(primary)} has ${online} of ${primary.replicas.length} replicas online (${which})`]
}
