// stage's edges: stdin, CSV, empty input, progress reports, and servers that cannot take the data.
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {readManifest} from '../../src/dataset/index.js'
import {stage, verify, type StageProgress} from '../../src/ops/index.js'
import {connectPlane, type Plane} from '../../src/plane/index.js'
import {closedPort} from '../support/redis-server.js'
import {DB, backends, type Backend} from './backends.js'
import {tempDir} from '../support/temp.js'

const fixtures = new URL('../fixtures/', import.meta.url).pathname

for (const kind of backends) {
  describe.skipIf(kind.skip !== undefined)(`stage edges on ${kind.name}`, () => {
    let backend: Backend
    let shadow: Plane
    let stateDir: string
    const target = () => ({url: backend.url})

    beforeAll(async () => {
      backend = await kind.start()
      shadow = await connectPlane({url: backend.url, db: DB.shadow})
    })
    afterAll(async () => {
      await shadow?.close()
      await backend?.stop()
    })
    beforeEach(async () => {
      stateDir = tempDir('flip-ops-')
      await shadow.flushdb()
    })

    it('stages stdin; the manifest records "-" and verify then needs --source to name keys', async () => {
      const stdin = Readable.from([Buffer.from('{"key":"a","value":"1"}\n{"key":"b","value":"2"}\n')])
      const result = await stage({files: ['-'], stdin, shadowDb: DB.shadow, stateDir, target: target()})
      expect(result).toMatchObject({keys: 2, bytes: 48})
      const {manifest} = await readManifest(stateDir, result.id)
      expect(manifest.sources).toEqual([{path: '-', format: 'ndjson', size: 48, sha256: expect.stringMatching(/^[0-9a-f]{64}$/)}])
      expect(await verify({stateDir, target: target()})).toMatchObject({ok: true, keys: 2})
      await shadow.command(shadow.nodeForKey('a'), ['SET', 'a', '9'])
      expect(await verify({stateDir, target: target()})).toMatchObject({ok: false, named: false, note: expect.stringMatching(/staged from stdin.*pass --source FILE/)})
    })

    it('stages CSV rows as strings or hashes, and verify re-reads the CSV with the same options', async () => {
      const csv = {key: 'product:{{{sku}}}', hash: true}
      const result = await stage({files: [join(fixtures, 'prices.csv')], csv, shadowDb: DB.shadow, stateDir, target: target()})
      expect(result).toMatchObject({keys: 3, types: {hash: 3}})
      expect(String(await shadow.command(shadow.nodeForKey('product:{A1}'), ['HGET', 'product:{A1}', 'name']))).toBe('Mug, large')
      await shadow.command(shadow.nodeForKey('product:{B2}'), ['HSET', 'product:{B2}', 'price', '6'])
      expect(await verify({stateDir, target: target()})).toMatchObject({ok: false, named: true, different: [{key: 'product:{B2}', reason: 'hash fields differ'}]})
    })

    it('an empty input allowed with allowEmpty stages nothing and still writes a complete manifest', async () => {
      const dir = tempDir('flip-empty-')
      writeFileSync(join(dir, 'empty.json'), '[]')
      const result = await stage({files: [join(dir, 'empty.json')], allowEmpty: true, shadowDb: DB.shadow, stateDir, target: target()})
      expect(result).toMatchObject({keys: 0, checksum: '0'.repeat(32), dbsize: 0})
      expect(await verify({stateDir, target: target()})).toMatchObject({ok: true, keys: 0})
    })

    it('reports progress with keys, bytes and the total size, ending at the full count', async () => {
      const dir = tempDir('flip-progress-')
      const file = join(dir, 'many.ndjson')
      writeFileSync(file, Array.from({length: 5000}, (_, i) => JSON.stringify({key: `k:${i}`, value: i})).join('\n') + '\n')
      const reports: StageProgress[] = []
      await stage({files: [file], shadowDb: DB.shadow, stateDir, target: target(), onProgress: (p) => reports.push(p), progressIntervalMs: 0})
      expect(reports.length).toBeGreaterThan(1)
      const last = reports[reports.length - 1]
      expect(last).toMatchObject({keys: 5000, totalBytes: last.bytes})
      expect(reports.map((r) => r.keys)).toEqual([...reports.map((r) => r.keys)].sort((a, b) => a - b))
    })

    it('a db the server does not have is refused before anything is written', async () => {
      const error = await stage({files: [join(fixtures, 'catalog.ndjson')], shadowDb: 100000, stateDir, target: target()}).catch((e: unknown) => e)
      expect(error).toMatchObject({exitCode: 3, message: expect.stringMatching(/database 100000 is not available/)})
      expect(existsSync(join(stateDir, 'manifests'))).toBe(false)
    })
  })
}

describe('stage without a server', () => {
  it('an unreachable server is exit 3 and leaves no manifest', async () => {
    const stateDir = tempDir('flip-ops-')
    const url = `redis://127.0.0.1:${await closedPort()}`
    const error = await stage({files: [join(fixtures, 'catalog.ndjson')], shadowDb: 1, stateDir, target: {url}}).catch((e: unknown) => e)
    expect(error).toMatchObject({exitCode: 3, message: expect.stringMatching(/cannot connect to 127\.0\.0\.1:\d+: connection refused/)})
    expect(existsSync(join(stateDir, 'manifests'))).toBe(false)
  })

  it('bad input is reported before connecting (exit 2)', async () => {
    const stateDir = tempDir('flip-ops-')
    const error = await stage({files: [join(fixtures, 'nope.ndjson')], shadowDb: 1, stateDir, target: {url: 'redis://127.0.0.1:1'}}).catch((e: unknown) => e)
    expect(error).toMatchObject({exitCode: 2, message: `${join(fixtures, 'nope.ndjson')}: cannot read: no such file`})
  })
})
