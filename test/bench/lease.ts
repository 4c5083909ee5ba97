// npm run bench:lease — how fast `flip db lease` picks a db (issue 12).
//
//   npx tsx test/bench/lease.ts [--seconds 5] [--clients 20] [--valkey valkey://host:port]
//
// 1. Leases per second from 20 parallel clients (each: one registry session, lease then release
//    in a loop, every lease flushing its db on every primary) on the bundled engine (cluster of 3),
//    on a standalone redis-server, and on --valkey URL when given (its lease registry and the dbs
//    it leases get emptied: use a scratch server), where one lease is also timed with none and
//    with nearly every db held.
// 2. The time of one lease on a 10,000,000-db engine with 100,000 leases held (the registry filled
//    directly, in pipelined batches), next to the same on a 1,000-db engine with none held: the
//    choice costs O(log n), so both should be alike.
// Goal: >= 500 leases/s; lease time independent of the dbs configured and the leases held.
import {startEngine} from '../../src/engine/index.js'
import {connectPlane} from '../../src/plane/index.js'
import {hashToken} from '../../src/registry/db-registry.js'
import {DbSession, leaseDb, releaseLease} from '../../src/registry/db-service.js'
import {keySlot} from '../../src/util/keyslot.js'
import {startRedisServer} from '../support/redis-server.js'

const args = process.argv.slice(2)
const option = (name: string, fallback?: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)
const seconds = Number(option('--seconds', '5'))
const clients = Number(option('--clients', '20'))
const roles = {live: 0, shadow: 1, archive: 2}

async function throughput(url: string): Promise<{leases: number; perSecond: number}> {
  const sessions = await Promise.all(Array.from({length: clients}, () => DbSession.open({url}, {roles})))
  let leases = 0
  const deadline = Date.now() + seconds * 1000
  const started = Date.now()
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
  await Promise.all(sessions.map((s) => s.close()))
  return {leases, perSecond: leases / elapsed}
}

/** Median ms of `n` lease+release pairs' lease part on a fresh registry holding `held` leases. */
async function leaseTime(url: string, held: number, databases: number, n = 20): Promise<number> {
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
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint()
    const lease = await leaseDb(session, {ttlMs: 60_000})
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
    await releaseLease(session, {db: lease.db, token: lease.token})
  }
  await meta.close()
  await session.close()
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]
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
    out.push([`Valkey at --valkey (${meta.mode}, ${meta.primaries.length} primar${meta.primaries.length === 1 ? 'y' : 'ies'}), ${count(databases)} dbs`, `${t.perSecond.toFixed(0)} leases/s (${t.leases} in ${seconds}s, ${clients} clients)`])
    await clear()
    out.push([`Valkey, ${count(databases)} dbs, 0 held: one lease`, `${(await leaseTime(url, 0, databases)).toFixed(2)} ms median`])
    const held = Math.min(100_000, databases - 100)
    await clear()
    out.push([`Valkey, ${count(databases)} dbs, ${count(held)} held: one lease`, `${(await leaseTime(url, held, databases)).toFixed(2)} ms median`])
  } finally {
    await clear()
    await meta.close()
  }
  return out
}

const rows: string[][] = []
{
  const engine = await startEngine({mode: 'cluster', nodes: 3, databases: 1000})
  try {
    const t = await throughput(engine.seedUrl)
    rows.push(['engine, cluster of 3, 1,000 dbs', `${t.perSecond.toFixed(0)} leases/s (${t.leases} in ${seconds}s, ${clients} clients)`])
    rows.push(['engine, 1,000 dbs, 0 held: one lease', `${(await leaseTime(engine.seedUrl, 0, 1000)).toFixed(2)} ms median`])
  } finally {
    await engine.stop()
  }
}
{
  const redis = await startRedisServer(['--databases', '1000'])
  try {
    const t = await throughput(redis.url)
    rows.push(['redis-server 7 standalone, 1,000 dbs', `${t.perSecond.toFixed(0)} leases/s (${t.leases} in ${seconds}s, ${clients} clients)`])
  } finally {
    await redis.stop()
  }
}
const valkey = option('--valkey')
if (valkey) rows.push(...(await valkeyRows(valkey)))
{
  const engine = await startEngine({mode: 'cluster', nodes: 3, databases: 10_000_000})
  try {
    rows.push(['engine, 10,000,000 dbs, 100,000 held: one lease', `${(await leaseTime(engine.seedUrl, 100_000, 10_000_000)).toFixed(2)} ms median`])
  } finally {
    await engine.stop()
  }
}
const width = Math.max(...rows.map((r) => r[0].length))
for (const [what, figure] of rows) console.log(`${what.padEnd(width)}  ${figure}`)
