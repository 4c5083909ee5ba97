// The bulk writer keeps only encoded bytes per batch; its error path reads commands back out of them.
import {describe, expect, it} from 'vitest'
import {type Arg, CommandEncoder, formatNumber} from '../../src/plane/resp.js'
import {recordCommands} from '../../src/plane/record-commands.js'
import {splitCommands} from '../../src/plane/writer.js'
import {sampleRecords} from './support/records.js'

describe('splitCommands', () => {
  it('gives back exactly the commands that were encoded, binary bytes included', () => {
    const commands: Arg[][] = [
      ...sampleRecords().flatMap(recordCommands),
      ['SET', Buffer.from([0, 13, 10, 255]), Buffer.from('\r\n$3\r\n')],
      ['PING'],
    ]
    const encoder = new CommandEncoder(64)
    for (const argv of commands) encoder.append(argv)
    const split = splitCommands(encoder.take())
    const text = (arg: Arg) => (Buffer.isBuffer(arg) ? arg.toString('latin1') : typeof arg === 'number' ? formatNumber(arg) : arg)
    expect(split.map((argv) => argv.map(text))).toEqual(commands.map((argv) => argv.map(text)))
  })
})

describe('recordCommands', () => {
  it('stores a string with its TTL in one SET, other types with EXPIRE/PEXPIRE after the value', () => {
    const [price, product, , , history] = sampleRecords()
    expect(recordCommands(price).map((argv) => argv.map(String))).toEqual([['SET', 'price:1', '19.99', 'EX', '3600']])
    expect(recordCommands(product).map((argv) => argv.map(String))).toEqual([['HSET', 'product:1', 'name', 'Lamp', 'price', '19.99']])
    expect(recordCommands(history).map((argv) => argv.map(String))).toEqual([
      ['RPUSH', 'history:1', '21.99', '19.99', '19.99'],
      ['EXPIRE', 'history:1', '1500000'],
    ])
    expect(recordCommands({...price, ttl: 0.25}).map((argv) => argv.map(String))).toEqual([['SET', 'price:1', '19.99', 'PX', '250']])
  })

  it('refuses what a server cannot store, naming file, line and key', () => {
    const [price, product] = sampleRecords()
    expect(() => recordCommands({...product, value: {type: 'hash', value: []}})).toThrow('sample.ndjson:2: key "product:1": an empty hash cannot be stored')
    expect(() => recordCommands({...price, ttl: -1})).toThrow('sample.ndjson:1: key "price:1": ttl must be a positive number of seconds')
  })
})
