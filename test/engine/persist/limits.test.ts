// Per-database memory limits: the estimate, parsing of --db-maxmemory, and the write-path checks
// as the engine's dispatch calls them (admit → beginWrite → handler → endWrite).
import {describe, expect, it} from 'vitest'
import {Keyspace, type Db} from '../../../src/engine/keyspace/db.js'
import {List, ZSet} from '../../../src/engine/keyspace/values.js'
import {
  DbMemory,
  estimateEntryBytes,
  formatSize,
  parseDbMaxMemory,
  parseSize,
} from '../../../src/engine/limits/index.js'

/** Runs a write the way dispatch does; returns the OOM message or 'OK'. */
function write(memory: DbMemory, db: Db, argv: string[], keys: string[], handler: () => void, denyoom = true): string {
  const refused = memory.admit(db, argv[0].toLowerCase(), argv, denyoom)
  if (refused !== null) return refused
  const scope = memory.beginWrite(db, argv[0].toLowerCase(), argv, keys)
  handler()
  if (scope !== null) memory.endWrite(scope)
  return 'OK'
}

function set(memory: DbMemory, db: Db, key: string, value: string): string {
  return write(memory, db, ['set', key, value], [key], () => db.set(key, value))
}

describe('the estimate', () => {
  it('is key + value bytes plus fixed per-entry and per-element overheads', () => {
    expect(estimateEntryBytes('k', 'value')).toBe(56 + 1 + 16 + 5)
    expect(estimateEntryBytes('k', 'value', true)).toBe(56 + 1 + 24 + 16 + 5)
    expect(estimateEntryBytes('h', new Map([['f', 'vv']]))).toBe(56 + 1 + 64 + (1 + 2 + 32))
    expect(estimateEntryBytes('s', new Set(['a', 'bb']))).toBe(56 + 1 + 64 + (1 + 24) + (2 + 24))
    const z = new ZSet()
    z.set('m', 1)
    expect(estimateEntryBytes('z', z)).toBe(56 + 1 + 96 + (1 + 48))
    const l = new List()
    l.items = ['x', 'yy']
    expect(estimateEntryBytes('l', l)).toBe(56 + 1 + 64 + (1 + 16) + (2 + 16))
  })

  it('samples large collections so estimating any key costs the same', () => {
    const big = new Set<string>()
    for (let i = 0; i < 100_000; i++) big.add(`member-${String(i).padStart(6, '0')}`)
    // 32 sampled members of 13 bytes + 24 overhead, times 100k.
    expect(estimateEntryBytes('s', big)).toBe(56 + 1 + 64 + 100_000 * (13 + 24))
  })
})

describe('--db-maxmemory parsing', () => {
  it('reads DB=SIZE with b/kb/mb/gb units', () => {
    expect(parseSize('64mb')).toBe(64 * 1024 * 1024)
    expect(parseSize('1GB')).toBe(1024 ** 3)
    expect(parseSize('512kb')).toBe(512 * 1024)
    expect(parseSize('100')).toBe(100)
    expect([...parseDbMaxMemory(['5=64mb', '7=1gb'], 16)]).toEqual([
      [5, 64 * 1024 * 1024],
      [7, 1024 ** 3],
    ])
    expect(formatSize(64 * 1024 * 1024)).toBe('64mb')
  })

  it('rejects bad specs with one clear line', () => {
    expect(() => parseDbMaxMemory(['5'], 16)).toThrow("invalid --db-maxmemory '5' (expected DB=SIZE, e.g. 5=64mb)")
    expect(() => parseDbMaxMemory(['5=64xb'], 16)).toThrow("invalid size '64xb'")
    expect(() => parseDbMaxMemory(['16=1mb'], 16)).toThrow('db 16 is out of range (the engine has 16 databases)')
    expect(() => parseDbMaxMemory(['5=0'], 16)).toThrow('must be more than 0')
  })
})

describe('a db with a limit', () => {
  const limit = 10_000

  function setup(): {ks: Keyspace; memory: DbMemory; db5: Db; db6: Db} {
    const ks = new Keyspace(16)
    const memory = new DbMemory(ks, new Map([[5, limit]]))
    return {ks, memory, db5: ks.db(5), db6: ks.db(6)}
  }

  it('refuses writes that would grow it past the limit, naming the db, while other dbs keep working', () => {
    const {memory, db5, db6} = setup()
    let i = 0
    while (set(memory, db5, `k${i}`, 'x'.repeat(100)) === 'OK') i++
    expect(i).toBeGreaterThan(10)
    expect(set(memory, db5, 'one-more', 'x'.repeat(100))).toBe(
      "OOM command not allowed when used memory of db 5 would exceed its 'db-maxmemory' (9.8kb)",
    )
    expect(memory.usage(5)).toBeLessThanOrEqual(limit)
    expect(memory.usage(5)).toBe(memory.recount(5))
    for (let j = 0; j < 200; j++) expect(set(memory, db6, `k${j}`, 'x'.repeat(100))).toBe('OK')
  })

  it('accepts writes again once keys are deleted (deletes are never refused)', () => {
    const {memory, db5} = setup()
    let i = 0
    while (set(memory, db5, `k${i}`, 'x'.repeat(500)) === 'OK') i++
    expect(write(memory, db5, ['del', 'k0', 'k1'], ['k0', 'k1'], () => (db5.delete('k0'), db5.delete('k1')), false)).toBe('OK')
    expect(set(memory, db5, 'again', 'x'.repeat(500))).toBe('OK')
    expect(memory.usage(5)).toBe(memory.recount(5))
  })

  it('counts collections as they grow element by element', () => {
    const {memory, db5} = setup()
    const hash = new Map<string, string>()
    let i = 0
    const hset = () => write(memory, db5, ['hset', 'h', `f${i}`, 'v'.repeat(50)], ['h'], () => {
      hash.set(`f${i}`, 'v'.repeat(50))
      db5.replace('h', hash)
    })
    while (hset() === 'OK') i++
    expect(i).toBeGreaterThan(50)
    expect(memory.usage(5)).toBe(memory.recount(5))
  })

  it('counts MOVE and COPY into the limited db, and FLUSHDB empties it', () => {
    const {memory, db5, db6} = setup()
    db6.set('big', 'x'.repeat(6000))
    db6.set('big2', 'x'.repeat(6000))
    const move = (key: string) =>
      write(memory, db6, ['move', key, '5'], [key], () => {
        db5.set(key, db6.get(key)!)
        db6.delete(key)
      }, false)
    expect(move('big')).toBe('OK')
    expect(memory.usage(5)).toBe(estimateEntryBytes('big', 'x'.repeat(6000)))
    expect(move('big2')).toMatch(/^OOM .* db 5 /)
    expect(write(memory, db6, ['copy', 'big2', 'c', 'DB', '5'], ['big2', 'c'], () => {})).toMatch(/^OOM .* db 5 /)
    expect(write(memory, db5, ['flushdb'], [], () => db5.clear(), false)).toBe('OK')
    expect(memory.usage(5)).toBe(0)
    expect(move('big2')).toBe('OK')
  })

  it('does not let expired keys count against the limit', () => {
    const {memory, db5} = setup()
    let i = 0
    while (set(memory, db5, `k${i}`, 'x'.repeat(500)) === 'OK') {
      db5.expireAt(`k${i}`, Date.now() + 50)
      i++
    }
    // The keys expire without any write command seeing them go (as active expiry does).
    for (const key of [...db5.keys.keys()]) db5.expireAt(key, Date.now() - 1)
    for (const key of [...db5.keys.keys()]) db5.get(key)
    expect(set(memory, db5, 'after-expiry', 'x'.repeat(500))).toBe('OK')
  })

  it('estimates a big db without a limit from a sample, so INFO stays cheap', () => {
    const {memory, ks} = setup()
    const db = ks.db(9)
    for (let i = 0; i < 5000; i++) db.set(`k${String(i).padStart(4, '0')}`, 'v'.repeat(20))
    expect(memory.usage(9)).toBe(5000 * estimateEntryBytes('k0000', 'v'.repeat(20)))
  })

  it('shows per-db figures for INFO', () => {
    const {memory, db5, db6} = setup()
    set(memory, db5, 'a', 'b')
    db6.set('c', 'd')
    expect(memory.infoLines()).toEqual([
      `used_memory_db5:${estimateEntryBytes('a', 'b')}`,
      `maxmemory_db5:${limit}`,
      `used_memory_db6:${estimateEntryBytes('c', 'd')}`,
    ])
  })
})
