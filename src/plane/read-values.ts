// Reading keys back as DatasetValues, pipelined per primary.
//
// One round trip when the keys have the type guessed (the type most keys had in the previous
// call, at first string): the type's full read (GET, HGETALL, SMEMBERS, ZRANGE 0 -1 WITHSCORES,
// LRANGE 0 -1) + PTTL. Keys of another type answer WRONGTYPE and take two more rounds: TYPE,
// then the right read. Datasets are usually of one type, so this is one round in practice.
import type {StoredKey, ValueType} from '../dataset/record.js'
import {describeKey} from '../util/key-text.js'
import {keySlot} from '../util/keyslot.js'
import {CommandError, RespError, describeReply} from './errors.js'
import {decodeValue, isValueType, readCommand} from './record-commands.js'
import type {Arg, Reply} from './resp.js'

/** What the reader needs from the plane: routed, redirect-following pipelines. */
export interface KeyedExecutor {
  /** Per key, each command (a name sent as `NAME key`, or a function giving the argv); replies key-major. */
  executePerKey(keys: readonly Buffer[], slots: readonly number[], commands: ReadonlyArray<Buffer | ((key: Buffer) => Arg[])>): Promise<Reply[]>
  execute(commands: ReadonlyArray<{argv: readonly Arg[]; slot: number}>): Promise<Reply[]>
}

const GET = Buffer.from('GET')
const PTTL = Buffer.from('PTTL')
const TYPE = Buffer.from('TYPE')
/** Reads that are `NAME key`: sent by name, without an argv per key. */
const READ_BY_NAME: Partial<Record<ValueType, Buffer>> = {string: GET, hash: Buffer.from('HGETALL'), set: Buffer.from('SMEMBERS')}

export class ValueReader {
  /** The type read first (see the top of this file). */
  private typeGuess: ValueType = 'string'

  constructor(private readonly executor: KeyedExecutor) {}

  /** Reads `type` first from now on (until the keys read show another type is more common). */
  expect(type: ValueType): void {
    this.typeGuess = type
  }

  /** Values of keys; withTtl false skips PTTL (hasTtl false) where no key can have an expiry. */
  async read(keys: readonly Buffer[], withTtl: boolean): Promise<StoredKey[]> {
    const guess = this.typeGuess
    const slots = new Array<number>(keys.length)
    for (let i = 0; i < keys.length; i++) slots[i] = keySlot(keys[i])
    const read = READ_BY_NAME[guess] ?? ((key: Buffer) => readCommand(guess, key))
    const per = withTtl ? 2 : 1
    const replies = await this.executor.executePerKey(keys, slots, withTtl ? [read, PTTL] : [read])
    const stored: StoredKey[] = new Array(keys.length)
    const retyped: number[] = []
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      const value = replies[per * i]
      const pttl = withTtl ? replies[per * i + 1] : -1
      const hasTtl = typeof pttl === 'number' && pttl >= 0
      if (value instanceof RespError) {
        if (value.code !== 'WRONGTYPE') throw readFailure(key, value)
        stored[i] = {key, value: null, hasTtl}
        retyped.push(i)
      } else {
        const decoded = decodeValue(guess, value)
        stored[i] = {key, value: decoded, hasTtl: decoded !== null && hasTtl}
      }
    }
    if (retyped.length > 0) await this.readRetyped(keys, slots, retyped, stored)

    // Guess next time what most keys were this time (datasets are usually of one type).
    if (retyped.length * 2 > keys.length) {
      const counts = new Map<ValueType, number>()
      for (const i of retyped) {
        const type = stored[i].value?.type
        if (type !== undefined) counts.set(type, (counts.get(type) ?? 0) + 1)
      }
      const [top] = [...counts].sort((x, y) => y[1] - x[1])
      if (top !== undefined) this.typeGuess = top[0]
    }
    return stored
  }

  /** Rounds 2 and 3 of readValues for keys whose type was not the guessed one. */
  private async readRetyped(keys: readonly Buffer[], slots: readonly number[], retyped: number[], stored: StoredKey[]): Promise<void> {
    const types = await this.executor.executePerKey(
      retyped.map((i) => keys[i]),
      retyped.map((i) => slots[i]),
      [TYPE],
    )
    const reads: number[] = []
    const readTypes: ValueType[] = []
    retyped.forEach((i, n) => {
      if (types[n] instanceof RespError) throw readFailure(keys[i], types[n])
      const type = String(types[n])
      if (type === 'none') return
      if (!isValueType(type)) throw new CommandError(`key ${describeKey(keys[i])} has type ${type}, which flip does not handle`, type, keys[i])
      reads.push(i)
      readTypes.push(type)
    })
    const values = await this.executor.execute(reads.map((i, n) => ({argv: readCommand(readTypes[n], keys[i]), slot: slots[i]})))
    reads.forEach((i, n) => {
      if (values[n] instanceof RespError) throw readFailure(keys[i], values[n])
      const value = decodeValue(readTypes[n], values[n])
      stored[i] = {key: keys[i], value, hasTtl: value !== null && stored[i].hasTtl}
    })
  }
}

function readFailure(key: Buffer, reply: Reply): CommandError {
  const message = reply instanceof RespError ? reply.message : describeReply(reply)
  return new CommandError(`reading key ${describeKey(key)} failed: ${message}`, message, key)
}

