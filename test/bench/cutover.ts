// npm run bench:cutover — cutover and rollback of 1M keys, through the real src/cutover code.
//
//   npx tsx test/bench/cutover.ts [--keys 1000000] [--only engine|redis|valkey] [--valkey URL]
//
// --valkey (or env BENCH_VALKEY_URL) adds the cluster runs on a real Valkey 9 cluster started with
// cluster-databases >= 16 (dbs 0-2 and the lock db are flushed/used there: use a scratch cluster).
// Bundled engine, cluster of 3: batched cutover (MULTI per slot) and its rollback; --atomic
// cutover (one script per primary) with its client stall, and its rollback. Local redis-server,
// standalone: SWAPDB cutover and rollback. And the drift of an --at a few seconds ahead.
// Live holds N old keys, the shadow N staged ones (the same names, new values).
// "switch" is the time from the first change to the last (pre-flight, plan and check excluded).
// Goals (issue 5): 1M-key cluster cutover <= 2 s (a script per primary that SCANs and MOVEs
// took 1.98 s on a 3-primary Valkey 9.1 here: the floor); --atomic client stall <= 1.1x the
// script's own duration; standalone <= 5 ms.
import {createWriteStream, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {cutover, type CutoverResult} from '../../src/cutover/cutover.js'
import {rollback, type RollbackResult} from '../../src/cutover/rollback.js'
import {startEngine} from '../../src/engine/index.js'
import {stage} from '../../src/ops/index.js'
import {connectPlane} from '../../src/plane/plane.js'
import {startRedisServer} from '../support/redis-server.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)
const KEYS = Number(option('--keys', '1000000'))
const ONLY = option('--only', '')
const DBS = {live: 0, shadow: 1, archive: 2}
const VALKEY_URL = option('--valkey', process.env.BENCH_VALKEY_URL ?? '')

const rows: Array<[string, string]> = []
const ms = (n: number) => `${n.toFixed(1)} ms`
const report = (what: string, value: string) => {
  rows.push([what, value])
  console.log(`${what.padEnd(58)} ${value}`)
}

async function writeLines(path: string, count: number, line: (n: number) => string): Promise<void> {
  const out = createWriteStream(path)
  for (let n = 0; n < count; n++) {
    if (!out.write(line(n))) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve) => out.end(resolve))
}

async function emptyDbs(url: string): Promise<void> {
  for (const db of Object.values(DBS)) {
    const plane = await connectPlane({url, db})
    await plane.flushdb()
    await plane.close()
  }
}

/** Old values straight into live, the new catalog staged into the shadow (with its manifest). */
async function prepare(url: string, stateDir: string, file: string): Promise<void> {
  await emptyDbs(url)
  const live = await connectPlane({url, db: DBS.live})
  const writer = live.writer()
  const batch = 10_000
  for (let from = 0; from < KEYS; from += batch) {
    const records = []
    for (let n = from; n < Math.min(KEYS, from + batch); n++) {
      records.push({key: Buffer.from(`price:${n}`), value: {type: 'string' as const, value: Buffer.from(`old-${n}`)}, origin: {file: 'bench', line: n}})
    }
    await writer.write(records)
  }
  await writer.finish()
  await live.close()
  await stage({files: [file], shadowDb: DBS.shadow, stateDir, target: {url}, replace: true})
}

async function timed<T extends CutoverResult | RollbackResult>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now()
  const result = await run()
  const total = performance.now() - started
  report(`${label}: switch`, ms(result.durationMs))
  report(`${label}: whole command (pre-flight, plan, check)`, ms(total))
  return result
}

/** Batched and --atomic cutover and rollback on a cluster, with the atomic script's stall and overlap. */
async function clusterRuns(label: string, url: string, stateDir: string): Promise<void> {
  await prepare(url, stateDir, file)
  await timed(`${label}, batched cutover`, () => cutover({url, stateDir, dbs: DBS}))
  await timed(`${label}, batched rollback`, () => rollback({url, stateDir}))
  const atomic = (await timed(`${label}, --atomic cutover`, () => cutover({url, stateDir, dbs: DBS, atomic: true}))) as CutoverResult
  const a = atomic.atomic!
  report(`${label}, --atomic: longest script (server TIME)`, ms(a.scriptMs))
  report(`${label}, --atomic: client stall (PING on each node)`, `${ms(a.clientStallMs)} (${(a.clientStallMs / a.scriptMs).toFixed(2)}x the script), ${a.busyReplies} BUSY replies`)
  report(`${label}, --atomic: scripts overlap`, `${a.overlapProven ? 'proven' : 'NOT proven'}, margin ${ms(a.overlapMarginMs)}`)
  await timed(`${label}, --atomic rollback (script per primary)`, () => rollback({url, stateDir}))
}

const dir = mkdtempSync(join(tmpdir(), 'flip-bench-cutover-'))
const file = join(dir, 'catalog.ndjson')
await writeLines(file, KEYS, (n) => `{"key":"price:${n}","value":"sale-${n}"}\n`)
console.log(`cutover benchmark, ${KEYS.toLocaleString('en-US')} keys live and ${KEYS.toLocaleString('en-US')} staged\n`)

try {
  if (ONLY === '' || ONLY === 'engine') {
    const engine = await startEngine({mode: 'cluster', nodes: 3, databases: 16})
    try {
      await clusterRuns('engine cluster', engine.seedUrl, join(dir, 'engine-state'))
    } finally {
      await engine.stop()
    }
  }

  // The same runs on a real Valkey 9 cluster (cluster-databases >= 16), side by side: the floor.
  if (VALKEY_URL && (ONLY === '' || ONLY === 'valkey')) {
    await clusterRuns('valkey cluster', VALKEY_URL, join(dir, 'valkey-state'))
    await emptyDbs(VALKEY_URL) // a scratch cluster, but the test suites share it: leave no 3M keys behind
  }

  if (ONLY === '' || ONLY === 'redis') {
    const server = await startRedisServer()
    try {
      const url = server.url
      const stateDir = join(dir, 'redis-state')
      await prepare(url, stateDir, file)
      await timed('redis-server standalone, SWAPDB cutover', () => cutover({url, stateDir, dbs: DBS}))
      await timed('redis-server standalone, SWAPDB rollback', () => rollback({url, stateDir}))
      // The cluster strategies on one real server: the client's share next to the server's own work.
      await timed('redis-server standalone, batched (MULTI per slot) cutover', () => cutover({url, stateDir, dbs: DBS, strategy: 'move'}))
      await timed('redis-server standalone, batched rollback', () => rollback({url, stateDir}))
      const script = (await timed('redis-server standalone, --atomic cutover', () => cutover({url, stateDir, dbs: DBS, atomic: true}))) as CutoverResult
      report('redis-server standalone, --atomic: script / client stall', `${ms(script.atomic!.scriptMs)} / ${ms(script.atomic!.clientStallMs)}, ${script.atomic!.busyReplies} BUSY replies to other clients`)
      await timed('redis-server standalone, --atomic rollback', () => rollback({url, stateDir}))
      // --at ahead: pre-flight (a full verify of the shadow, a read of live) runs before the moment.
      const lead = Math.max(20_000, KEYS / 20)
      const at = new Date(Date.now() + lead)
      let armedAt = 0
      const scheduled = await cutover({
        url,
        stateDir,
        dbs: DBS,
        schedule: {at: at.toISOString(), prepare: `${lead - 1000}ms`},
        onProgress: (event) => {
          if (event.phase === 'armed') armedAt = Date.now()
        },
      })
      const slack = at.getTime() - armedAt
      report(`redis-server standalone, --at ${lead / 1000} s ahead: drift`, `${ms(scheduled.driftMs)} (pre-flight done ${slack >= 0 ? `${ms(slack)} before` : `${ms(-slack)} AFTER`} the moment)`)
      await rollback({url, stateDir})
    } finally {
      await server.stop()
    }
  }
} finally {
  rmSync(dir, {recursive: true, force: true})
}

console.log('\nGoals: cluster cutover <= 2000 ms for 1M keys; --atomic stall <= 1.1x the script; standalone <= 5 ms; --at drift < 50 ms.')
