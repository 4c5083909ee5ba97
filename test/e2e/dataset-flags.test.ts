// The dataset flags of `flip stage` and `flip verify --source` as a user types them (the built
// CLI in a child process, against the bundled engine): one set of CSV flags and checks for both
// commands, --max-record-bytes, and the refusal of an empty dataset unless --allow-empty.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {connectPlane, type Plane} from '../../src/plane/index.js'
import {startTestEngine, type TestEngine} from '../support/engine.js'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname

let engine: TestEngine
let shadow: Plane
let dir: string

function flip(args: string[]) {
  const result = spawnSync(process.execPath, [runJs, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: {...process.env, FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: engine.seedUrl, CI: 'true'},
    timeout: 60_000,
  })
  return {code: result.status, stdout: result.stdout, stderr: result.stderr}
}

// Read directly, not through more child processes: each costs seconds on a loaded machine.
const shadowKeys = async () => (await shadow.dbsize()).total
const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.includes('Error'))

beforeAll(async () => {
  engine = await startTestEngine()
  shadow = await connectPlane({url: engine.seedUrl, db: 1})
  dir = mkdtempSync(join(tmpdir(), 'flip-dataset-flags-'))
  writeFileSync(join(dir, 'prices.csv'), 'sku,price,ttl\nA1,19.90,3600\nB2,5,\n')
  writeFileSync(join(dir, 'header-only.csv'), 'sku,price,ttl\n')
  writeFileSync(join(dir, 'big.ndjson'), `\n{"key":"b","value":"${'x'.repeat(2000)}"}\n{"key":"a","value":"1"}\n`)
})

afterAll(async () => {
  await shadow?.close()
  await engine?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

beforeEach(async () => {
  await shadow.flushdb()
  rmSync(join(dir, 'state'), {recursive: true, force: true})
})

// Up to five CLI runs a test: allow for a machine shared with other test runs.
describe('dataset flags', {timeout: 180_000}, () => {
  it('verify --source reads a CSV with the same --key/--value/--ttl as stage', () => {
    const csv = ['--key', 'price:{sku}', '--value', 'price', '--ttl', 'ttl']
    expect(flip(['stage', 'prices.csv', ...csv]).code).toBe(0)
    const verified = flip(['verify', '--source', 'prices.csv', ...csv, '--json'])
    expect(verified.code).toBe(0)
    expect(JSON.parse(verified.stdout)).toMatchObject({ok: true, keys: 2, against: 'source'})
    // Without --ttl the file describes keys without a TTL: a mismatch, so --ttl was used above.
    expect(flip(['verify', '--source', 'prices.csv', '--key', 'price:{sku}', '--value', 'price']).code).toBe(1)
    // The dataset flags describe --source files: without --source they are refused, not ignored.
    const withoutSource = flip(['verify', '--key', 'price:{sku}', '--value', 'price'])
    expect(withoutSource.code).toBe(2)
    expect(withoutSource.stderr).toContain('describe --source files: pass --source FILE')
  })

  for (const command of [['stage', 'prices.csv'], ['verify', '--source', 'prices.csv']]) {
    it(`${command[0]} checks the CSV flags the same way`, async () => {
      const withoutKey = flip([...command, '--value', 'price'])
      expect(withoutKey.code).toBe(2)
      expect(withoutKey.stderr).toContain('--value, --hash and --ttl need --key (the CSV key template)')
      const both = flip([...command, '--key', 'price:{sku}', '--value', 'price', '--hash'])
      expect(both.code).toBe(2)
      expect(errorLines(both.stderr)).toEqual([expect.stringContaining('--value and --hash exclude each other')])
      const badSize = flip([...command, '--key', 'price:{sku}', '--value', 'price', '--max-record-bytes', '12 parsecs'])
      expect(badSize.code).toBe(2)
      expect(badSize.stderr).toContain('--max-record-bytes "12 parsecs" is not a size')
      expect(await shadowKeys()).toBe(0)
    })
  }

  it('stage refuses a first record over --max-record-bytes with file:line, exit 2, writing nothing', async () => {
    const refused = flip(['stage', 'big.ndjson', '--max-record-bytes', '1kb'])
    expect(refused.code).toBe(2)
    expect(errorLines(refused.stderr)).toEqual([expect.stringContaining('big.ndjson:2: record larger than 1kb (raise --max-record-bytes to read it)')])
    expect(await shadowKeys()).toBe(0)
    expect(existsSync(join(dir, 'state', 'manifests'))).toBe(false)
    expect(flip(['stage', 'big.ndjson', '--max-record-bytes', '64mb']).code).toBe(0)
    const verified = flip(['verify', '--source', 'big.ndjson', '--max-record-bytes', '1kb'])
    expect(verified.code).toBe(2)
    expect(verified.stderr).toContain('big.ndjson:2: record larger than 1kb')
  })

  it('stage refuses an empty dataset, even with --replace, leaving the shadow and its manifest as they were', async () => {
    expect(flip(['stage', 'prices.csv', '--key', 'price:{sku}', '--value', 'price']).code).toBe(0)
    const refused = flip(['stage', 'header-only.csv', '--key', 'price:{sku}', '--value', 'price', '--replace'])
    expect(refused.code).toBe(2)
    expect(errorLines(refused.stderr)).toEqual([expect.stringContaining('header-only.csv: no records: refusing to stage an empty dataset')])
    expect(refused.stderr).toContain('--allow-empty')
    expect(await shadowKeys()).toBe(2)
    expect(flip(['verify']).code).toBe(0)
    const allowed = flip(['stage', 'header-only.csv', '--key', 'price:{sku}', '--value', 'price', '--replace', '--allow-empty', '--json'])
    expect(allowed.code).toBe(0)
    expect(JSON.parse(allowed.stdout)).toMatchObject({keys: 0, replaced: 2})
    expect(await shadowKeys()).toBe(0)
  })
})
