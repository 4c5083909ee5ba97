// Issue 13, replicas: the built CLI against real Valkey 9.1 clusters with one replica per primary
// (test/support/valkey-replicated.ts), under FLIP_TEST_VALKEY_SERVER only (skipped visibly
// otherwise). The cutover and the rollback wait for each primary's replicas and report the lag;
// a replica that does not catch up fails the check; pre-flight refuses a degraded shard unless
// --allow-degraded; a primary killed (kill -9) mid-switch and mid-rollback stops flip with exit 3
// naming it, and after its replica is promoted --resume / the same rollback finish with nothing
// lost over live + shadow + archive.
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {addSummaries, summary} from '../../src/cutover/state.js'
import {scanDb} from '../../src/ops/db-checksum.js'
import {connectPlane} from '../../src/plane/plane.js'
import type {DbSummary} from '../../src/cutover/plan.js'
import {flip as runFlip, type Run} from '../support/cli-run.js'
import {tempDir} from '../support/temp.js'
import {until} from '../support/wait.js'
import {findValkey9, startReplicatedCluster, type ReplicatedCluster} from '../support/valkey-replicated.js'

const binary = findValkey9()

interface Replicas {
  primary: string
  replicas: number
  acked: number
  lagMs: number
}

/** What the tests read of a cutover or rollback --json document. */
interface Doc {
  replicas: Replicas[]
  verified: {ok: boolean}
}

/** One JSON document from `flip … --json`. */
function json(run: Run): {code: number; doc: Doc} {
  try {
    return {code: run.code, doc: JSON.parse(run.stdout)}
  } catch {
    throw new Error(`not one JSON document (exit ${run.code}):\n${run.stdout}\n${run.stderr}`)
  }
}

function writeCatalog(dir: string, name: string, count: number, night: number): string {
  const lines = Array.from({length: count}, (_, i) => JSON.stringify({key: `price:${i + night * 500}`, value: `${night}.${i}`}))
  writeFileSync(join(dir, name), lines.join('\n') + '\n')
  return name
}

async function dbSummary(url: string, db: number): Promise<DbSummary> {
  const plane = await connectPlane({url, db})
  try {
    return summary((await scanDb(plane)).checksum)
  } finally {
    await plane.close()
  }
}

async function dbs(url: string): Promise<{live: DbSummary; shadow: DbSummary; archive: DbSummary}> {
  return {live: await dbSummary(url, 0), shadow: await dbSummary(url, 1), archive: await dbSummary(url, 2)}
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

if (binary === undefined) {
  describe('replicas and failover (Valkey 9.1 cluster with replicas)', () => {
    it.skip('skipped: no valkey-server >= 9 (set FLIP_TEST_VALKEY_SERVER=/path/to/valkey-server)', () => {})
  })
} else {
  describe('a Valkey 9.1 cluster, 3 primaries with 1 replica each', () => {
    let cluster: ReplicatedCluster
    let dir: string
    const flip = (args: string[], env: NodeJS.ProcessEnv = {}) => runFlip(dir, args, {FLIP_URL: cluster.url, FLIP_STATE_DIR: join(dir, 'state'), ...env})

    beforeAll(async () => {
      cluster = await startReplicatedCluster(binary, {primaries: 3, replicas: 1})
      dir = tempDir('flip-replicas-')
    })
    afterAll(async () => {
      await cluster?.stop()
    })

    it('waits for every primary’s replica after the switch and after the rollback, and reports the lag (batched and --atomic)', async () => {
      const lags = new Map<string, number[]>()
      const record = (acks: Replicas[]) => {
        for (const ack of acks) lags.set(ack.primary, [...(lags.get(ack.primary) ?? []), ack.lagMs])
      }
      expect((await flip(['stage', writeCatalog(dir, 'v1.ndjson', 3000, 1)])).code).toBe(0)
      const first = json(await flip(['cutover', '--yes', '--json']))
      expect(first.code).toBe(0)
      const primaries = (await cluster.primaryPorts()).map((port) => `127.0.0.1:${port}`).sort()
      expect(first.doc.replicas.map((ack: Replicas) => ack.primary)).toEqual(primaries)
      for (const ack of first.doc.replicas as Replicas[]) {
        expect(ack).toMatchObject({replicas: 1, acked: 1})
        expect(ack.lagMs).toBeGreaterThanOrEqual(0)
      }
      record(first.doc.replicas)
      // --atomic, in the human form: each primary's replica named, and when the last one had it.
      expect((await flip(['stage', writeCatalog(dir, 'v2.ndjson', 3000, 2), '--replace'])).code).toBe(0)
      const human = await flip(['cutover', '--yes', '--atomic'])
      expect(human.code, human.stderr).toBe(0)
      expect(human.stdout).toMatch(/replicas: 127\.0\.0\.1:\d+ 1\/1 in \d+ ms, 127\.0\.0\.1:\d+ 1\/1 in \d+ ms, 127\.0\.0\.1:\d+ 1\/1 in \d+ ms; the last replica had it \d+ ms after the last primary/)
      const back = json(await flip(['rollback', '--yes', '--json']))
      expect(back.code, JSON.stringify(back.doc)).toBe(0)
      expect(back.doc.replicas).toHaveLength(3)
      expect(back.doc.replicas.every((ack: Replicas) => ack.acked === 1)).toBe(true)
      record(back.doc.replicas)
      const figures = [...lags].map(([primary, values]) => `${primary} p50 ${percentile(values, 50).toFixed(2)} ms max ${Math.max(...values).toFixed(2)} ms (n=${values.length})`)
      console.log(`replica lag at the switch: ${figures.join('; ')}`)
    })

    it('a replica that does not apply the switch in time fails the check: exit 1, plan kept, rollback printed', async () => {
      expect((await flip(['stage', writeCatalog(dir, 'v3.ndjson', 2000, 3), '--replace'])).code).toBe(0)
      const replica = cluster.replicas[0][0]
      cluster.pause(replica)
      let cut: Run
      try {
        cut = await flip(['cutover', '--yes', '--replica-timeout', '300ms'])
      } finally {
        cluster.resume(replica)
      }
      expect(cut.code, cut.stderr).toBe(1)
      expect(cut.stderr).toMatch(new RegExp(`1 of 1 replicas of primary 127\\.0\\.0\\.1:${cluster.primaries[0].port} did not apply the switch within 300 ms`))
      expect(cut.stderr).toMatch(/to undo: flip rollback \S+/)
      const plans = readdirSync(join(dir, 'state', 'plans')).filter((name) => name.endsWith('.json'))
      expect(plans.length).toBeGreaterThan(0)
      await cluster.settle()
      const back = await flip(['rollback', '--yes'])
      expect(back.code, back.stderr).toBe(0)
    })
  })

  describe('failover: a primary killed during the switch and during the rollback', () => {
    let cluster: ReplicatedCluster
    let dir: string
    const flip = (args: string[], env: NodeJS.ProcessEnv = {}) => runFlip(dir, args, {FLIP_URL: cluster.url, FLIP_STATE_DIR: join(dir, 'state'), ...env})

    beforeAll(async () => {
      // A short node timeout: the replica of a killed primary is promoted within seconds.
      cluster = await startReplicatedCluster(binary, {primaries: 3, replicas: 1, nodeTimeoutMs: 2000})
      dir = tempDir('flip-failover-')
    })
    afterAll(async () => {
      await cluster?.stop()
    })

    it('pre-flight refuses a shard whose replica is down, naming both, unless --allow-degraded', async () => {
      expect((await flip(['stage', writeCatalog(dir, 'v1.ndjson', 3000, 1)])).code).toBe(0)
      const replica = cluster.replicas[0][0]
      await cluster.kill(replica)
      await cluster.waitHealth(replica, 'fail')
      const refused = await flip(['cutover', '--yes'])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain(`target degraded: primary 127.0.0.1:${cluster.primaries[0].port} has 0 of 1 replicas online (127.0.0.1:${replica.port} is fail)`)
      expect(refused.stderr).toContain('--allow-degraded')
      expect(existsSync(join(dir, 'state', 'plans')) ? readdirSync(join(dir, 'state', 'plans')).filter((name) => name.endsWith('.json')) : []).toEqual([])
      const cut = json(await flip(['cutover', '--yes', '--allow-degraded', '--json']))
      expect(cut.code, JSON.stringify(cut.doc)).toBe(0)
      // The shard without a replica online is not waited for.
      expect(cut.doc.replicas.map((ack: Replicas) => ack.primary)).not.toContain(`127.0.0.1:${cluster.primaries[0].port}`)
      expect(cut.doc.replicas).toHaveLength(2)
    })

    it('kill -9 of a primary mid-switch: exit 3 naming it, journal in step, --resume finishes and rollback (killed mid-way too) undoes it, nothing lost', async () => {
      expect((await flip(['stage', writeCatalog(dir, 'v2.ndjson', 6000, 2), '--replace'])).code).toBe(0)
      const before = await dbs(cluster.url)
      const slow = {FLIP_TEST_BATCH_COMMANDS: '200', FLIP_TEST_SWITCH_DELAY_MS: '150'}
      const plansDir = join(dir, 'state', 'plans')
      const journalOf = (id: string) => readFileSync(join(plansDir, `${id}.journal`), 'utf8')
      const newest = () => readdirSync(plansDir).filter((name) => name.endsWith('.journal')).sort().at(-1)!.replace(/\.journal$/, '')
      const batchesOn = (id: string, port: number, phase: string) =>
        journalOf(id).split('\n').filter((line) => line.includes('"event":"batch"') && line.includes(`"phase":"${phase}"`) && line.includes(`"node":"127.0.0.1:${port}"`)).length

      // The switch: kill primary 2 once it has journaled a batch.
      const victim = cluster.primaries[2]
      const known = new Set(readdirSync(plansDir))
      const running = flip(['cutover', '--yes', '--allow-degraded'], slow)
      await until(() => readdirSync(plansDir).some((name) => name.endsWith('.journal') && !known.has(name)) && batchesOn(newest(), victim.port, 'cutover') > 0, 60_000, 10)
      await cluster.kill(victim)
      const stopped = await running
      const planId = newest()
      expect(stopped.code, stopped.stderr).toBe(3)
      expect(stopped.stderr).toContain(`cutover ${planId} stopped`)
      expect(stopped.stderr).toContain(`127.0.0.1:${victim.port}`)
      expect(stopped.stderr).toContain(`flip cutover --resume ${planId}`)
      const journal = journalOf(planId)
      expect(journal).toContain('"event":"switch-started"')
      expect(journal).not.toContain('"event":"switched"')
      for (const node of [cluster.primaries[0], cluster.primaries[1]]) expect(batchesOn(planId, node.port, 'cutover')).toBeGreaterThan(0)

      // Its replica is promoted; flip finds the new primary and finishes.
      await cluster.settle({replicas: 0})
      const resumed = json(await flip(['cutover', '--resume', planId, '--yes', '--json']))
      expect(resumed.code, JSON.stringify(resumed.doc)).toBe(0)
      expect(resumed.doc.verified.ok).toBe(true)
      const after = await dbs(cluster.url)
      expect(after.live).toEqual(await dbSummary(cluster.url, 0))
      expect(after.shadow.keys).toBe(0)
      expect(after.live).toEqual(before.shadow)
      expect(after.archive).toEqual(before.live)
      expect(addSummaries(after.live, after.shadow, after.archive)).toEqual(addSummaries(before.live, before.shadow, before.archive))

      // The rollback: kill primary 1 once it has moved a batch back.
      const second = cluster.primaries[1]
      const rolling = flip(['rollback', planId, '--yes'], slow)
      await until(() => batchesOn(planId, second.port, 'rollback') > 0, 60_000, 10)
      await cluster.kill(second)
      const cut = await rolling
      expect(cut.code, cut.stderr).toBe(3)
      expect(cut.stderr).toContain(`rollback of plan ${planId} stopped`)
      expect(cut.stderr).toContain(`127.0.0.1:${second.port}`)
      expect(journalOf(planId)).toContain('"event":"rollback-started"')
      expect(journalOf(planId)).not.toContain('"event":"rolled-back"')
      await cluster.settle({replicas: 0})
      const back = json(await flip(['rollback', planId, '--yes', '--json']))
      expect(back.code, JSON.stringify(back.doc)).toBe(0)
      const end = await dbs(cluster.url)
      expect(end.live).toEqual(before.live)
      expect(end.shadow).toEqual(before.shadow)
      expect(end.archive).toEqual(before.archive)
    })
  })
}
