// What stage refuses before writing anything (an empty dataset, a record over maxRecordBytes),
// and verify naming wrong keys of a stage made from files in different formats.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {DatasetError, listManifests} from '../../src/dataset/index.js'
import {stage, verify, type StageOptions} from '../../src/ops/index.js'
import {connectPlane, type Plane} from '../../src/plane/index.js'
import {DB, backends, type Backend} from './backends.js'

for (const kind of backends) {
  describe.skipIf(kind.skip !== undefined)(`stage inputs on ${kind.name}`, () => {
    let backend: Backend
    let shadow: Plane
    let dir: string
    let stateDir: string
    const base = (): Pick<StageOptions, 'shadowDb' | 'stateDir' | 'target'> => ({shadowDb: DB.shadow, stateDir, target: {url: backend.url}})
    const file = (name: string, content: string) => {
      const path = join(dir, name)
      writeFileSync(path, content)
      return path
    }

    beforeAll(async () => {
      backend = await kind.start()
      shadow = await connectPlane({url: backend.url, db: DB.shadow})
    })
    afterAll(async () => {
      await shadow?.close()
      await backend?.stop()
    })
    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'flip-stage-inputs-'))
      stateDir = join(dir, 'state')
      await shadow.flushdb()
    })
    afterEach(() => {
      rmSync(dir, {recursive: true, force: true})
    })

    describe('an empty dataset', () => {
      const empties: Array<[name: string, options: () => Partial<StageOptions> & Pick<StageOptions, 'files'>]> = [
        ['an empty NDJSON file', () => ({files: [file('empty.ndjson', '\n\n')]})],
        ['a CSV with only a header', () => ({files: [file('empty.csv', 'sku,price\n')], csv: {key: 'p:{sku}', value: 'price'}})],
        ['an empty JSON array', () => ({files: [file('empty.json', '[]')]})],
        ['empty stdin', () => ({files: ['-'], stdin: Readable.from([])})],
      ]
      for (const [name, options] of empties) {
        it(`${name} is refused with --replace, before the shadow db or the manifests change`, async () => {
          const previous = await stage({...base(), files: [file('previous.ndjson', '{"key":"a","value":"1"}\n{"key":"b","value":"2"}\n')]})
          const given = options()
          const error = await stage({...base(), ...given, replace: true}).catch((e: unknown) => e)
          expect(error).toBeInstanceOf(DatasetError)
          const names = given.files!.map((f) => (f === '-' ? 'stdin' : f)).join(', ')
          expect(error).toMatchObject({exitCode: 2, message: `${names}: no records: refusing to stage an empty dataset, which would empty the live db at cutover (pass --allow-empty to stage 0 keys)`})
          expect((await shadow.dbsize()).total).toBe(2)
          expect((await listManifests(stateDir)).map((m) => m.manifest.id)).toEqual([previous.id])
          expect(await verify({stateDir, target: {url: backend.url}})).toMatchObject({ok: true, keys: 2})
        })
      }

      it('names every file when all of them are empty', async () => {
        const files = [file('a.ndjson', ''), file('b.json', ' [ ] ')]
        await expect(stage({...base(), files})).rejects.toThrow(`${files.join(', ')}: no records`)
      })

      it('is staged as 0 keys with allowEmpty, emptying the shadow with replace', async () => {
        await stage({...base(), files: [file('previous.ndjson', '{"key":"a","value":"1"}\n')]})
        const result = await stage({...base(), files: [file('empty.csv', 'sku,price\n')], csv: {key: 'p:{sku}', value: 'price'}, replace: true, allowEmpty: true})
        expect(result).toMatchObject({keys: 0, replaced: 1, dbsize: 0, checksum: '0'.repeat(32)})
        expect(await verify({stateDir, target: {url: backend.url}})).toMatchObject({ok: true, keys: 0})
      })
    })

    it('bad input in the first read chunk is refused before --replace empties the shadow', async () => {
      const previous = await stage({...base(), files: [file('previous.ndjson', '{"key":"a","value":"1"}\n')]})
      const bad = file('bad.ndjson', '{"key":"b","value":"2"}\n{"key":""}\n')
      await expect(stage({...base(), files: [bad], replace: true})).rejects.toThrow(`${bad}:2: empty key`)
      expect((await shadow.dbsize()).total).toBe(1)
      expect((await listManifests(stateDir)).map((m) => m.manifest.id)).toEqual([previous.id])
    })

    it('a first record over maxRecordBytes is refused with file:line before anything is written', async () => {
      const path = file('big.ndjson', `\n{"key":"b","value":"${'x'.repeat(5000)}"}\n{"key":"a","value":"1"}\n`)
      const error = await stage({...base(), files: [path], maxRecordBytes: 4096, replace: true}).catch((e: unknown) => e)
      expect(error).toMatchObject({exitCode: 2, message: `${path}:2: record larger than 4kb (raise --max-record-bytes to read it)`})
      expect((await shadow.dbsize()).total).toBe(0)
      expect(await listManifests(stateDir)).toEqual([])
      expect(await stage({...base(), files: [path], maxRecordBytes: 8192})).toMatchObject({keys: 2})
    })

    it('a later record over maxRecordBytes stops the stage with file:line and leaves the manifest incomplete', async () => {
      const good = Array.from({length: 3000}, (_, i) => JSON.stringify({key: `k:${i}`, value: String(i)}))
      const path = file('late.ndjson', [...good, `{"key":"big","value":"${'x'.repeat(100_000)}"}`].join('\n'))
      const error = await stage({...base(), files: [path], maxRecordBytes: 65536}).catch((e: unknown) => e)
      expect(error).toMatchObject({exitCode: 2, message: `${path}:3001: record larger than 64kb (raise --max-record-bytes to read it)`})
      expect((await listManifests(stateDir)).map((m) => [m.manifest.complete, m.manifest.failure])).toEqual([[false, (error as Error).message]])
    })

    it('verify --source refuses a record over maxRecordBytes too', async () => {
      const path = file('big.json', `[{"key":"a","value":"${'x'.repeat(5000)}"}]`)
      await expect(verify({source: [path], db: DB.shadow, stateDir, target: {url: backend.url}, maxRecordBytes: 1000})).rejects.toThrow(
        `${path}:1: record larger than 1000 bytes`,
      )
    })

    it('names wrong keys of a stage from files in different formats, each re-read in its own format', async () => {
      const first = file('a.ndjson', '{"key":"a:1","value":"1"}\n{"key":"a:2","value":"2"}\n')
      const second = file('b.json', '[{"key":"b:1","value":"x"},\n {"key":"b:2","value":"y"}]')
      await stage({...base(), files: [first, second]})
      await shadow.command(shadow.nodeForKey('b:2'), ['SET', 'b:2', 'z'])
      await shadow.command(shadow.nodeForKey('b:1'), ['DEL', 'b:1'])
      const result = await verify({stateDir, target: {url: backend.url}})
      expect(result).toMatchObject({ok: false, named: true, missing: ['b:1'], different: [{key: 'b:2', reason: 'value "z", expected "y"'}]})
    })
  })
}
