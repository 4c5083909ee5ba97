// npm run test:faults -- soak [--minutes M] [--nodes N] [--clients C] [--keys K]
// (also npm run bench:soak). redis-benchmark --cluster -P 16 mixed load against a fresh engine
// cluster for M minutes (default 10): benchmark runs back to back, and at each minute one line
// with the requests completed per second over that minute, every node's RSS, and the error
// replies the nodes counted (INFO total_error_replies). Fails (exit 1) on any error reply, a
// benchmark that failed, or RSS still growing after warm-up (last minute > 1.2 × minute 2).
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {startEngine} from '../../src/engine/index.js'
import {RespClient} from '../engine/support/resp-client.js'

const TESTS = 'set,get,incr,lpush,lpop,sadd,hset,zadd'

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : 0
}

async function infoSum(ports: number[], field: string): Promise<number> {
  let total = 0
  for (const port of ports) {
    const c = await RespClient.connect(port)
    const m = new RegExp(`${field}:(\\d+)`).exec(String(await c.call('INFO', 'stats')))
    total += m ? Number(m[1]) : 0
    c.close()
  }
  return total
}

/** One redis-benchmark run; resolves with the requests it completed (from its CSV lines). */
function benchmark(port: number, clients: number, keys: number, requests: number): Promise<{requests: number; ok: boolean; stderr: string}> {
  return new Promise((resolve) => {
    const args = ['--cluster', '-h', '127.0.0.1', '-p', String(port), '-P', '16', '-c', String(clients), '-n', String(requests), '-r', String(keys), '-t', TESTS, '--csv']
    const child = spawn('redis-benchmark', args, {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code) => {
      // CSV: "test","rps",...: one line per test, each of `requests` requests.
      const lines = out.split('\n').filter((l) => /^"[A-Z]/.test(l))
      resolve({requests: lines.length * requests, ok: code === 0 && lines.length > 0, stderr: err.trim().split('\n').slice(-3).join(' | ')})
    })
  })
}

export async function soakMain(args: string[]): Promise<number> {
  const opt = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? Number(args[i + 1]) : fallback
  }
  const minutes = opt('minutes', 10)
  const nodes = opt('nodes', 3)
  const clients = opt('clients', 50)
  const keys = opt('keys', 100_000)
  const engine = await startEngine({nodes})
  const ports = engine.nodes.map((n) => n.port)
  const pids = engine.nodes.map((n) => n.pid)
  const mb = (b: number) => `${(b / 1048576).toFixed(0)}`
  let failures = 0
  let lastFailure = ''
  try {
    console.log(`soak: ${minutes} min of redis-benchmark --cluster -P 16 -c ${clients} -r ${keys} -t ${TESTS}, ${nodes}-node engine cluster`)
    console.log(`minute  ops/s      ${pids.map((_, i) => `rss${i}(MB)`).join(' ')}  error replies`)
    const started = Date.now()
    const errorsAtStart = await infoSum(ports, 'total_error_replies')
    const rssByMinute: number[][] = []
    let minute = 1
    let doneThisMinute = 0
    let minuteStart = started
    let errorsBefore = errorsAtStart
    while (minute <= minutes) {
      const run = await benchmark(ports[0], clients, keys, 100_000)
      if (!run.ok) {
        failures++
        lastFailure = run.stderr
      }
      doneThisMinute += run.requests
      const now = Date.now()
      if (now - started >= minute * 60_000) {
        const rss = pids.map(rssOf)
        rssByMinute.push(rss)
        const errors = await infoSum(ports, 'total_error_replies')
        const opsPerSec = Math.round(doneThisMinute / ((now - minuteStart) / 1000))
        console.log(`${String(minute).padStart(6)}  ${String(opsPerSec).padEnd(9)}  ${rss.map((b) => mb(b).padStart(8)).join(' ')}  ${errors - errorsBefore}`)
        errorsBefore = errors
        doneThisMinute = 0
        minuteStart = now
        minute++
      }
    }
    const totalErrors = (await infoSum(ports, 'total_error_replies')) - errorsAtStart
    const problems: string[] = []
    if (totalErrors) problems.push(`${totalErrors} error replies`)
    if (failures) problems.push(`${failures} benchmark run(s) failed: ${lastFailure}`)
    if (rssByMinute.length >= 3) {
      const warm = rssByMinute[1]
      const last = rssByMinute.at(-1)!
      last.forEach((b, i) => b > warm[i] * 1.2 && problems.push(`node ${i} RSS grew from ${mb(warm[i])} MB (minute 2) to ${mb(b)} MB`))
    }
    for (const p of problems) console.log(`PROBLEM: ${p}`)
    return problems.length ? 1 : 0
  } finally {
    await engine.stop()
  }
}
