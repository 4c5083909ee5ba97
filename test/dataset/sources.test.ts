// Reading datasets: NDJSON, JSON arrays, CSV and stdin give validated records in batches.
import {createHash} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {DatasetChecksum, openDataset, type DatasetRecord, type OpenDatasetOptions} from '../../src/dataset/index.js'
import {tempDir} from '../support/temp.js'

const fixtures = new URL('../fixtures/', import.meta.url).pathname

async function readAll(paths: string[], options: OpenDatasetOptions = {}): Promise<DatasetRecord[]> {
  const reader = await openDataset(paths, options)
  const records: DatasetRecord[] = []
  for await (const batch of reader.batches()) records.push(...batch)
  return records
}

function text(record: DatasetRecord): unknown {
  const v = record.value
  const s = (b: Buffer) => b.toString()
  switch (v.type) {
    case 'string':
      return s(v.value)
    case 'hash':
      return Object.fromEntries(v.value.map(([f, x]) => [s(f), s(x)]))
    case 'set':
    case 'list':
      return v.value.map(s)
    case 'zset':
      return v.value.map(([m, score]) => [s(m), score])
  }
}

function checksumOf(records: DatasetRecord[]): string {
  const sum = new DatasetChecksum()
  for (const r of records) sum.add(r.key, r.value, r.ttl !== undefined)
  return sum.checksum
}

const sha256 = (content: string) => createHash('sha256').update(content).digest('hex')

function stdinOf(content: string, chunkSize = content.length): Readable {
  const chunks: Buffer[] = []
  const bytes = Buffer.from(content)
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize))
  return Readable.from(chunks)
}

describe('NDJSON', () => {
  it('reads one record per line, infers string and hash, normalises values as a server stores them', async () => {
    const records = await readAll([join(fixtures, 'catalog.ndjson')])
    expect(records.map((r) => [r.key.toString(), r.value.type, text(r), r.ttl, r.origin.line])).toEqual([
      ['product:1:price', 'string', '19.90', undefined, 1],
      ['product:2:price', 'string', '5', undefined, 2],
      ['product:1', 'hash', {name: 'Mug', price: '19.90'}, undefined, 3],
      ['tags:1', 'set', ['kitchen', 'sale'], undefined, 4],
      ['rank', 'zset', [['product:1', 1.5], ['product:2', Infinity], ['product:3', -2]], undefined, 5],
      ['recent', 'list', ['product:2', 'product:1', 'product:2'], undefined, 6],
      ['{cat}:flash', 'string', 'on', 3600, 8], // line 7 is blank
    ])
  })

  it('reads stdin ("-") split into tiny chunks with the same result and line numbers', async () => {
    const content = '{"key":"a","value":"1"}\r\n\n{"key":"b","type":"list","value":["x","é"]}\n{"key":"c","value":"no newline at end"}'
    const records = await readAll(['-'], {stdin: stdinOf(content, 3)})
    expect(records.map((r) => [r.key.toString(), text(r), r.origin])).toEqual([
      ['a', '1', {file: 'stdin', line: 1}],
      ['b', ['x', 'é'], {file: 'stdin', line: 3}],
      ['c', 'no newline at end', {file: 'stdin', line: 4}],
    ])
  })

  it('yields batches of at most batchSize records', async () => {
    const content = Array.from({length: 2500}, (_, i) => JSON.stringify({key: `k${i}`, value: i})).join('\n')
    const reader = await openDataset(['-'], {stdin: stdinOf(content, 4096), batchSize: 1000})
    const sizes: number[] = []
    for await (const batch of reader.batches()) sizes.push(batch.length)
    expect(sizes).toEqual([1000, 1000, 500])
    expect(reader.bytesRead).toBe(Buffer.byteLength(content))
  })
})

describe('JSON', () => {
  it('streams a top-level array and gives the same records and checksum as the NDJSON file', async () => {
    const fromJson = await readAll([join(fixtures, 'catalog.json')])
    const fromNdjson = await readAll([join(fixtures, 'catalog.ndjson')])
    expect(fromJson.map((r) => r.origin.line)).toEqual([2, 3, 4, 5, 6, 7, 8])
    expect(fromJson.map(text)).toEqual(fromNdjson.map(text))
    expect(checksumOf(fromJson)).toBe(checksumOf(fromNdjson))
  })

  it('handles strings with brackets, commas and escaped quotes across chunk boundaries', async () => {
    const content = '[{"key":"a]\\",{","value":"[1,2]"},\n{"key":"b\\\\","type":"zset","value":[["m\\\\\\"]",1]]},{"key":"ü€𝄞","value":"x"}]\n'
    for (const chunkSize of [1, 2, 3, 5, 7]) {
      const records = await readAll(['-'], {format: 'json', stdin: stdinOf(content, chunkSize)})
      expect(records.map((r) => [r.key.toString(), text(r), r.origin.line])).toEqual([
        ['a]",{', '[1,2]', 1],
        ['b\\', [['m\\"]', 1]], 2],
        ['ü€𝄞', 'x', 2],
      ])
    }
  })

  it('accepts an empty array', async () => {
    expect(await readAll(['-'], {format: 'json', stdin: stdinOf(' [ ]\n')})).toEqual([])
  })
})

describe('CSV', () => {
  it('makes a string key per row from a key template and a value column', async () => {
    const records = await readAll([join(fixtures, 'prices.csv')], {csv: {key: 'product:{sku}:price', value: 'price'}})
    expect(records.map((r) => [r.key.toString(), text(r), r.origin.line])).toEqual([
      ['product:A1:price', '19.90', 2],
      ['product:B2:price', '5', 3],
      ['product:C3:price', '7.50', 4],
    ])
  })

  it('makes a hash of the columns not used in the key; {{ }} write a literal hash tag', async () => {
    const records = await readAll([join(fixtures, 'prices.csv')], {csv: {key: 'product:{{{sku}}}', hash: true}})
    expect(records.map((r) => [r.key.toString(), r.value.type, text(r)])).toEqual([
      ['product:{A1}', 'hash', {name: 'Mug, large', price: '19.90'}],
      ['product:{B2}', 'hash', {name: 'Plate', price: '5'}],
      ['product:{C3}', 'hash', {name: 'Bowl "deep"', price: '7.50'}],
    ])
  })

  it('takes an optional TTL column', async () => {
    const records = await readAll(['-'], {format: 'csv', csv: {key: 'p:{sku}', value: 'price', ttl: 'ttl'}, stdin: stdinOf('sku,price,ttl\nA,1,60\nB,2,\n')})
    expect(records.map((r) => [r.key.toString(), r.ttl])).toEqual([['p:A', 60], ['p:B', undefined]])
  })
})

describe('inputs and formats', () => {
  it('reads several files as one dataset and reports sizes and SHA-256 of each', async () => {
    const dir = tempDir('flip-src-')
    writeFileSync(join(dir, 'a.jsonl'), '{"key":"a","value":1}\n')
    writeFileSync(join(dir, 'b.json'), '[{"key":"b","value":2}]')
    const reader = await openDataset([join(dir, 'a.jsonl'), join(dir, 'b.json')])
    expect(reader.files.map((f) => f.format)).toEqual(['ndjson', 'json'])
    expect(reader.totalBytes).toBe(45)
    const keys: string[] = []
    for await (const batch of reader.batches()) keys.push(...batch.map((r) => r.key.toString()))
    expect(keys).toEqual(['a', 'b'])
    expect(reader.digests()).toEqual([
      {path: join(dir, 'a.jsonl'), size: 22, sha256: sha256('{"key":"a","value":1}\n')},
      {path: join(dir, 'b.json'), size: 23, sha256: sha256('[{"key":"b","value":2}]')},
    ])
  })
})
