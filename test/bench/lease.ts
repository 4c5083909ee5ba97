// npm run bench:lease — how fast `flip db lease` picks a db (issue 12).
//
//   npx tsx test/bench/lease.ts [--seconds 5] [--warmup 3] [--clients 20] [--valkey valkey://host:port]
//
// 1. Leases per second from 20 parallel clients (each: one registry session, lease then release
//    in a loop, every lease flushing its db on every primary) on the bundled engine (cluster of 3),
//    on a standalone redis-server, and on --valkey URL when given (its lease registry and the dbs
//    it leases get emptied: use a scratch server), where one lease is also timed with none and
//    with nearly every db held. Measured after --warmup seconds of the same, shown on their own
//    row: a node that just started runs cold code, and its first few hundred leases cost several
//    times the CPU of the later ones.
// 2. The time of one lease on a 10,000,000-db engine with 100,000 leases held (the registry filled
//    directly, in pipelined batches), next to the same on a 1,000-db engine with none held: the
//    choice costs O(log n), so both should be alike. Both on a fresh engine after 100 untimed
//    pairs, with the CPU ms per lease + release of the busiest node: on a loaded machine
//    the wall-clock medians swing run to run, the CPU figures much less.
// Goal: >= 500 leases/s; lease time independent of the dbs configured and the leases held.
//
// Leases per second measure the CPU share the server gets as much as the server: on a busy
// machine they swing several-fold between runs. So each throughput row also gives the server's
// own CPU time per lease (+ release), read from /proc (Linux): for the engine, of its busiest
// node (the one holding the registry); and the leases/s that makes one full core.
import {readFileSync} from 'node:fs'
import {Valkey} from 'iovalkey'
import {startEngine} from '../../src/engine/index.js'
import {connectPlane} from '../../src/plane/index.js'
import {hashToken} from '../../src/registry/db-registry.js'
import {DbSession, leaseDb, releaseLease} from '../../src/registry/db-service.js'
import {keySlot} from '../../src/util/keyslot.js'
import {startRedisServer} from '../support/redis-server.js'

const args = process.argv.slice(2)
const option = (name: string, fallback?: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)
const seconds = Number(option('--seconds', '5'))
const warmup = Number(option('--warmup', '3'))
const clients = Number(option('--clients', '20'))
const roles = {live: 0, shadow: 1, archive: 2}

/** CPU seconds (user + system) a process has used so far; undefined off Linux. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

async function redisPid(port: number): Promise<number> {
  const client = new Valkey({port, host: '127.0.0.1', lazyConnect: true})
  client.on('error', () => {})
  try {
    await client.connect()
    return Number(/process_id:(\d+)/.exec(await client.info('server'))![1])
  } finally {
    client.disconnect()
  }
}

interface Rate {
  leases: number
  perSecond: number
  /** CPU ms per lease of the busiest server process. */
  cpuMsPerLease?: number
}

interface Throughput extends Rate {
  /** The first --warmup seconds after the server started (JIT warm-up; under tsx also transpiling). */
  cold: Rate
}

/** Every session leases then releases in a loop for `forSeconds`. */
async function leaseLoop(sessions: DbSession[], forSeconds: number, pids: number[]): Promise<Rate> {
  const cpuBefore = pids.map(cpuSeconds)
  let leases = 0
  const started = Date.now()
  const deadline = started + forSeconds * 1000
  await Promise.all(
    sessions.map(async (session) => {
      while (Date.now() < deadline) {
        const lease = await leaseDb(session, {ttlMs: 60_000})
        leases++
        await releaseLease(session, {db: lease.db, token: lease.token})
      }
    }),
  )
  const elapsed = (Date.now() - started) / 1000
  const busiest = Math.max(...pids.map((pid, i) => (cpuSeconds(pid) ?? NaN) - (cpuBefore[i] ?? NaN)))
  return {leases, perSecond: leases / elapsed, cpuMsPerLease: Number.isFinite(busiest) ? (busiest * 1000) / leases : undefined}
}

async function throughput(url: string, pids: number[] = []): Promise<Throughput> {
  const sessions = await Promise.all(Array.from({length: clients}, () => DbSession.open({url}, {roles})))
  try {
    const cold = await leaseLoop(sessions, warmup, pids)
    return {...(await leaseLoop(sessions, seconds, pids)), cold}
  } finally {
    await Promise.all(sessions.map((s) => s.close()))
  }
}

function describeRate(r: Rate, forSeconds: number): string {
  const cpu = r.cpuMsPerLease === undefined ? '' : `; ${r.cpuMsPerLease.toFixed(2)} CPU ms/lease = ${(1000 / r.cpuMsPerLease).toFixed(0)} leases/s per core`
  return `${r.perSecond.toFixed(0)} leases/s (${r.leases} in ${forSeconds}s, ${clients} clients)${cpu}`
}

function throughputRows(what: string, t: Throughput): string[][] {
  return [
    [what, describeRate(t, seconds)],
    [`  its first ${warmup}s after start (not counted above)`, describeRate(t.cold, warmup)],
  ]
}

/**
 * Median ms of `n` lease+release pairs' lease part on a fresh registry holding `held` leases, after
 * `warm` untimed pairs (so a just-started engine is not compared cold against a warm one).
 */
async function leaseTime(url: string, pids: number[], held: number, databases: number, n = 50, warm = 100): Promise<{median: number; cpuMs?: number}> {
  const session = await DbSession.open({url}, {roles})
  const meta = await connectPlane({url, db: session.registry.db})
  const slot = keySlot('{flip}')
  // Leases of dbs 3 .. held+2, expiring in an hour; the range cursor past them, as leasing them would leave it.
  const expiry = Date.now() + 3_600_000
  const record = JSON.stringify({holder: 'bench:0', createdAt: new Date().toISOString()})
  for (let from = 3; from < held + 3; from += 5000) {
    const dbs = Array.from({length: Math.min(5000, held + 3 - from)}, (_, i) => String(from + i))
    await meta.execute([
      {argv: ['HSET', '{flip}:db:leases', ...dbs.flatMap((db) => [db, record])], slot},
      {argv: ['HSET', '{flip}:db:tokens', ...dbs.flatMap((db) => [db, hashToken('bench')])], slot},
      {argv: ['ZADD', '{flip}:db:expiry', ...dbs.flatMap((db) => [expiry, db])], slot},
    ])
  }
  if (held > 0) await meta.execute([{argv: ['HSET', '{flip}:db:cursors', `0-${databases - 1}`, held + 3], slot}])
  for (let i = 0; i < warm; i++) {
    const lease = await leaseDb(session, {ttlMs: 60_000})
    await releaseLease(session, {db: lease.db, token: lease.token})
  }
  const times: number[] = []
  const cpuBefore = pids.map(cpuSeconds)
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint()
    const lease = await leaseDb(session, {ttlMs: 60_000})
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
    await releaseLease(session, {db: lease.db, token: lease.token})
  }
  const busiest = Math.max(...pids.map((pid, i) => (cpuSeconds(pid) ?? NaN) - (cpuBefore[i] ?? NaN)))
  await meta.close()
  await session.close()
  return {median: times.sort((a, b) => a - b)[Math.floor(times.length / 2)], cpuMs: Number.isFinite(busiest) ? (busiest * 1000) / n : undefined}
}

function describeLease(t: {median: number; cpuMs?: number}): string {
  return `${t.median.toFixed(2)} ms median${t.cpuMs === undefined ? '' : `, ${t.cpuMs.toFixed(2)} CPU ms per lease + release (busiest node)`}`
}

/**
 * --valkey URL (a Valkey 9 cluster or standalone server; a scratch one: the dbs it leases are
 * emptied and its lease registry is cleared): the throughput row, then one lease with none held
 * and with nearly every db held, as on the engine.
 */
async function valkeyRows(url: string): Promise<string[][]> {
  const probe = await DbSession.open({url}, {roles})
  const databases = probe.databases
  const meta = await connectPlane({url, db: probe.registry.db})
  await probe.close()
  if (databases === undefined) throw new Error('--valkey: the server does not say how many dbs it has (CONFIG GET refused)')
  const slot = keySlot('{flip}')
  // Leases only (names stay): leaseTime fills the registry directly and leaves its fake leases.
  const clear = () => meta.execute([{argv: ['DEL', ...['leases', 'tokens', 'expiry', 'free', 'cursors'].map((k) => `{flip}:db:${k}`)], slot}])
  const count = (n: number) => n.toLocaleString('en-US')
  const out: string[][] = []
  try {
    await clear()
    const t = await throughput(url)
    out.push(...throughputRows(`Valkey at --valkey (${meta.mode}, ${meta.primaries.length} primar${meta.primaries.length === 1 ? 'y' : 'ies'}), ${count(databases)} dbs`, t))
    await clear()
    out.push([`Valkey, ${count(databases)} dbs, 0 held: one lease`, describeLease(await leaseTime(url, [], 0, databases))])
    const held = Math.min(100_000, databases - 100)
    await clear()
    out.push([`Valkey, ${count(databases)} dbs, ${count(held)} held: one lease`, describeLease(await leaseTime(url, [], held, databases))])
  } finally {
    await clear()
    await meta.close()
  }
  return out
}

const rows: string[][] = []
let smallLease: {median: number; cpuMs?: number} = {median: NaN}
{
  const engine = await startEngine({mode: 'cluster', nodes: 3, databases: 1000})
  try {
    const t = await throughput(engine.seedUrl, engine.nodes.map((n) => n.pid))
    rows.push(...throughputRows('engine, cluster of 3, 1,000 dbs', t))
  } finally {
    await engine.stop()
  }
}
{
  // A fresh engine, as the 10M-db one below: the same warm-up before both timings.
  const engine = await startEngine({mode: 'cluster', nodes: 3, databases: 1000})
  try {
    smallLease = await leaseTime(engine.seedUrl, engine.nodes.map((n) => n.pid), 0, 1000)
    rows.push(['engine, 1,000 dbs, 0 held: one lease', describeLease(smallLease)])
  } finally {
    await engine.stop()
  }
}
{
  const redis = await startRedisServer(['--databases', '1000'])
  try {
    const t = await throughput(redis.url, [await redisPid(redis.port)])
    rows.push(...throughputRows('redis-server 7 standalone, 1,000 dbs', t))
  } finally {
    await redis.stop()
  }
}
const valkey = option('--valkey')
if (valkey) rows.push(...(await valkeyRows(valkey)))
{
  const engine = await startEngine({mode: 'cluster', nodes: 3, databases: 10_000_000})
  try {
    const bigLease = await leaseTime(engine.seedUrl, engine.nodes.map((n) => n.pid), 100_000, 10_000_000)
    const cpuRatio = bigLease.cpuMs !== undefined && smallLease.cpuMs !== undefined ? `, CPU ${(bigLease.cpuMs / smallLease.cpuMs).toFixed(1)}x` : ''
    rows.push(['engine, 10,000,000 dbs, 100,000 held: one lease', `${describeLease(bigLease)}; ${(bigLease.median / smallLease.median).toFixed(1)}x the 1,000-db case${cpuRatio}`])
  } finally {
    await engine.stop()
  }
}
const width = Math.max(...rows.map((r) => r[0].length))
for (const [what, figure] of rows) console.log(`${what.padEnd(width)}  ${figure}`)
