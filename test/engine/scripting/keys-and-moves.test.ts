// KEYS and ARGV reach commands byte for byte, and the script flip's atomic cutover runs on
// each primary (SELECT, then MOVE every key listed in ARGV) works through the bridge.
import {describe, expect, it} from 'vitest'

import {ErrorReply} from '../../../src/engine/resp/reply.js'
import {MemoryHost} from './memory-host.js'
import {scripting} from './helpers.js'

const EVERY_BYTE = Buffer.from(Array.from({length: 256}, (_, i) => i))
const INVALID_UTF8 = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0d, 0x0a])

describe('binary-safe KEYS and ARGV', () => {
  it('are 1-based tables of strings with the exact bytes given', () => {
    const {evalScript} = scripting()
    expect(evalScript(`return {#KEYS, #ARGV, KEYS[1], ARGV[1], ARGV[2]}`, [EVERY_BYTE], [INVALID_UTF8, ''])).toEqual([
      1,
      2,
      EVERY_BYTE,
      INVALID_UTF8,
      Buffer.alloc(0),
    ])
    expect(evalScript(`return {string.len(KEYS[1]), string.byte(KEYS[1], 1), string.byte(KEYS[1], 256)}`, [EVERY_BYTE])).toEqual([
      256, 0, 255,
    ])
  })

  it('reach the host unchanged and come back unchanged from it', () => {
    const {evalScript, host} = scripting()
    const reply = evalScript(`redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])`, [INVALID_UTF8], [EVERY_BYTE])
    expect(reply).toEqual(EVERY_BYTE)
    expect(host.calls[0]).toEqual([Buffer.from('SET'), INVALID_UTF8, EVERY_BYTE])
    expect(host.db().get(MemoryHost.id(INVALID_UTF8))).toEqual(EVERY_BYTE)
  })

  it('strings built in Lua keep their bytes too', () => {
    const {evalScript, host} = scripting()
    evalScript(`redis.call('SET', 'k\\0' .. string.char(255), KEYS[1] .. '\\r\\n')`, [INVALID_UTF8])
    expect([...host.db()]).toEqual([[MemoryHost.id(Buffer.from([0x6b, 0, 0xff])), Buffer.concat([INVALID_UTF8, Buffer.from('\r\n')])]])
  })

  it('a value read into Lua does not change when the engine later changes its stored copy in place', () => {
    const {engine} = scripting()
    const stored = Buffer.from('before')
    const host = {
      call(argv: Buffer[]) {
        if (argv[0].toString() === 'GET') return stored
        stored.write('AFTER!') // e.g. an in-place SETRANGE
        return 1
      },
    }
    expect(engine.run(Buffer.from(`local v = redis.call('GET', 'k') redis.call('SETRANGE') return v`), [], [], host)).toEqual(
      Buffer.from('before'),
    )
  })
})

// Keys passed in ARGV (not KEYS), as flip's cutover does: the engine allows several slots of
// its own node for such scripts (`allow-cross-slot-keys`); that check is the engine's, not ours.
const CUTOVER_SCRIPT = `#!lua flags=allow-cross-slot-keys
local shadow, live = ARGV[1], ARGV[2]
local t0 = redis.call('TIME')
redis.call('SELECT', shadow)
local moved, skipped = 0, 0
for i = 3, #ARGV do
  if redis.call('MOVE', ARGV[i], live) == 1 then moved = moved + 1 else skipped = skipped + 1 end
end
return {moved, skipped, t0[1]}
`

describe('a SELECT + MOVE loop over ARGV', () => {
  it('moves every listed key from the shadow db to live in one run', () => {
    const {engine, evalText, host} = scripting()
    expect(engine.parseFlags(Buffer.from(CUTOVER_SCRIPT))).toEqual({shebang: true, flags: new Set(['allow-cross-slot-keys'])})
    const keys = Array.from({length: 1000}, (_, i) => `price:{${i % 50}}:${i}`)
    for (const key of keys) host.db(1).set(key, Buffer.from('new'))
    host.db(0).set(keys[0], Buffer.from('old')) // already live: MOVE returns 0 and leaves both
    expect(evalText(CUTOVER_SCRIPT, [], ['1', '0', ...keys])).toEqual([999, 1, '1700000000'])
    expect(host.db(1).size).toBe(1)
    expect(host.db(0).size).toBe(1000)
    expect(host.db(0).get(keys[0])?.toString()).toBe('old')
    expect(host.calls.filter((argv) => argv[0].toString() === 'MOVE')).toHaveLength(1000)
  })

  it('stops at the first MOVE the host refuses, keeping the moves already done', () => {
    const {evalScript, host} = scripting()
    host.db(1).set('a', Buffer.from('1'))
    host.db(1).set('b', Buffer.from('2'))
    expect(evalScript(CUTOVER_SCRIPT, [], ['1', '0', 'a', 'remote:x', 'b'])).toEqual(
      new ErrorReply('ERR Attempted to access a non local key in a cluster node script: on @user_script:7.'),
    )
    expect([...host.db(0).keys()]).toEqual(['a'])
    expect([...host.db(1).keys()]).toEqual(['b'])
  })

  it('passes MOVE errors through with the code the host used', () => {
    const {evalScript} = scripting()
    expect(evalScript(CUTOVER_SCRIPT, [], ['0', '0', 'k'])).toEqual(
      new ErrorReply('ERR source and destination objects are the same script: on @user_script:7.'),
    )
  })
})
