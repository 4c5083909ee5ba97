// npm run bench:stage — stage and verify through the real ops (src/ops) into the bundled engine
// cluster (3 nodes) and into a local redis-server, side by side with redis-benchmark in the same run.
//
//   npx tsx test/bench/stage.ts [--keys 1000000] [--hashes 100000] [--only engine|redis]
//
// For each target: `redis-benchmark -P 64 -t set,get` (with --cluster on the engine), and the same
// for `HSET key name … price … stock …` and `HGETALL key` (the staged hashes' shape), then
//   stage N small string keys, verify them, stage M hashes (--replace), verify them.
// Each stage/verify runs in a child process so its peak RSS (maxRSS) is its own; the child runs
// the built code with plain Node (dist/, as the CLI ships; run `npm run build` first) or, without
// dist/, the sources via tsx (whose loader adds to the RSS).
// Goals (issue 4): stage >= 0.6x redis-benchmark SET, verify >= 0.4x its GET, peak RSS <= 200 MB.
import {execFile, spawnSync} from 'node:child_process'
import {createWriteStream, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {promisify} from 'node:util'

const run = promisify(execFile)
const args = process.argv.slice(2)
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)

interface OpReport {
  keys: number
  seconds: number
  keysPerSecond: number
  maxRssMB: number
  /** CPU time (user + system) of the child per key: robust when the machine is shared. */
  cpuMicrosPerKey: number
  ok?: boolean
}

if (args[0] === '--child') {
  // Child: run one op and print its report as one JSON line.
  const {op, url, file, db, stateDir, ops} = JSON.parse(args[1]) as {op: 'stage' | 'verify'; url: string; file: string; db: number; stateDir: string; ops: string}
  const {stage, verify} = (await import(ops)) as typeof import('../../src/ops/index.js')
  const target = {url, env: {}}
  const cpuBefore = process.cpuUsage()
  const cpuMicros = () => {
    const used = process.cpuUsage(cpuBefore)
    return used.user + used.system
  }
  const result =
    op === 'stage' ? await stage({files: [file], shadowDb: db, replace: true, stateDir, target}) : await verify({db, stateDir, target})
  const report: OpReport = {
    keys: result.keys,
    seconds: result.seconds,
    keysPerSecond: result.keysPerSecond,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    cpuMicrosPerKey: cpuMicros() / Math.max(1, result.keys),
    ok: 'ok' in result ? result.ok : undefined,
  }
  console.log(JSON.stringify(report))
  process.exit(0)
}

const KEYS = Number(option('--keys', '1000000'))
const HASHES = Number(option('--hashes', '100000'))
const ONLY = option('--only', '')
const self = fileURLToPath(import.meta.url)
const builtOps = fileURLToPath(new URL('../../dist/ops/index.js', import.meta.url))
const useBuilt = existsSync(builtOps)
const opsModule = useBuilt ? pathToFileURL(builtOps).href : new URL('../../src/ops/index.ts', import.meta.url).href

async function writeLines(path: string, count: number, line: (n: number) => string): Promise<void> {
  const out = createWriteStream(path)
  for (let n = 0; n < count; n++) {
    if (!out.write(line(n))) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject)
    out.end(() => resolve())
  })
}

/** The child's code when dist/ exists: plain Node, no TypeScript loader inflating its RSS. */
const BUILT_CHILD = `
const {op, url, file, db, stateDir, ops} = JSON.parse(process.argv[1])
const {stage, verify} = await import(ops)
const target = {url, env: {}}
const cpuBefore = process.cpuUsage()
const result = op === 'stage' ? await stage({files: [file], shadowDb: db, replace: true, stateDir, target}) : await verify({db, stateDir, target})
const cpu = process.cpuUsage(cpuBefore)
console.log(JSON.stringify({keys: result.keys, seconds: result.seconds, keysPerSecond: result.keysPerSecond, maxRssMB: process.resourceUsage().maxRSS / 1024, cpuMicrosPerKey: (cpu.user + cpu.system) / Math.max(1, result.keys), ok: result.ok}))
process.exit(0)
`

async function childOp(op: 'stage' | 'verify', url: string, file: string, stateDir: string): Promise<OpReport> {
  const job = JSON.stringify({op, url, file, db: 1, stateDir, ops: opsModule})
  const argv = useBuilt ? ['--input-type=module', '-e', BUILT_CHILD, job] : ['--import', 'tsx', self, '--child', job]
  const {stdout} = await run(process.execPath, argv, {maxBuffer: 1 << 24})
  const report = JSON.parse(stdout.trim().split('\n').pop()!) as OpReport
  if (op === 'verify' && report.ok !== true) throw new Error(`verify failed on ${url}`)
  return report
}

interface Baseline {
  set: number
  get: number
  /** HSET of a 3-field hash per key, the shape of the hashes staged here. */
  hset: number
  hgetall: number
}

function benchmarkRate(port: number, cluster: boolean, requests: number, command: string[]): Map<string, number> {
  const result = spawnSync(
    'redis-benchmark',
    ['-p', String(port), '-P', '64', '-n', String(requests), '-r', String(requests), '--csv', ...(cluster ? ['--cluster'] : []), ...command],
    {encoding: 'utf8'},
  )
  const rates = new Map<string, number>()
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('"') || line.startsWith('"test"')) continue
    const [name, rps] = JSON.parse(`[${line}]`) as [string, string]
    rates.set(name.split(' ')[0], Number(rps))
  }
  return rates
}

function redisBenchmark(port: number, cluster: boolean): Baseline {
  const plain = benchmarkRate(port, cluster, KEYS, ['-t', 'set,get'])
  // In cluster mode redis-benchmark routes a custom command by the {tag} it fills in per node.
  const key = cluster ? 'product:{tag}:__rand_int__' : 'product:__rand_int__'
  const hset = benchmarkRate(port, cluster, HASHES, ['HSET', key, 'name', 'Product 12345', 'price', '12.34', 'stock', '42'])
  const hgetall = benchmarkRate(port, cluster, HASHES, ['HGETALL', key])
  return {set: plain.get('SET')!, get: plain.get('GET')!, hset: hset.get('HSET')!, hgetall: hgetall.get('HGETALL')!}
}

const dir = mkdtempSync(join(tmpdir(), 'flip-bench-stage-'))
const strings = join(dir, 'prices.ndjson')
const hashes = join(dir, 'products.ndjson')
await writeLines(strings, KEYS, (n) => `{"key":"price:${n}","value":"${(n % 10000) / 100}"}\n`)
await writeLines(hashes, HASHES, (n) => `{"key":"product:${n}","value":{"name":"Product ${n}","price":"${(n % 10000) / 100}","stock":"${n % 97}"}}\n`)

const rows: string[] = []
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const ratio = (report: OpReport, baseline: number, name: string) => `${(report.keysPerSecond / baseline).toFixed(2)}× ${name} (${fmt(baseline)}/s)`
function row(target: string, what: string, report: OpReport, baselines: string[]) {
  const line = `| ${target} | ${what} | ${fmt(report.keys)} | ${report.seconds.toFixed(2)} | ${fmt(report.keysPerSecond)} | ${baselines.join('; ')} | ${report.maxRssMB.toFixed(0)} | ${report.cpuMicrosPerKey.toFixed(2)} |`
  rows.push(line)
  console.error(line)
}

async function benchTarget(name: string, url: string, port: number, cluster: boolean): Promise<void> {
  const stateDir = join(dir, `state-${name.replace(/\W+/g, '-')}`)
  const base = redisBenchmark(port, cluster)
  const stageStrings = await childOp('stage', url, strings, stateDir)
  row(name, 'stage strings', stageStrings, [ratio(stageStrings, base.set, 'SET')])
  const verifyStrings = await childOp('verify', url, strings, stateDir)
  row(name, 'verify strings', verifyStrings, [ratio(verifyStrings, base.get, 'GET')])
  const stageHashes = await childOp('stage', url, hashes, stateDir)
  row(name, 'stage hashes', stageHashes, [ratio(stageHashes, base.set, 'SET'), ratio(stageHashes, base.hset, 'HSET 3 fields')])
  const verifyHashes = await childOp('verify', url, hashes, stateDir)
  row(name, 'verify hashes', verifyHashes, [ratio(verifyHashes, base.get, 'GET'), ratio(verifyHashes, base.hgetall, 'HGETALL')])
}

try {
  if (ONLY !== 'redis') {
    const {startEngine} = await import('../../src/engine/index.js')
    const engine = await startEngine({nodes: 3, databases: 16})
    try {
      await benchTarget('engine cluster (3 nodes)', engine.seedUrl, engine.nodes[0].port, true)
    } finally {
      await engine.stop()
    }
  }
  if (ONLY !== 'engine') {
    const {startRedisServer} = await import('../support/redis-server.js')
    const server = await startRedisServer()
    try {
      await benchTarget('redis-server 7 standalone', server.url, server.port, false)
    } finally {
      await server.stop()
    }
  }
} finally {
  rmSync(dir, {recursive: true, force: true})
}

console.log(`\nops from ${useBuilt ? 'dist/ (built)' : 'src/ via tsx'}`)
console.log(`${fmt(KEYS)} string keys, ${fmt(HASHES)} hashes of 3 fields; redis-benchmark -P 64 on the same target just before: -t set,get -n ${fmt(KEYS)}, and HSET of 3 fields / HGETALL -n ${fmt(HASHES)}`)
console.log('| target | op | keys | seconds | keys/s | vs redis-benchmark | peak RSS MB | flip CPU µs/key |\n|---|---|---:|---:|---:|---|---:|---:|')
for (const line of rows) console.log(line)
