// Long records: one record of tens of MB is read whole and right in every format, and a record
// over maxRecordBytes is refused with file:line, as soon as the reader has read past the limit
// (an endless line is not read to the end of the file first).
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DatasetError, formatByteSize, openDataset, parseByteSize, type DatasetRecord, type OpenDatasetOptions} from '../../src/dataset/index.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flip-record-size-'))
})
afterAll(() => {
  rmSync(dir, {recursive: true, force: true})
})

async function readAll(path: string, options: OpenDatasetOptions = {}): Promise<DatasetRecord[]> {
  const reader = await openDataset([path], options)
  const records: DatasetRecord[] = []
  for await (const batch of reader.batches()) records.push(...batch)
  return records
}

const MB = 1024 * 1024
const csv = {key: 'k:{id}', value: 'v'}

describe('a 50 MB record', () => {
  // A value that is not one byte repeated, so a misplaced chunk boundary would show.
  const value = Buffer.alloc(50 * MB)
  for (let i = 0; i < value.length; i++) value[i] = 0x61 + (i % 26)
  const cases: Array<[format: string, content: () => string, options: OpenDatasetOptions, key: string]> = [
    ['ndjson', () => `{"key":"a","value":"${value.toString('latin1')}"}\n{"key":"b","value":"1"}\n`, {}, 'a'],
    ['json', () => `[{"key":"a","value":"${value.toString('latin1')}"},\n{"key":"b","value":"1"}]`, {}, 'a'],
    ['csv', () => `id,v\na,${value.toString('latin1')}\nb,1\n`, {csv}, 'k:a'],
  ]
  for (const [format, content, options, key] of cases) {
    it(`is read whole from ${format}, and so is the record after it`, async () => {
      const path = join(dir, `long.${format}`)
      writeFileSync(path, content())
      const records = await readAll(path, options)
      rmSync(path)
      expect(records.map((r) => [r.key.toString(), r.value.type, r.origin.line])).toEqual([
        [key, 'string', format === 'csv' ? 2 : 1],
        [format === 'csv' ? 'k:b' : 'b', 'string', format === 'csv' ? 3 : 2],
      ])
      expect((records[0].value.value as Buffer).equals(value)).toBe(true)
    })
  }
})

describe('maxRecordBytes', () => {
  const big = 'x'.repeat(2000)
  const cases: Array<[format: string, content: string, options: OpenDatasetOptions, line: number]> = [
    ['ndjson', `{"key":"a","value":"1"}\n{"key":"b","value":"${big}"}\n`, {}, 2],
    ['json', `[{"key":"a","value":"1"},\n {"key":"b","value":"${big}"}]`, {}, 2],
    ['csv', `id,v\na,1\nb,${big}\n`, {csv}, 3],
  ]
  for (const [format, content, options, line] of cases) {
    it(`refuses a ${format} record over the limit, naming file and line`, async () => {
      const path = join(dir, `over.${format}`)
      writeFileSync(path, content)
      const error = await readAll(path, {...options, maxRecordBytes: 1024}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DatasetError)
      expect((error as Error).message).toBe(`${path}:${line}: record larger than 1kb (raise --max-record-bytes to read it)`)
      // The same file under a limit it fits.
      expect(await readAll(path, {...options, maxRecordBytes: 4096})).toHaveLength(2)
    })
  }

  it('counts a JSON record in UTF-8 bytes, not characters', async () => {
    const path = join(dir, 'utf8.json')
    writeFileSync(path, `[{"key":"a","value":"${'é'.repeat(600)}"}]`) // 600 characters, 1200 bytes
    await expect(readAll(path, {maxRecordBytes: 1024})).rejects.toThrow(`${path}:1: record larger than 1kb`)
  })

  for (const [format, content] of [
    ['ndjson', `{"key":"a","value":"1"}\n{"key":"b","value":"${'y'.repeat(4 * MB)}`],
    ['json', `[{"key":"a","value":"1"},\n{"key":"b","value":"${'y'.repeat(4 * MB)}`],
  ]) {
    it(`stops reading an unterminated ${format} record once it passes the limit`, async () => {
      const path = join(dir, `endless.${format}`)
      writeFileSync(path, content)
      const reader = await openDataset([path], {maxRecordBytes: MB})
      const error = await (async () => {
        for await (const _ of reader.batches());
      })().catch((e: unknown) => e)
      expect((error as Error).message).toBe(`${path}:2: record larger than 1mb (raise --max-record-bytes to read it)`)
      expect(reader.bytesRead).toBeLessThan(2 * MB)
    })
  }
})

describe('sizes as valkey.conf writes them', () => {
  it('parses bytes, k/kb, m/mb, g/gb in any case, and refuses anything else', () => {
    expect([parseByteSize('1048576'), parseByteSize('64mb'), parseByteSize('64MB'), parseByteSize('1k'), parseByteSize('1kb'), parseByteSize('2g'), parseByteSize('1gb')]).toEqual([
      1048576,
      64 * MB,
      64 * MB,
      1000,
      1024,
      2e9,
      1024 * MB,
    ])
    for (const bad of ['', '0', '-1', '1.5mb', 'mb', '12 parsecs', '1tb']) expect(parseByteSize(bad)).toBeUndefined()
  })

  it('prints a limit the way it can be written back', () => {
    expect([formatByteSize(512 * MB), formatByteSize(64 * MB), formatByteSize(1024), formatByteSize(1000)]).toEqual(['512mb', '64mb', '1kb', '1000 bytes'])
  })
})
