// Benchmark (not a test): the data plane alone (no file parsing, no checksums), side by side with
// redis-benchmark on the same target in the same run.
//
//   npx tsx test/bench/plane-write.ts [--keys 1000000] [--targets redis,cluster,engine] [--skip-iovalkey]
//
// Per target: `redis-benchmark -P 64 -t set,get` (with --cluster for clusters), then
//   - plane writer: N string keys through Plane.writer() (records generated before the clock starts)
//   - plane read:   the same keys back through Plane.scanValues() (SCAN + GET/PTTL pipelines)
//   - iovalkey:     the same writes as plain iovalkey pipelines of 10k (per node in a cluster),
//                   the baseline the raw RESP path replaced
// Targets: redis = Debian redis-server standalone, cluster = 3 redis-server primaries,
// engine = the bundled engine, 3 nodes.
import {spawnSync} from 'node:child_process'
import {Cluster, Valkey} from 'iovalkey'
import type {DatasetRecord} from '../../src/dataset/record.js'
import {startEngine} from '../../src/engine/index.js'
import {connectPlane} from '../../src/plane/index.js'
import {keySlot} from '../../src/util/keyslot.js'
import {startRedisServer} from '../support/redis-server.js'
import {startRedisCluster} from '../plane/support/redis-cluster.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)
const KEYS = Number(option('--keys', '1000000'))
const TARGETS = option('--targets', 'redis,cluster,engine').split(',')
const WITH_IOVALKEY = !args.includes('--skip-iovalkey')
const BATCH = 10_000

const origin = {file: 'bench', line: 0}
const batches: DatasetRecord[][] = []
for (let start = 0; start < KEYS; start += BATCH) {
  const batch: DatasetRecord[] = []
  for (let n = start; n < Math.min(start + BATCH, KEYS); n++) batch.push({key: Buffer.from(`key:${n}`), value: {type: 'string', value: Buffer.from(`v${n}`)}, origin})
  batches.push(batch)
}

function redisBenchmark(port: number, cluster: boolean): {set: number; get: number} {
  const result = spawnSync(
    'redis-benchmark',
    ['-p', String(port), '-P', '64', '-t', 'set,get', '-n', String(KEYS), '-r', String(KEYS), '--csv', ...(cluster ? ['--cluster'] : [])],
    {encoding: 'utf8'},
  )
  const rate = (name: string) => Number(JSON.parse(`[${result.stdout.split('\n').find((line) => line.startsWith(`"${name}"`))}]`)[1])
  return {set: rate('SET'), get: rate('GET')}
}

async function planeWriteAndRead(url: string): Promise<{write: number; read: number}> {
  const plane = await connectPlane({url, db: 0, env: {}})
  try {
    await plane.flushdb()
    let started = performance.now()
    const writer = plane.writer()
    for (const batch of batches) await writer.write(batch)
    await writer.finish()
    const write = KEYS / ((performance.now() - started) / 1000)
    const {total} = await plane.dbsize()
    if (total !== KEYS) throw new Error(`plane wrote ${total} keys, expected ${KEYS}`)

    started = performance.now()
    let read = 0
    for await (const stored of plane.scanValues()) read += stored.length
    if (read !== KEYS) throw new Error(`plane read ${read} keys, expected ${KEYS}`)
    const readRate = KEYS / ((performance.now() - started) / 1000)
    await plane.flushdb()
    return {write, read: readRate}
  } finally {
    await plane.close()
  }
}

async function iovalkeyWrite(host: string, port: number, cluster: boolean): Promise<number> {
  const started = performance.now()
  if (cluster) {
    // A cluster pipeline must stay within one node: one pipeline per node and batch.
    const client = new Cluster([{host, port}])
    client.on('error', () => undefined)
    await client.ping()
    const slots = (client as unknown as {slots: string[][]}).slots
    for (const batch of batches) {
      const byNode = new Map<string, ReturnType<Cluster['pipeline']>>()
      for (const record of batch) {
        const node = slots[keySlot(record.key)][0]
        let pipeline = byNode.get(node)
        if (pipeline === undefined) byNode.set(node, (pipeline = client.pipeline()))
        pipeline.set(record.key, record.value.value as Buffer)
      }
      await Promise.all([...byNode.values()].map((pipeline) => pipeline.exec()))
    }
    await client.flushall()
    await client.quit()
  } else {
    const client = new Valkey({host, port})
    client.on('error', () => undefined)
    for (const batch of batches) {
      const pipeline = client.pipeline()
      for (const record of batch) pipeline.set(record.key, record.value.value as Buffer)
      await pipeline.exec()
    }
    await client.flushdb()
    await client.quit()
  }
  return KEYS / ((performance.now() - started) / 1000)
}

const rows: string[] = []
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
function row(target: string, method: string, rate: number, baseline: number, baselineName: string) {
  const line = `| ${target} | ${method} | ${fmt(rate)} | ${(rate / baseline).toFixed(2)}× ${baselineName} |`
  rows.push(line)
  console.error(line)
}

async function benchTarget(name: string, url: string, host: string, port: number, cluster: boolean): Promise<void> {
  const base = redisBenchmark(port, cluster)
  row(name, `redis-benchmark -P 64 SET`, base.set, base.set, 'SET')
  row(name, `redis-benchmark -P 64 GET`, base.get, base.get, 'GET')
  const plane = await planeWriteAndRead(url)
  row(name, 'plane writer (raw RESP)', plane.write, base.set, 'SET')
  row(name, 'plane scanValues (SCAN + GET/PTTL)', plane.read, base.get, 'GET')
  if (WITH_IOVALKEY) row(name, 'iovalkey pipelines of 10k', await iovalkeyWrite(host, port, cluster), base.set, 'SET')
}

if (TARGETS.includes('redis')) {
  const server = await startRedisServer()
  try {
    await benchTarget('redis-server 7 standalone', server.url, '127.0.0.1', server.port, false)
  } finally {
    await server.stop()
  }
}
if (TARGETS.includes('cluster')) {
  const cluster = await startRedisCluster(3)
  try {
    await benchTarget('redis 7 cluster, 3 primaries', cluster.url, '127.0.0.1', cluster.nodes[0].port, true)
  } finally {
    await cluster.stop()
  }
}
if (TARGETS.includes('engine')) {
  const engine = await startEngine({nodes: 3, databases: 16})
  try {
    await benchTarget('bundled engine, 3 nodes', engine.seedUrl, engine.nodes[0].host, engine.nodes[0].port, true)
  } finally {
    await engine.stop()
  }
}

console.log(`\n${fmt(KEYS)} string keys (key:N → vN), batches of ${fmt(BATCH)}; redis-benchmark -P 64 -n ${fmt(KEYS)} -r ${fmt(KEYS)} just before`)
console.log('| target | method | keys/s | ratio |\n|---|---|---:|---|')
for (const line of rows) console.log(line)
