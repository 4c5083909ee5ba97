// Benchmark (not a test): the data plane alone (no file parsing, no checksums), side by side with
// redis-benchmark on the same target in the same run.
//
//   npx tsx test/bench/plane-write.ts [--keys 1000000] [--targets redis,cluster,engine] [--rounds 2] [--skip-iovalkey]
//
// The machine is shared, so each target runs `rounds` alternating rounds (redis-benchmark, then the
// plane) and the best rate of each is kept; the servers' CPU time per key (from /proc) is printed
// too: it does not depend on what else the machine is doing.
// Per target: `redis-benchmark -P 64 -t set,get` (with --cluster for clusters), then
//   - plane writer: N string keys through Plane.writer() (records generated before the clock starts)
//   - plane read:   the same keys back through Plane.scanValues() (SCAN + GET/PTTL pipelines)
//   - iovalkey:     the same writes as plain iovalkey pipelines of 10k (per node in a cluster),
//                   the baseline the raw RESP path replaced
// Targets: redis = Debian redis-server standalone, cluster = 3 redis-server primaries,
// engine = the bundled engine, 3 nodes.
import {execFileSync, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
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
const ROUNDS = Number(option('--rounds', '2'))
const BATCH = 10_000

const origin = {file: 'bench', line: 0}
const batches: DatasetRecord[][] = []
for (let start = 0; start < KEYS; start += BATCH) {
  const batch: DatasetRecord[] = []
  for (let n = start; n < Math.min(start + BATCH, KEYS); n++) batch.push({key: Buffer.from(`key:${n}`), value: {type: 'string', value: Buffer.from(`v${n}`)}, origin})
  batches.push(batch)
}

/** CPU milliseconds the given processes used so far (user + system, from /proc). */
function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return sum + (Number(fields[11]) + Number(fields[12])) * 10
  }, 0)
}

function redisPid(port: number): number {
  return Number(/process_id:(\d+)/.exec(execFileSync('redis-cli', ['-p', String(port), 'INFO', 'server'], {encoding: 'utf8'}))![1])
}

function redisBenchmarkOne(port: number, cluster: boolean, test: 'set' | 'get'): number {
  const result = spawnSync(
    'redis-benchmark',
    ['-p', String(port), '-P', '64', '-t', test, '-n', String(KEYS), '-r', String(KEYS), '--csv', ...(cluster ? ['--cluster'] : [])],
    {encoding: 'utf8'},
  )
  const name = test.toUpperCase()
  return Number(JSON.parse(`[${result.stdout.split('\n').find((line) => line.startsWith(`"${name}"`))}]`)[1])
}

interface Measured {
  rate: number
  /** Server CPU microseconds per key. */
  serverUs: number
}

function measure<T>(pids: number[], run: () => T): {result: T; serverUs: number} {
  const before = cpuMs(pids)
  const result = run()
  return {result, serverUs: ((cpuMs(pids) - before) * 1000) / KEYS}
}

async function planeWriteAndRead(url: string, pids: number[]): Promise<{write: Measured; read: Measured}> {
  const plane = await connectPlane({url, db: 0, env: {}})
  try {
    await plane.flushdb()
    let cpu = cpuMs(pids)
    let started = performance.now()
    const writer = plane.writer()
    for (const batch of batches) await writer.write(batch)
    await writer.finish()
    const write = {rate: KEYS / ((performance.now() - started) / 1000), serverUs: ((cpuMs(pids) - cpu) * 1000) / KEYS}
    const {total} = await plane.dbsize()
    if (total !== KEYS) throw new Error(`plane wrote ${total} keys, expected ${KEYS}`)

    cpu = cpuMs(pids)
    started = performance.now()
    let count = 0
    for await (const stored of plane.scanValues()) count += stored.length
    if (count !== KEYS) throw new Error(`plane read ${count} keys, expected ${KEYS}`)
    const read = {rate: KEYS / ((performance.now() - started) / 1000), serverUs: ((cpuMs(pids) - cpu) * 1000) / KEYS}
    await plane.flushdb()
    return {write, read}
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
function row(target: string, method: string, measured: Measured, baseline: number, baselineName: string) {
  const line = `| ${target} | ${method} | ${fmt(measured.rate)} | ${(measured.rate / baseline).toFixed(2)}× ${baselineName} | ${Number.isNaN(measured.serverUs) ? '' : measured.serverUs.toFixed(2)} |`
  rows.push(line)
  console.error(line)
}

const best = (a: Measured | undefined, b: Measured): Measured => (a === undefined || b.rate > a.rate ? b : a)

async function benchTarget(name: string, url: string, host: string, port: number, cluster: boolean, pids: number[]): Promise<void> {
  let set: Measured | undefined
  let get: Measured | undefined
  let write: Measured | undefined
  let read: Measured | undefined
  for (let round = 0; round < ROUNDS; round++) {
    // SET and GET measured separately so each has its own server CPU figure.
    const setRun = measure(pids, () => redisBenchmarkOne(port, cluster, 'set'))
    set = best(set, {rate: setRun.result, serverUs: setRun.serverUs})
    const getRun = measure(pids, () => redisBenchmarkOne(port, cluster, 'get'))
    get = best(get, {rate: getRun.result, serverUs: getRun.serverUs})
    const plane = await planeWriteAndRead(url, pids)
    write = best(write, plane.write)
    read = best(read, plane.read)
  }
  row(name, 'redis-benchmark -P 64 SET', set!, set!.rate, 'SET')
  row(name, 'redis-benchmark -P 64 GET', get!, get!.rate, 'GET')
  row(name, 'plane writer (raw RESP)', write!, set!.rate, 'SET')
  row(name, 'plane scanValues (SCAN + reads)', read!, get!.rate, 'GET')
  if (WITH_IOVALKEY) {
    const before = cpuMs(pids)
    const rate = await iovalkeyWrite(host, port, cluster)
    row(name, 'iovalkey pipelines of 10k', {rate, serverUs: ((cpuMs(pids) - before) * 1000) / KEYS}, set!.rate, 'SET')
  }
}

if (TARGETS.includes('redis')) {
  const server = await startRedisServer()
  try {
    await benchTarget('redis-server 7 standalone', server.url, '127.0.0.1', server.port, false, [redisPid(server.port)])
  } finally {
    await server.stop()
  }
}
if (TARGETS.includes('cluster')) {
  const cluster = await startRedisCluster(3)
  try {
    await benchTarget('redis 7 cluster, 3 primaries', cluster.url, '127.0.0.1', cluster.nodes[0].port, true, cluster.nodes.map((node) => redisPid(node.port)))
  } finally {
    await cluster.stop()
  }
}
if (TARGETS.includes('engine')) {
  const engine = await startEngine({nodes: 3, databases: 16})
  try {
    await benchTarget('bundled engine, 3 nodes', engine.seedUrl, engine.nodes[0].host, engine.nodes[0].port, true, engine.nodes.map((node) => node.pid))
  } finally {
    await engine.stop()
  }
}

console.log(`\n${fmt(KEYS)} string keys (key:N → vN), batches of ${fmt(BATCH)}; best of ${ROUNDS} alternating rounds; redis-benchmark -P 64 -n ${fmt(KEYS)} -r ${fmt(KEYS)}`)
console.log('| target | method | keys/s | ratio | server CPU µs/key |\n|---|---|---:|---|---:|')
for (const line of rows) console.log(line)
