// Every kind of bad input stops the read with one line naming the file and line.
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {DatasetError, openDataset, type OpenDatasetOptions} from '../../src/dataset/index.js'
import {tempDir} from '../support/temp.js'

const dir = tempDir('flip-bad-')

function file(name: string, content: string): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

async function errorOf(paths: string[], options: OpenDatasetOptions = {}): Promise<DatasetError> {
  try {
    const reader = await openDataset(paths, options)
    for await (const _ of reader.batches()) {
      // read to the end
    }
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetError)
    expect((error as Error).message).not.toContain('\n')
    return error as DatasetError
  }
  throw new Error('expected a DatasetError')
}

const good = '{"key":"ok","value":"1"}\n'
const csv = {key: 'product:{sku}:price', value: 'price'}

describe('bad input gives a one-line error naming file and line', () => {
  const cases: Array<[name: string, fileName: string, content: string, message: RegExp | string, options?: OpenDatasetOptions]> = [
    ['malformed JSON', 'a.ndjson', good + '{"key": "x", "value": }\n', /^a\.ndjson:2: malformed JSON: /],
    ['unknown type', 'b.ndjson', good + good.replace('ok', 'k2') + '{"key":"t","type":"sett","value":["a"]}\n', 'b.ndjson:3: unknown type "sett" (expected string, hash, set, zset or list)'],
    ['wrong shape for a set', 'c.ndjson', '{"key":"s","type":"set","value":"abc"}\n', 'c.ndjson:1: key "s": a set value must be an array of strings or numbers, got "abc"'],
    ['wrong shape for a zset', 'd.ndjson', '{"key":"z","type":"zset","value":[["m"]]}\n', 'd.ndjson:1: key "z": a zset value must be [[member, score], …] or {"member": score, …}, got an array'],
    ['non-numeric score', 'd2.ndjson', '{"key":"z","type":"zset","value":[["m","high"]]}\n', 'd2.ndjson:1: key "z": score of member "m" must be a number, got "high"'],
    ['nested hash value', 'e.ndjson', '{"key":"h","value":{"a":{"b":1}}}\n', 'e.ndjson:1: key "h": hash field "a" must be a string or a number, got an object'],
    ['array without a type', 'f.ndjson', '{"key":"l","value":["a"]}\n', 'f.ndjson:1: "type" is required for key "l": an array value may be a set, zset or list'],
    ['empty collection', 'g.ndjson', '{"key":"l","type":"list","value":[]}\n', 'g.ndjson:1: key "l": empty list (a server cannot store an empty list)'],
    ['negative TTL', 'h.ndjson', good + '{"key":"t","value":"v","ttl":-5}\n', 'h.ndjson:2: "ttl" must be a positive number of seconds, got -5'],
    ['non-numeric TTL', 'i.ndjson', '{"key":"t","value":"v","ttl":"soon"}\n', 'i.ndjson:1: "ttl" must be a positive number of seconds, got "soon"'],
    ['empty key', 'j.ndjson', '{"key":"","value":"v"}\n', 'j.ndjson:1: empty key'],
    ['missing key', 'k.ndjson', '{"value":"v"}\n', 'k.ndjson:1: missing "key"'],
    ['misspelt field', 'l.ndjson', '{"key":"k","value":"v","tll":5}\n', 'l.ndjson:1: unknown field "tll" (expected key, type, value, ttl)'],
    ['duplicate key', 'm.ndjson', good + '{"key":"x","value":"2"}\n' + good, 'm.ndjson:3: duplicate key "ok" (first at ' + join(dir, 'm.ndjson') + ':1)'],
    ['not an array', 'n.json', '{"key":"k","value":"v"}', 'n.json:1: expected a JSON array of records ("[" …)'],
    ['unclosed array', 'o.json', '[\n{"key":"k","value":"v"},\n', 'o.json:3: unexpected end of file: the JSON array is not closed with "]"'],
    ['malformed element', 'p.json', '[\n{"key":"k","value":"v"},\n{"key": oops}\n]', /^p\.json:3: malformed JSON: /],
    ['CSV without the value column', 'q.csv', 'sku,cost\nA,1\n', 'q.csv:1: missing column "price" (named by --value); the header has "sku", "cost"', {csv}],
    ['CSV without a key column', 'r.csv', 'id,price\nA,1\n', 'r.csv:1: missing column "sku" (used in the key template); the header has "id", "price"', {csv}],
    ['CSV row with too few fields', 's.csv', 'sku,price\nA,1\nB\n', 's.csv:3: row has 1 field, the header has 2', {csv}],
    ['CSV with a broken quote', 't.csv', 'sku,price\nA,"1\n', /^t\.csv:\d: malformed CSV: /, {csv}],
    ['CSV duplicate key', 'u.csv', 'sku,price\nA,1\nA,2\n', 'u.csv:3: duplicate key "product:A:price" (first at ' + join(dir, 'u.csv') + ':2)', {csv}],
  ]

  for (const [name, fileName, content, message, options] of cases) {
    it(name, async () => {
      const error = await errorOf([file(fileName, content)], options)
      const shown = error.message.replace(dir + '/', '')
      if (typeof message === 'string') expect(shown).toBe(message)
      else expect(shown).toMatch(message)
    })
  }

  it('a key repeated in a second file names the first file', async () => {
    const first = file('first.ndjson', good)
    const second = file('second.ndjson', good)
    const error = await errorOf([first, second])
    expect(error.message).toBe(`${second}:1: duplicate key "ok" (first at ${first}:1)`)
  })

  it('a duplicate deep in a big file is found once the file is read, and named with both lines', async () => {
    const lines = Array.from({length: 120_000}, (_, n) => `{"key":"price:${n}","value":"${n}"}`)
    lines.push('{"key":"price:7","value":"again"}')
    const big = file('big.ndjson', lines.join('\n') + '\n')
    const error = await errorOf([big])
    expect(error.message).toBe(`${big}:120001: duplicate key "price:7" (first at ${big}:8)`)
  })

  it('of several duplicates in a file, the first in file order is named (as on stdin)', async () => {
    const path = file('abba.ndjson', ['a', 'b', 'b', 'a'].map((k) => `{"key":"${k}","value":"1"}`).join('\n') + '\n')
    const error = await errorOf([path])
    expect(error.message).toBe(`${path}:3: duplicate key "b" (first at ${path}:2)`)
  })

  it('a duplicate on stdin is caught when it arrives (stdin cannot be read again)', async () => {
    const {Readable} = await import('node:stream')
    const reader = await openDataset(['-'], {stdin: Readable.from([good + '{"key":"two","value":"2"}\n' + good])})
    const seen: number[] = []
    const error = await (async () => {
      for await (const batch of reader.batches()) seen.push(batch.length)
    })().catch((e: Error) => e)
    expect((error as Error).message).toBe('stdin:3: duplicate key "ok"')
    expect(seen).toEqual([])
  })

  it('a missing file', async () => {
    const error = await errorOf([join(dir, 'nope.ndjson')])
    expect(error.message).toBe(`${join(dir, 'nope.ndjson')}: cannot read: no such file`)
  })

  it.skipIf(process.getuid?.() === 0)('an unreadable file (skipped as root, who reads anything)', async () => {
    const path = file('secret.ndjson', good)
    chmodSync(path, 0o000)
    const error = await errorOf([path])
    expect(error.message).toBe(`${path}: cannot read: permission denied`)
  })

  it('a directory', async () => {
    expect((await errorOf([dir])).message).toContain(': cannot tell the format')
    expect((await errorOf([dir], {format: 'ndjson'})).message).toBe(`${dir}: cannot read: not a regular file`)
  })

  it('an unknown extension', async () => {
    const error = await errorOf([file('prices.txt', good)])
    expect(error.message).toBe(`${join(dir, 'prices.txt')}: cannot tell the format from the extension ".txt": use --format ndjson, json or csv`)
  })

  it('CSV without a key template or value', async () => {
    expect((await errorOf([file('v.csv', 'a\n1\n')])).message).toMatch(/CSV needs a key template/)
    expect((await errorOf([file('w.csv', 'a\n1\n')], {csv: {key: 'k:{a}'}})).message).toMatch(/CSV needs a value column/)
    expect((await errorOf([file('x.csv', 'a\n1\n')], {csv: {key: 'k:{a', value: 'a'}})).message).toMatch(/unclosed "\{"/)
  })
})
