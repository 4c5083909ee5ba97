// npx tsx test/bench/long-record.ts [--mb 5,20,50] [--lines 1000000]
//
// Reading time of one long record in each format (NDJSON line, JSON array element, CSV row, and a
// malformed NDJSON line that must be refused), then the parse throughput of a file of many small
// NDJSON records (the common case, which must not get slower). Reads through openDataset only:
// no server. Not run by the test command.
import {mkdtempSync, rmSync, writeFileSync, createWriteStream} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {openDataset, type OpenDatasetOptions} from '../../src/dataset/index.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)
const sizes = option('--mb', '5,20,50').split(',').map(Number)
const lines = Number(option('--lines', '1000000'))

const dir = mkdtempSync(join(tmpdir(), 'flip-bench-long-'))

async function timeRead(path: string, options: OpenDatasetOptions = {}): Promise<{seconds: number; keys: number; error?: string}> {
  const started = process.hrtime.bigint()
  let keys = 0
  let error: string | undefined
  try {
    const reader = await openDataset([path], options)
    for await (const batch of reader.batches()) keys += batch.length
  } catch (caught) {
    error = (caught as Error).message.slice(0, 100)
  }
  return {seconds: Number(process.hrtime.bigint() - started) / 1e9, keys, error}
}

try {
  for (const mb of sizes) {
    const value = 'x'.repeat(mb * 1024 * 1024)
    const ndjson = join(dir, `long-${mb}.ndjson`)
    writeFileSync(ndjson, `{"key":"a","value":"${value}"}\n{"key":"b","value":"1"}\n`)
    const json = join(dir, `long-${mb}.json`)
    writeFileSync(json, `[{"key":"a","value":"${value}"},{"key":"b","value":"1"}]`)
    const csv = join(dir, `long-${mb}.csv`)
    writeFileSync(csv, `id,v\na,${value}\nb,1\n`)
    const broken = join(dir, `broken-${mb}.ndjson`)
    writeFileSync(broken, `{"key":"a","value":"${value}`)
    for (const [label, path, options] of [
      ['ndjson', ndjson, {}],
      ['json', json, {}],
      ['csv', csv, {csv: {key: 'k:{id}', value: 'v'}}],
      ['ndjson unterminated', broken, {}],
    ] as Array<[string, string, OpenDatasetOptions]>) {
      const {seconds, keys, error} = await timeRead(path, options)
      console.log(`${String(mb).padStart(3)} MB ${label.padEnd(20)} ${seconds.toFixed(2)} s  ${error ? `refused: ${error}` : `${keys} keys`}`)
    }
    for (const path of [ndjson, json, csv, broken]) rmSync(path)
  }

  if (lines > 0) {
    const small = join(dir, 'small.ndjson')
    const out = createWriteStream(small)
    for (let i = 0; i < lines; i++) {
      const line = i % 10 === 0 ? `{"key":"product:${i}","value":{"name":"Item ${i}","price":"${i % 100}.99"}}\n` : `{"key":"price:${i}","value":"${i % 1000}.50"}\n`
      if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    }
    await new Promise((resolve) => out.end(resolve))
    const runs: number[] = []
    for (let run = 0; run < 3; run++) runs.push((await timeRead(small)).seconds)
    const best = Math.min(...runs)
    console.log(`${lines} small records: best of 3 ${best.toFixed(2)} s (${Math.round(lines / best).toLocaleString('en')} records/s), runs ${runs.map((s) => s.toFixed(2)).join(' ')}`)
  }
} finally {
  rmSync(dir, {recursive: true, force: true})
}
