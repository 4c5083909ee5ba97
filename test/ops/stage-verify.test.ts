// stage → manifest → verify, on every backend: the same dataset gives the same checksum
// everywhere, bad input stops with its one-line error and leaves the shadow marked incomplete,
// and verify catches and names each kind of damage.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {DatasetChecksum, DatasetError, openDataset, readManifest} from '../../src/dataset/index.js'
import {checksumDb, checksumPlane, stage, stageFailureOf, verify} from '../../src/ops/index.js'
import {connectPlane, type Plane} from '../../src/plane/index.js'
import {DB, backends, type Backend} from './backends.js'
import {tempDir} from '../support/temp.js'

const fixtures = new URL('../fixtures/', import.meta.url).pathname
const catalog = join(fixtures, 'catalog.ndjson')

async function localChecksum(files: string[]): Promise<string> {
  const sum = new DatasetChecksum()
  const reader = await openDataset(files)
  for await (const batch of reader.batches()) for (const r of batch) sum.add(r.key, r.value, r.ttl !== undefined)
  return sum.checksum
}

for (const kind of backends) {
  describe.skipIf(kind.skip !== undefined)(`stage and verify on ${kind.name}`, () => {
    let backend: Backend
    let shadow: Plane
    let live: Plane
    let stateDir: string
    const target = () => ({url: backend.url})

    beforeAll(async () => {
      backend = await kind.start()
      shadow = await connectPlane({url: backend.url, db: DB.shadow})
      live = await connectPlane({url: backend.url, db: DB.live})
    })
    afterAll(async () => {
      await shadow?.close()
      await live?.close()
      await backend?.stop()
    })
    beforeEach(async () => {
      stateDir = tempDir('flip-ops-')
      await shadow.flushdb()
      await live.flushdb()
    })

    it('stages a file into the shadow db and writes a complete manifest with the checksum computed locally', async () => {
      const result = await stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()})
      expect(result).toMatchObject({db: DB.shadow, keys: 7, dbsize: 7, replaced: 0, types: {string: 3, hash: 1, set: 1, zset: 1, list: 1}})
      expect(result.checksum).toBe(await localChecksum([catalog]))
      const {manifest} = await readManifest(stateDir, result.manifest)
      expect(manifest).toMatchObject({id: result.id, complete: true, db: DB.shadow, keys: 7, checksum: result.checksum})
      expect(manifest.sources[0]).toMatchObject({path: catalog, format: 'ndjson', sha256: expect.stringMatching(/^[0-9a-f]{64}$/)})
      if (kind.mode) expect({mode: manifest.target.mode, primaries: manifest.target.nodes.length}).toEqual(kind.mode)
      if (kind.server) expect(manifest.target.server).toMatch(kind.server)
      expect(JSON.stringify(manifest)).not.toMatch(/password/i)
      expect((await live.dbsize()).total).toBe(0) // the live db is never touched
    })

    it('verify re-reads the db and finds the same checksum as the manifest and as the file', async () => {
      const staged = await stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()})
      const byManifest = await verify({stateDir, target: target()})
      expect(byManifest).toMatchObject({ok: true, db: DB.shadow, against: 'manifest', keys: 7, checksum: staged.checksum, expected: staged.checksum, perSlotMismatches: 0})
      const bySource = await verify({source: [join(fixtures, 'catalog.json')], db: DB.shadow, stateDir, target: target()})
      expect(bySource).toMatchObject({ok: true, against: 'source', checksum: staged.checksum})
    })

    it('the checksum survives the server round trip for binary keys, odd scores and large collections', async () => {
      const dir = tempDir('flip-odd-')
      const big = Array.from({length: 1500}, (_, i) => `m${i}`)
      const lines = [
        {key: 'scores', type: 'zset', value: [['a', 0.1], ['b', 1e21], ['c', '-inf'], ['d', -0], ['e', 1 / 3], ['f', 5e-324]]},
        {key: 'ünïcödé:{tag}', value: 'välue'},
        {key: 'big:set', type: 'set', value: big},
        {key: 'big:list', type: 'list', value: big, ttl: 1000},
        {key: 'big:hash', value: Object.fromEntries(big.map((m, i) => [m, i]))},
      ]
      const file = join(dir, 'odd.ndjson')
      writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'))
      const staged = await stage({files: [file], shadowDb: DB.shadow, stateDir, target: target()})
      expect(staged.checksum).toBe(await localChecksum([file]))
      expect(await verify({stateDir, target: target()})).toMatchObject({ok: true, checksum: staged.checksum})
    })

    it('checksumDb gives the same checksum in any db', async () => {
      const staged = await stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()})
      await stage({files: [catalog], shadowDb: DB.other, replace: true, stateDir, target: target()})
      const [inShadow, inOther] = await Promise.all([DB.shadow, DB.other].map((db) => checksumDb({target: target(), db})))
      expect(inShadow).toMatchObject({db: DB.shadow, keys: 7, checksum: staged.checksum})
      expect(inOther).toMatchObject({db: DB.other, keys: 7, checksum: staged.checksum, slots: inShadow.slots})
    })

    it('a scan that read more keys than the db holds afterwards is read again, so a key SCAN returned twice cannot count twice', async () => {
      await stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()})
      // A key deleted while the scan runs leaves the same symptom as a key SCAN returned twice
      // (more keys read than DBSIZE says), which no server produces on demand.
      let deleted: Promise<unknown> | undefined
      const sum = await checksumPlane(shadow, () => {
        deleted ??= shadow.command(shadow.nodeForKey('recent'), ['DEL', 'recent'])
      })
      await deleted
      expect(sum.keys).toBe(6)
      expect(sum.checksum).toBe((await checksumDb({target: target(), db: DB.shadow})).checksum)
    })

    it('refuses a non-empty shadow unless replace, which empties it first', async () => {
      await stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()})
      await expect(stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()})).rejects.toThrow(
        `shadow db ${DB.shadow} is not empty (7 keys): pass --replace to empty it first`,
      )
      // Refusing to overwrite is a usage error (exit 2), as the README's table says.
      await expect(stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()})).rejects.toMatchObject({exitCode: 2})
      await shadow.command(shadow.nodeForKey('leftover'), ['SET', 'leftover', 'x'])
      const again = await stage({files: [catalog], shadowDb: DB.shadow, replace: true, stateDir, target: target()})
      expect(again).toMatchObject({replaced: 8, keys: 7, dbsize: 7})
    })

    it('refuses to stage into the live db', async () => {
      await expect(stage({files: [catalog], shadowDb: DB.live, liveDb: DB.live, stateDir, target: target()})).rejects.toMatchObject({exitCode: 2})
    })

    it('a bad record stops the stage with its one-line error, leaves the manifest incomplete, and never touches live', async () => {
      await stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()}) // an earlier, complete stage
      await shadow.flushdb()
      await live.command(live.nodeForKey('price:live'), ['SET', 'price:live', 'old'])
      const dir = tempDir('flip-bad-')
      const file = join(dir, 'prices.ndjson')
      const good = Array.from({length: 3000}, (_, i) => JSON.stringify({key: `p:${i}`, value: i}))
      writeFileSync(file, [...good, '{"key":"p:x","type":"sett","value":["a"]}', ...good.slice(0, 5)].join('\n'))
      const error = await stage({files: [file], shadowDb: DB.shadow, stateDir, target: target()}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DatasetError)
      expect((error as Error).message).toBe(`${file}:3001: unknown type "sett" (expected string, hash, set, zset or list)`)
      const failure = stageFailureOf(error)!
      expect(failure).toMatchObject({shadowDb: DB.shadow, keysWritten: expect.any(Number)})
      const {manifest} = await readManifest(stateDir, failure.manifest)
      expect(manifest).toMatchObject({complete: false, failure: (error as Error).message})
      await expect(verify({stateDir, target: target(), manifest: failure.id})).rejects.toThrow(/is incomplete \(.*unknown type "sett".*\): db 12 does not hold a complete dataset/)
      await expect(verify({stateDir, target: target(), db: DB.shadow})).rejects.toMatchObject({exitCode: 1, message: expect.stringMatching(/is incomplete/)})
      await expect(verify({stateDir, target: target(), db: DB.other})).rejects.toThrow(`no manifest of db ${DB.other} in ${stateDir}`)
      expect((await live.dbsize()).total).toBe(1)
      expect(String(await live.command(live.nodeForKey('price:live'), ['GET', 'price:live']))).toBe('old')
    })

    describe('verify catches and names each kind of damage', () => {
      const faults: Array<[name: string, damage: (p: Plane) => Promise<unknown>, expected: Record<string, unknown>]> = [
        ['a changed value', (p) => p.command(p.nodeForKey('product:1:price'), ['SET', 'product:1:price', '21.00']), {different: [{key: 'product:1:price', reason: 'value "21.00", expected "19.90"'}], differentCount: 1}],
        ['a missing key', (p) => p.command(p.nodeForKey('recent'), ['DEL', 'recent']), {missing: ['recent'], missingCount: 1}],
        ['an extra key', (p) => p.command(p.nodeForKey('product:9:price'), ['SET', 'product:9:price', '1']), {extra: ['product:9:price'], extraCount: 1}],
        ['a TTL added', (p) => p.command(p.nodeForKey('tags:1'), ['EXPIRE', 'tags:1', '1000']), {different: [{key: 'tags:1', reason: 'has a TTL, expected none'}]}],
        ['a TTL removed', (p) => p.command(p.nodeForKey('{cat}:flash'), ['PERSIST', '{cat}:flash']), {different: [{key: '{cat}:flash', reason: 'has no TTL, expected one'}]}],
        ['a type change', async (p) => {
          await p.command(p.nodeForKey('product:2:price'), ['DEL', 'product:2:price'])
          await p.command(p.nodeForKey('product:2:price'), ['SADD', 'product:2:price', '5'])
        }, {different: [{key: 'product:2:price', reason: 'type set, expected string'}]}],
        ['a changed hash field', (p) => p.command(p.nodeForKey('product:1'), ['HSET', 'product:1', 'price', '9']), {different: [{key: 'product:1', reason: 'hash fields differ'}]}],
        ['a changed zset score', (p) => p.command(p.nodeForKey('rank'), ['ZADD', 'rank', '2', 'product:1']), {different: [{key: 'rank', reason: 'zset members differ'}]}],
      ]
      for (const [name, damage, expected] of faults) {
        it(name, async () => {
          await stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()})
          await damage(shadow)
          const result = await verify({stateDir, target: target()})
          expect(result).toMatchObject({ok: false, named: true, perSlotMismatches: expect.any(Number), ...expected})
          expect(result.missingCount + result.extraCount + result.differentCount).toBe(1)
          // Against the file itself, the same finding.
          expect(await verify({source: [catalog], db: DB.shadow, stateDir, target: target()})).toMatchObject({ok: false, ...expected})
        })
      }

      it('all at once, with counts', async () => {
        await stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()})
        for (const [, damage] of faults.slice(0, 4)) await damage(shadow)
        const result = await verify({stateDir, target: target()})
        expect(result).toMatchObject({ok: false, keys: 7, expectedKeys: 7, missingCount: 1, extraCount: 1, differentCount: 2})
        expect(result.different.map((d) => d.key)).toEqual(['product:1:price', 'tags:1'])
      })

      it('names keys in several passes when the mismatching slots hold more keys than one pass may keep', async () => {
        await stage({files: [catalog], shadowDb: DB.shadow, stateDir, target: target()})
        for (const [, damage] of faults.slice(0, 4)) await damage(shadow)
        const result = await verify({stateDir, target: target(), namingKeysPerPass: 1})
        expect(result).toMatchObject({missing: ['recent'], extra: ['product:9:price'], differentCount: 2})
      })

      it('without a usable source it still reports the mismatching slots and says how to name keys', async () => {
        const dir = tempDir('flip-src-')
        const file = join(dir, 'catalog.ndjson')
        writeFileSync(file, '{"key":"a","value":"1"}\n{"key":"b","value":"2"}\n')
        await stage({files: [file], shadowDb: DB.shadow, stateDir, target: target()})
        writeFileSync(file, '{"key":"a","value":"1"}\n{"key":"b","value":"3"}\n')
        await shadow.command(shadow.nodeForKey('a'), ['SET', 'a', 'x'])
        const result = await verify({stateDir, target: target()})
        expect(result).toMatchObject({ok: false, named: false, perSlotMismatches: 1, note: `the source file ${file} changed since the stage: pass --source FILE to name the wrong keys`})
      })
    })
  })
}
