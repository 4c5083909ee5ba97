// npm run bench:engine — the bundled engine side by side with a local redis-server, in one run:
//  1. redis-benchmark pipelined SET/GET (-P 16): engine cluster (--cluster) vs redis-server
//  2. peak RSS of the engine cluster holding 1M small keys
//  3. idle RSS and CPU of an engine node with 16 vs 10,000,000 databases
//  4. the atomic-cutover shape: one EVAL on one node that SCANs a db and MOVEs every key
// Goals (issue 2): >= 0.5x redis-server throughput; 10M dbs add <= 10 MB and no idle CPU.
// Knobs: BENCH_REQUESTS (default 1000000), BENCH_KEYS (default 1000000).
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {connect} from 'node:net'
import {promisify} from 'node:util'
import {startEngine, type EngineHandle} from '../../src/engine/index.js'
import {keySlot} from '../../src/util/keyslot.js'
import {startRedisServer} from '../support/redis-server.js'

const run = promisify(execFile)
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_000_000)
const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000)
const MOVE_KEYS = Number(process.env.BENCH_MOVE_KEYS ?? 333_000)

const MOVE_SCRIPT = `
local moved, cursor = 0, '0'
redis.call('SELECT', ARGV[1])
repeat
  local r = redis.call('SCAN', cursor, 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do moved = moved + redis.call('MOVE', k, ARGV[2]) end
until cursor == '0'
return moved`

/** Stages MOVE_KEYS keys in db 1 of a 1-node engine, then times one EVAL moving them to db 0. */
async function scriptMove(): Promise<{keys: number; ms: number}> {
  const engine = await startEngine({nodes: 1})
  const socket = connect({host: '127.0.0.1', port: engine.nodes[0].port})
  await new Promise((r) => socket.once('connect', r))
  let replies = 0
  let waiting: (() => void) | null = null
  let target = 0
  let text = ''
  socket.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 0x0a) replies++
    text = chunk.toString('latin1')
    if (waiting && replies >= target) waiting()
  })
  const until = (n: number) => new Promise<void>((resolve) => (replies >= n ? resolve() : ((target = n), (waiting = resolve))))
  try {
    socket.write('*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n')
    await until(1)
    for (let i = 0; i < MOVE_KEYS; i += 1000) {
      let batch = ''
      for (let j = i; j < Math.min(MOVE_KEYS, i + 1000); j++) {
        const key = `price:${j}`
        batch += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$2\r\n99\r\n`
      }
      socket.write(batch)
    }
    await until(1 + MOVE_KEYS)
    const started = Date.now()
    socket.write(`*5\r\n$4\r\nEVAL\r\n$${MOVE_SCRIPT.length}\r\n${MOVE_SCRIPT}\r\n$1\r\n0\r\n$1\r\n1\r\n$1\r\n0\r\n`)
    await until(2 + MOVE_KEYS)
    const ms = Date.now() - started
    const moved = Number(/:(\d+)/.exec(text)?.[1] ?? NaN)
    return {keys: moved, ms}
  } finally {
    socket.destroy()
    await engine.stop()
  }
}

async function redisBenchmark(port: number, cluster: boolean): Promise<{set: number; get: number}> {
  const args = ['-p', String(port), '-n', String(REQUESTS), '-P', '16', '-t', 'set,get', '-q', '-r', '100000']
  if (cluster) args.unshift('--cluster')
  const {stdout} = await run('redis-benchmark', args, {maxBuffer: 1 << 24})
  const rate = (name: string) => Number(new RegExp(`${name}: ([\\d.]+) requests per second`).exec(stdout)?.[1] ?? NaN)
  return {set: rate('SET'), get: rate('GET')}
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) * 1024 : NaN
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime + stime (clock ticks, 100/s)
}

/** Loads `count` small string keys, routing each to its node, pipelined over one socket per node. */
async function loadKeys(engine: EngineHandle, count: number): Promise<number> {
  const started = Date.now()
  const sockets = engine.nodes.map((n) => connect({host: n.host, port: n.port}))
  await Promise.all(sockets.map((s) => new Promise((r) => s.once('connect', r))))
  const pending = sockets.map(() => 0)
  const done = sockets.map((s, i) => {
    let expected = 0
    let seen = 0
    const finished = new Promise<void>((resolve) => {
      s.on('data', (chunk: Buffer) => {
        for (const byte of chunk) if (byte === 0x0a) seen++
        if (expected && seen >= expected) resolve()
      })
    })
    return {finished, expect: (n: number) => (expected = n), check: () => seen >= expected && expected > 0, i}
  })
  const owner = (slot: number) => engine.nodes.findIndex((n) => n.slots.some(([a, b]) => slot >= a && slot <= b))
  const batches: string[][] = sockets.map(() => [])
  for (let i = 0; i < count; i++) {
    const key = `key:${i}`
    const value = `value-${i}`
    const node = owner(keySlot(key))
    batches[node].push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`)
    pending[node]++
    if (batches[node].length === 1000) {
      if (!sockets[node].write(batches[node].join(''))) await new Promise((r) => sockets[node].once('drain', r))
      batches[node] = []
    }
  }
  sockets.forEach((s, i) => {
    if (batches[i].length) s.write(batches[i].join(''))
    done[i].expect(pending[i])
  })
  await Promise.all(done.map((d) => (d.check() ? Promise.resolve() : d.finished)))
  sockets.forEach((s) => s.destroy())
  return (count / (Date.now() - started)) * 1000
}

async function idleProfile(databases: number): Promise<{rss: number; cpuPercent: number}> {
  const engine = await startEngine({nodes: 1, databases})
  try {
    await new Promise((r) => setTimeout(r, 1500))
    const pid = engine.nodes[0].pid
    const before = cpuTicks(pid)
    await new Promise((r) => setTimeout(r, 3000))
    const ticks = cpuTicks(pid) - before
    return {rss: procStatus(pid, 'VmRSS'), cpuPercent: ticks / 3} // 100 ticks/s over 3 s
  } finally {
    await engine.stop()
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const kops = (n: number) => `${(n / 1000).toFixed(0)}k/s`

async function main() {
  console.log(`engine benchmark: ${REQUESTS} requests per test, -P 16, ${KEYS} keys for RSS\n`)
  const redis = await startRedisServer()
  const engine = await startEngine({nodes: 3, databases: 16})
  try {
    const redisRates = await redisBenchmark(redis.port, false)
    const engineRates = await redisBenchmark(engine.nodes[0].port, true)
    console.log('throughput (redis-benchmark -P 16)   redis-server   engine (3 nodes)   ratio')
    for (const op of ['set', 'get'] as const) {
      const ratio = engineRates[op] / redisRates[op]
      console.log(`  ${op.toUpperCase()}                                ${kops(redisRates[op]).padStart(9)}   ${kops(engineRates[op]).padStart(12)}   ${ratio.toFixed(2)}x ${ratio >= 0.5 ? 'ok' : 'BELOW GOAL 0.5x'}`)
    }
  } finally {
    await engine.stop()
    await redis.stop()
  }

  const loaded = await startEngine({nodes: 3, databases: 16})
  try {
    const baseline = loaded.nodes.reduce((sum, n) => sum + procStatus(n.pid, 'VmRSS'), 0)
    const rate = await loadKeys(loaded, KEYS)
    const peak = loaded.nodes.reduce((sum, n) => sum + procStatus(n.pid, 'VmHWM'), 0)
    console.log(`\nmemory with ${KEYS} small keys (3 nodes, summed): empty ${mb(baseline)}, peak ${mb(peak)} (loaded at ${kops(rate)})`)
  } finally {
    await loaded.stop()
  }

  const small = await idleProfile(16)
  const huge = await idleProfile(10_000_000)
  const extra = huge.rss - small.rss
  console.log('\nidle node                 RSS        CPU')
  console.log(`  16 databases           ${mb(small.rss).padStart(8)}   ${small.cpuPercent.toFixed(1)}%`)
  console.log(`  10,000,000 databases   ${mb(huge.rss).padStart(8)}   ${huge.cpuPercent.toFixed(1)}%`)
  console.log(`  10M dbs add ${mb(extra)} ${extra <= 10 * 1024 * 1024 ? '(goal <= 10 MB: ok)' : '(ABOVE GOAL 10 MB)'}, ${huge.cpuPercent <= 0.5 ? 'no idle CPU' : 'IDLE CPU USED'}`)

  const move = await scriptMove()
  console.log(`\none EVAL that SCANs db 1 and MOVEs every key to db 0: ${move.keys} keys in ${move.ms} ms (${kops((move.keys / move.ms) * 1000)})`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
