// Benchmark (not a test): how fast the data plane writes string keys, side by side with
// `redis-benchmark -P 64 -t set` on the same target, and with a plain iovalkey pipeline.
//
//   npx tsx test/bench/plane-write.ts [--keys 1000000] [--cluster] [--skip-iovalkey]
//
// Targets: a fresh Debian redis-server (standalone) and, with --cluster, a 3-primary Redis 7
// cluster (db 0). Prints keys/s and the ratio to redis-benchmark's SET rate.
import {spawnSync} from 'node:child_process'
import {Cluster, Valkey} from 'iovalkey'
import type {DatasetRecord} from '../../src/dataset/record.js'
import {connectPlane} from '../../src/plane/index.js'
import {startRedisServer} from '../support/redis-server.js'
import {startRedisCluster} from '../plane/support/redis-cluster.js'

const args = process.argv.slice(2)
const keys = Number(args[args.indexOf('--keys') + 1] || 0) || 1_000_000
const withCluster = args.includes('--cluster')
const withIovalkey = !args.includes('--skip-iovalkey')
const BATCH = 10_000
const origin = {file: 'bench', line: 0}

function batchOf(start: number, count: number, label: string): DatasetRecord[] {
  const records: DatasetRecord[] = new Array(count)
  for (let i = 0; i < count; i++) {
    const n = start + i
    records[i] = {key: Buffer.from(`${label}:${n}`), value: {type: 'string', value: Buffer.from(`v${n}`)}, origin}
  }
  return records
}

function redisBenchmark(port: number, cluster: boolean): number {
  const result = spawnSync('redis-benchmark', ['-p', String(port), '-P', '64', '-t', 'set', '-n', String(keys), '-r', String(keys), '--csv', ...(cluster ? ['--cluster'] : [])], {
    encoding: 'utf8',
  })
  const line = result.stdout.split('\n').find((l) => l.startsWith('"SET"'))
  if (!line) throw new Error(`redis-benchmark printed no SET line: ${result.stdout}${result.stderr}`)
  return Number(JSON.parse(`[${line}]`)[1])
}

async function planeRate(url: string, label: string): Promise<number> {
  const plane = await connectPlane({url, db: 0})
  await plane.flushdb()
  const started = performance.now()
  const writer = plane.writer()
  for (let start = 0; start < keys; start += BATCH) await writer.write(batchOf(start, Math.min(BATCH, keys - start), label))
  await writer.finish()
  const seconds = (performance.now() - started) / 1000
  const {total} = await plane.dbsize()
  if (total !== keys) throw new Error(`plane wrote ${total} keys, expected ${keys}`)
  await plane.flushdb()
  await plane.close()
  return keys / seconds
}

async function iovalkeyRate(port: number, cluster: boolean, label: string): Promise<number> {
  const client = cluster ? new Cluster([{host: '127.0.0.1', port}]) : new Valkey({host: '127.0.0.1', port})
  client.on('error', () => undefined)
  const started = performance.now()
  if (cluster) {
    // A cluster pipeline must stay within one node: group each batch by node, one pipeline per node.
    const c = client as Cluster
    await c.ping()
    const slots = (c as unknown as {slots: string[][]}).slots
    const {keySlot} = await import('../../src/util/keyslot.js')
    for (let start = 0; start < keys; start += BATCH) {
      const byNode = new Map<string, ReturnType<Cluster['pipeline']>>()
      for (const record of batchOf(start, Math.min(BATCH, keys - start), label)) {
        const node = slots[keySlot(record.key)][0]
        let pipeline = byNode.get(node)
        if (!pipeline) byNode.set(node, (pipeline = c.pipeline()))
        pipeline.set(record.key, record.value.value as Buffer)
      }
      await Promise.all([...byNode.values()].map((pipeline) => pipeline.exec()))
    }
  } else {
    for (let start = 0; start < keys; start += BATCH) {
      const pipeline = (client as Valkey).pipeline()
      for (const record of batchOf(start, Math.min(BATCH, keys - start), label)) pipeline.set(record.key, record.value.value as Buffer)
      await pipeline.exec()
    }
  }
  const seconds = (performance.now() - started) / 1000
  await client.quit()
  return keys / seconds
}

const rows: Array<[string, string, number, number]> = []
function row(target: string, method: string, rate: number, baseline: number) {
  rows.push([target, method, rate, rate / baseline])
  console.error(`${target.padEnd(28)} ${method.padEnd(34)} ${Math.round(rate).toLocaleString('en-US').padStart(10)} keys/s  ${(rate / baseline).toFixed(2)}×`)
}

const server = await startRedisServer()
try {
  const baseline = redisBenchmark(server.port, false)
  row('redis-server 7 standalone', 'redis-benchmark -P 64 -t set', baseline, baseline)
  row('redis-server 7 standalone', 'plane writer (raw RESP)', await planeRate(server.url, 'plane'), baseline)
  if (withIovalkey) row('redis-server 7 standalone', 'iovalkey pipeline (10k batches)', await iovalkeyRate(server.port, false, 'io'), baseline)
} finally {
  await server.stop()
}

if (withCluster) {
  const cluster = await startRedisCluster(3)
  try {
    const baseline = redisBenchmark(cluster.nodes[0].port, true)
    row('redis 7 cluster, 3 primaries', 'redis-benchmark --cluster -P 64', baseline, baseline)
    row('redis 7 cluster, 3 primaries', 'plane writer (raw RESP)', await planeRate(cluster.url, 'plane'), baseline)
    if (withIovalkey) row('redis 7 cluster, 3 primaries', 'iovalkey per-node pipelines', await iovalkeyRate(cluster.nodes[0].port, true, 'io'), baseline)
  } finally {
    await cluster.stop()
  }
}

console.log(`\n${keys.toLocaleString('en-US')} string keys, batches of ${BATCH.toLocaleString('en-US')}`)
console.log(`| target | method | keys/s | × redis-benchmark |\n|---|---|---:|---:|`)
for (const [target, method, rate, ratio] of rows) console.log(`| ${target} | ${method} | ${Math.round(rate).toLocaleString('en-US')} | ${ratio.toFixed(2)} |`)
