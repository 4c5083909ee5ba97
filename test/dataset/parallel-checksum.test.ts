// The checksum with its SHA-256 in a worker thread gives exactly the in-thread checksum: total,
// per type and per slot, whichever thread summed which key.
import {spawnSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {DatasetChecksum} from '../../src/dataset/checksum.js'
import {ParallelChecksum} from '../../src/dataset/parallel-checksum.js'
import type {DatasetValue} from '../../src/dataset/record.js'

const b = (text: string) => Buffer.from(text)

function dataset(): Array<[Buffer, DatasetValue, boolean]> {
  const keys: Array<[Buffer, DatasetValue, boolean]> = []
  for (let n = 0; n < 3000; n++) keys.push([b(`price:${n}`), {type: 'string', value: b(String(n / 100))}, n % 7 === 0])
  keys.push([Buffer.from([0, 255, 10]), {type: 'hash', value: [[b('b'), b('2')], [b('a'), b('1')]]}, false])
  keys.push([b('tags'), {type: 'set', value: [b('x'), b('y')]}, true])
  keys.push([b('rank'), {type: 'zset', value: [[b('m'), Infinity], [b('n'), -0]]}, false])
  keys.push([b('recent'), {type: 'list', value: [b('a'), b('a')]}, false])
  keys.push([b('big'), {type: 'string', value: Buffer.alloc(600 * 1024, 7)}, false]) // larger than a batch
  return keys
}

function expected(): DatasetChecksum {
  const sum = new DatasetChecksum()
  for (const [key, value, ttl] of dataset()) sum.add(key, value, ttl)
  return sum
}

describe('ParallelChecksum', () => {
  it.each([0, 1000, Infinity])('equals the in-thread checksum when the worker starts after %s keys', async (workerAfterKeys) => {
    const parallel = new ParallelChecksum({workerAfterKeys})
    for (const [key, value, ttl] of dataset()) {
      parallel.add(key, value, ttl)
      await parallel.ready()
    }
    const sum = await parallel.finish()
    const want = expected()
    expect(sum.checksum).toBe(want.checksum)
    expect(sum.keys).toBe(want.keys)
    expect(sum.types).toEqual(want.types)
    expect(sum.slots()).toEqual(want.slots())
  })

  it('is empty when nothing was added', async () => {
    const sum = await new ParallelChecksum({workerAfterKeys: 0}).finish()
    expect(sum.checksum).toBe('0'.repeat(32))
  })

  it('works in a process whose eval code is an ES module (node --input-type=module -e, as bench:stage runs)', () => {
    const module = new URL('../../src/dataset/parallel-checksum.ts', import.meta.url).href
    const code = `
      const {ParallelChecksum} = await import(${JSON.stringify(module)})
      const parallel = new ParallelChecksum({workerAfterKeys: 0})
      parallel.add(Buffer.from('k'), {type: 'string', value: Buffer.from('v')}, false)
      console.log((await parallel.finish()).checksum)`
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {encoding: 'utf8'})
    const want = new DatasetChecksum()
    want.add(Buffer.from('k'), {type: 'string', value: Buffer.from('v')}, false)
    expect(child.stderr).toBe('')
    expect(child.stdout.trim()).toBe(want.checksum)
  })
})
