// Benchmark (not a test): stage and verify 1M small string keys and 100k hashes into the bundled
// engine cluster (3 nodes) and a local redis-server, side by side with redis-benchmark's
// pipelined SET/GET on the same target. Each stage/verify runs in its own child process so its
// peak RSS is its own.
//
//   npx tsx test/ops/stage.bench.ts            # 1M strings + 100k hashes
//   npx tsx test/ops/stage.bench.ts --big      # also 5M strings (peak RSS check)
//   npx tsx test/ops/stage.bench.ts --only redis|engine
import {spawnSync} from 'node:child_process'
import {createWriteStream, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {once} from 'node:events'

const self = fileURLToPath(import.meta.url)
const root = join(self, '..', '..', '..')

if (process.argv[2] === '--child') {
  await child(process.argv[3] as 'stage' | 'verify', process.argv[4], process.argv[5], process.argv[6])
  process.exit(0)
}

interface ChildReport {
  keys: number
  seconds: number
  keysPerSecond: number
  maxRssMB: number
  cpuSeconds: number
  ok?: boolean
}

async function child(what: 'stage' | 'verify', url: string, stateDir: string, file: string): Promise<void> {
  const {stage, verify} = await import('../../src/ops/index.js')
  const cpuStart = process.cpuUsage()
  const result =
    what === 'stage'
      ? await stage({files: [file], shadowDb: 1, replace: true, stateDir, target: {url}})
      : await verify({stateDir, target: {url}, db: 1})
  const cpu = process.cpuUsage(cpuStart)
  const report: ChildReport = {
    keys: result.keys,
    seconds: result.seconds,
    keysPerSecond: result.keysPerSecond,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    ok: 'ok' in result ? result.ok : undefined,
  }
  process.stdout.write(JSON.stringify(report) + '\n')
}

function runChild(what: 'stage' | 'verify', url: string, stateDir: string, file: string): ChildReport {
  const run = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', what, url, stateDir, file], {cwd: root, encoding: 'utf8'})
  if (run.status !== 0) throw new Error(`${what} child failed: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as ChildReport
}

/** redis-benchmark -P 64 -t set,get: requests per second, or undefined when it cannot run there. */
function redisBenchmark(host: string, port: number, cluster: boolean, test: 'set' | 'get', requests: number): number | undefined {
  const args = ['-h', host, '-p', String(port), '-P', '64', '-t', test, '-n', String(requests), '-r', '1000000', '-q', '--csv']
  if (cluster) args.push('--cluster')
  const run = spawnSync('redis-benchmark', args, {encoding: 'utf8', timeout: 120_000})
  const line = run.stdout?.split('\n').find((l) => l.toUpperCase().startsWith(`"${test.toUpperCase()}"`))
  const rate = line ? Number(line.split(',')[1]?.replaceAll('"', '')) : NaN
  return Number.isFinite(rate) ? rate : undefined
}

async function writeDataset(path: string, count: number, make: (i: number) => object): Promise<void> {
  const out = createWriteStream(path)
  let chunk = ''
  for (let i = 0; i < count; i++) {
    chunk += JSON.stringify(make(i)) + '\n'
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain')
      chunk = ''
    }
  }
  out.end(chunk)
  await once(out, 'finish')
}

interface Target {
  name: string
  url: string
  host: string
  port: number
  cluster: boolean
  stop(): Promise<void>
}

async function startTargets(only: string | undefined): Promise<Target[]> {
  const targets: Target[] = []
  if (only === undefined || only === 'engine') {
    const {startEngine} = await import('../../src/engine/index.js')
    const engine = await startEngine({mode: 'cluster', nodes: 3, databases: 16})
    targets.push({name: 'bundled engine (cluster, 3 nodes)', url: engine.seedUrl, host: engine.nodes[0].host, port: engine.nodes[0].port, cluster: true, stop: () => engine.stop()})
  }
  if (only === undefined || only === 'redis') {
    const {startRedisServer} = await import('../support/redis-server.js')
    const server = await startRedisServer()
    targets.push({name: 'redis-server 7 (standalone)', url: server.url, host: '127.0.0.1', port: server.port, cluster: false, stop: () => server.stop()})
  }
  return targets
}

const args = process.argv.slice(2)
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
const dir = mkdtempSync(join(tmpdir(), 'flip-bench-stage-'))
try {
  const datasets: Array<{name: string; file: string}> = [
    {name: '1M strings', file: join(dir, 'strings-1m.ndjson')},
    {name: '100k hashes', file: join(dir, 'hashes-100k.ndjson')},
  ]
  await writeDataset(datasets[0].file, 1_000_000, (i) => ({key: `product:${i}:price`, value: `${(i % 10_000) / 100}`}))
  await writeDataset(datasets[1].file, 100_000, (i) => ({key: `product:${i}`, value: {name: `Product ${i}`, price: `${(i % 10_000) / 100}`, stock: `${i % 50}`}}))
  if (args.includes('--big')) {
    datasets.push({name: '5M strings', file: join(dir, 'strings-5m.ndjson')})
    await writeDataset(datasets[2].file, 5_000_000, (i) => ({key: `product:${i}:price`, value: `${(i % 10_000) / 100}`}))
  }

  for (const target of await startTargets(only)) {
    try {
      const setRate = redisBenchmark(target.host, target.port, target.cluster, 'set', 1_000_000)
      const getRate = redisBenchmark(target.host, target.port, target.cluster, 'get', 1_000_000)
      console.log(`\n${target.name}: redis-benchmark -P 64: SET ${fmt(setRate)}/s, GET ${fmt(getRate)}/s`)
      for (const dataset of datasets) {
        const stateDir = join(dir, 'state')
        const staged = runChild('stage', target.url, stateDir, dataset.file)
        const verified = runChild('verify', target.url, stateDir, dataset.file)
        console.log(
          `  ${dataset.name.padEnd(12)} stage ${fmt(staged.keysPerSecond)} keys/s (${staged.seconds.toFixed(2)} s, cpu ${staged.cpuSeconds.toFixed(1)} s, peak RSS ${staged.maxRssMB} MB)` +
            `${setRate ? `, ${(staged.keysPerSecond / setRate).toFixed(2)}x SET` : ''}` +
            ` | verify ${verified.ok ? 'ok' : 'MISMATCH'} ${fmt(verified.keysPerSecond)} keys/s (${verified.seconds.toFixed(2)} s, cpu ${verified.cpuSeconds.toFixed(1)} s, peak RSS ${verified.maxRssMB} MB)` +
            `${getRate ? `, ${(verified.keysPerSecond / getRate).toFixed(2)}x GET` : ''}`,
        )
      }
    } finally {
      await target.stop()
    }
  }
  const idle = spawnSync(process.execPath, ['--import', 'tsx', '-e', 'console.log(Math.round(process.resourceUsage().maxRSS/1024))'], {cwd: root, encoding: 'utf8'})
  console.log(`\n(peak RSS includes the tsx loader: an idle node --import tsx child peaks at ${idle.stdout.trim()} MB)`)
} finally {
  rmSync(dir, {recursive: true, force: true})
}

function fmt(n: number | undefined): string {
  return n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US')
}
