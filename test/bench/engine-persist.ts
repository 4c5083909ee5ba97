// Benchmark for the background engine, run with `npx tsx test/bench/engine-persist.ts`:
//  1. snapshot save and load of 1M keys: the format alone (in this process), then a real node
//     (SAVE over RESP, final save on stop, load time on restart)
//  2. `flip engine start` time and idle RSS with 16 vs 10,000,000 databases (the built CLI, dist/)
// Knob: BENCH_KEYS (default 1000000). Figures are noisy on a shared 2-core machine.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Keyspace} from '../../src/engine/keyspace/db.js'
import {startEngine} from '../../src/engine/index.js'
import {loadSnapshot, saveSnapshot, snapshotPath} from '../../src/engine/persist/index.js'
import {Probe} from '../../src/engine/daemon/probe.js'

const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000)
const root = fileURLToPath(new URL('../..', import.meta.url))
const rows: Array<[string, string]> = []
const report = (what: string, value: string) => {
  rows.push([what, value])
  console.log(`${what.padEnd(58)} ${value}`)
}
const ms = (n: number) => `${Math.round(n).toLocaleString('en-US')} ms`
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) * 1024 : NaN
}

async function formatAlone(dir: string): Promise<void> {
  const ks = new Keyspace(16)
  const db = ks.db(0)
  const now = Date.now()
  for (let i = 0; i < KEYS; i++) {
    db.set(`key:${i}`, `value-${i}`)
    if (i % 10 === 0) db.expireAt(`key:${i}`, now + 3_600_000)
  }
  const path = join(dir, 'format.snapshot')
  const saved = await saveSnapshot(ks, path, {mode: 'standalone', nodeIndex: 0, nodeCount: 1, databases: 16})
  report(`format: save ${KEYS.toLocaleString('en-US')} keys (serialize / total incl. fsync)`, `${ms(saved.serializeMs)} / ${ms(saved.totalMs)}, ${mb(saved.bytes)}`)
  ks.stop()
  const started = performance.now()
  const loaded = loadSnapshot(path, {databases: 16})
  report(`format: load ${loaded.keys.toLocaleString('en-US')} keys`, ms(performance.now() - started))
  loaded.keyspace.stop()
}

/** Pipelines KEYS SETs into one standalone node over a raw socket. */
async function fill(port: number): Promise<void> {
  const socket = connect({port, host: '127.0.0.1'})
  await new Promise((r) => socket.once('connect', r))
  let replies = 0
  const done = new Promise<void>((resolve) =>
    socket.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) replies++
      if (replies >= KEYS) resolve()
    }),
  )
  const BATCH = 10_000
  for (let i = 0; i < KEYS; i += BATCH) {
    let out = ''
    for (let j = i; j < Math.min(KEYS, i + BATCH); j++) {
      const key = `key:${j}`
      const value = `value-${j}`
      out += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`
    }
    if (!socket.write(out)) await new Promise((r) => socket.once('drain', r))
  }
  await done
  socket.destroy()
}

async function throughANode(dir: string): Promise<void> {
  const engine = await startEngine({mode: 'standalone', snapshotDir: dir, saveSeconds: 0})
  const port = engine.nodes[0].port
  await fill(port)
  const probe = await Probe.connect('127.0.0.1', port, {timeoutMs: 120_000})
  let started = performance.now()
  const reply = await probe.command('SAVE')
  report(`node: SAVE of ${KEYS.toLocaleString('en-US')} keys (node blocked)`, `${ms(performance.now() - started)} (${String(reply)}), ${mb(statSync(snapshotPath(dir, 0)).size)}`)
  report('node: RSS holding them', mb(rssOf(engine.nodes[0].pid)))
  probe.close()
  started = performance.now()
  await engine.stop()
  report('node: graceful stop incl. final snapshot', ms(performance.now() - started))
  started = performance.now()
  const again = await startEngine({mode: 'standalone', snapshotDir: dir, saveSeconds: 0})
  const restart = performance.now() - started
  const check = await Probe.connect('127.0.0.1', again.nodes[0].port)
  const size = await check.command('DBSIZE')
  check.close()
  report(`node: restart until serving, loading the snapshot`, `${ms(restart)} (DBSIZE ${size})`)
  await again.stop()
  started = performance.now()
  const empty = await startEngine({mode: 'standalone'})
  report('node: start without a snapshot (for comparison)', ms(performance.now() - started))
  await empty.stop()
}

/** `flip engine start` (detached, built CLI) with n databases: start time and idle RSS. */
function cliStart(databases: number): {startMs: number; rss: number} {
  const dir = mkdtempSync(join(tmpdir(), 'flip-bench-dbs-'))
  const args = ['bin/run.js', 'engine', 'start', '--dir', join(dir, 'engine'), '--state-dir', dir, '--port', '0', '--databases', String(databases), '--json']
  const env = {...process.env, NODE_ENV: 'production', FLIP_ENGINE_PASSWORD: ''}
  try {
    const started = performance.now()
    const out = JSON.parse(execFileSync(process.execPath, args, {cwd: root, env, encoding: 'utf8'}))
    const startMs = performance.now() - started
    execFileSync('sleep', ['2'])
    const state = JSON.parse(readFileSync(join(dir, 'engine', 'engine.state.json'), 'utf8'))
    const rss = [out.pid, ...state.nodes.map((n: {pid: number}) => n.pid)].reduce((sum: number, pid: number) => sum + rssOf(pid), 0)
    return {startMs, rss}
  } finally {
    execFileSync(process.execPath, ['bin/run.js', 'engine', 'stop', '--dir', join(dir, 'engine'), '--state-dir', dir], {cwd: root, env})
    rmSync(dir, {recursive: true, force: true})
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flip-bench-persist-'))
  try {
    await formatAlone(dir)
    await throughANode(dir)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
  for (const databases of [16, 10_000_000]) {
    const {startMs, rss} = cliStart(databases)
    report(`flip engine start, 3 nodes, ${databases.toLocaleString('en-US')} dbs: start / idle RSS (all processes)`, `${ms(startMs)} / ${mb(rss)}`)
  }
}

await main()
