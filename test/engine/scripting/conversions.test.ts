// How values cross between the engine's replies and Lua, in both directions (RESP2 rules,
// and RESP3 after redis.setresp(3)), as Valkey's script_lua.c converts them.
import {describe, expect, it} from 'vitest'

import {DoubleReply, ErrorReply, MapReply, SetReply, SimpleString} from '../../../src/engine/resp/reply.js'
import {scripting} from './helpers.js'

describe('command replies as Lua values (RESP2)', () => {
  const {evalText, host} = scripting()
  const typeOf = (command: string) => evalText(`local v = redis.call(${command}) return type(v) .. ':' .. tostring(v)`)

  it('integer replies become numbers', () => {
    expect(evalText(`redis.call('SET', 'n', '41') return type(redis.call('INCR', 'n'))`)).toBe('number')
    expect(evalText(`return redis.call('INCR', 'n') + 1`)).toBe(44)
  })

  it('bulk replies become strings, nil bulk and null arrays become false', () => {
    host.db().set('k', Buffer.from('v'))
    expect(typeOf(`'GET', 'k'`)).toBe('string:v')
    expect(typeOf(`'GET', 'missing'`)).toBe('boolean:false')
    expect(typeOf(`'FAKE.NULLARRAY'`)).toBe('boolean:false')
    expect(typeOf(`'FAKE.TEXT'`)).toBe('string:plain text')
  })

  it('a status reply becomes a table with an ok field', () => {
    expect(evalText(`local r = redis.call('PING') return type(r) .. ':' .. r.ok`)).toBe('table:PONG')
    expect(evalText(`return redis.call('SET', 'k', 'v')`)).toEqual(new SimpleString('OK'))
  })

  it('an error reply becomes a table with an err field (through pcall)', () => {
    expect(evalText(`return redis.pcall('NOPE').err`)).toMatch(/^ERR unknown command 'NOPE'/)
  })

  it('arrays become tables, with false where an element is nil', () => {
    host.db().set('a', Buffer.from('1'))
    expect(evalText(`local r = redis.call('MGET', 'a', 'nope', 'a') return {#r, r[1], tostring(r[2]), r[3]}`)).toEqual([
      3,
      '1',
      'false',
      '1',
    ])
    expect(evalText(`return redis.call('FAKE.NESTED')`)).toEqual([1, ['a', null], []])
  })

  it('doubles arrive as strings, maps as flat arrays and sets as arrays, as RESP2 sends them', () => {
    expect(evalText(`return redis.call('FAKE.DOUBLE', '1.5')`)).toBe('1.5')
    expect(evalText(`return redis.call('FAKE.DOUBLE', '3')`)).toBe('3')
    expect(evalText(`return redis.call('FAKE.DOUBLE', '-Infinity')`)).toBe('-inf')
    expect(evalText(`return redis.call('FAKE.MAP')`)).toEqual(['field', 'value', 'n', 7])
    expect(evalText(`return redis.call('FAKE.SET')`)).toEqual(['only'])
  })
})

describe('command replies as Lua values after redis.setresp(3)', () => {
  const {evalText, evalScript} = scripting()

  it('doubles, maps and sets become tagged tables, nulls become nil', () => {
    expect(evalText(`redis.setresp(3) return redis.call('FAKE.DOUBLE', '2.5').double * 2`)).toBe(5)
    expect(evalText(`redis.setresp(3) local m = redis.call('FAKE.MAP').map return {m.field, m.n}`)).toEqual([
      'value',
      7,
    ])
    expect(evalText(`redis.setresp(3) return redis.call('FAKE.SET').set.only`)).toBe(1)
    expect(evalText(`redis.setresp(3) return type(redis.call('GET', 'missing'))`)).toBe('nil')
  })

  it('returns maps, sets and doubles as RESP3 replies', () => {
    expect(evalScript(`return {double = 1.25}`)).toEqual(new DoubleReply(1.25))
    expect(evalText(`return {map = {a = 1}}`)).toEqual(new MapReply([[Buffer.from('a'), 1]]))
    expect(evalText(`return {set = {x = true}}`)).toEqual(new SetReply([Buffer.from('x')]))
  })

  it('only lasts for the script that asked', () => {
    expect(evalText(`return type(redis.call('GET', 'missing'))`)).toBe('boolean')
  })

  it('accepts only 2 and 3', () => {
    expect(evalScript(`redis.setresp(4)`)).toEqual(new ErrorReply('ERR RESP version must be 2 or 3. script: on @user_script:1.'))
  })
})

describe('Lua values as the script reply', () => {
  const {evalScript, evalText} = scripting()

  it('numbers become integers, truncated toward zero', () => {
    expect(evalScript('return 42')).toBe(42)
    expect(evalScript('return 3.99')).toBe(3)
    expect(evalScript('return -3.99')).toBe(-3)
    expect(evalScript('return 2^40')).toBe(1099511627776)
  })

  it('strings become bulk strings; true is 1; false and nil are nil bulk', () => {
    expect(evalText(`return 'hello'`)).toBe('hello')
    expect(evalScript('return true')).toBe(1)
    expect(evalScript('return false')).toBeNull()
    expect(evalScript('return nil')).toBeNull()
    expect(evalScript('local x = 1')).toBeNull()
  })

  it('tables with ok or err become status and error replies', () => {
    expect(evalScript(`return {ok = 'FINE'}`)).toEqual(new SimpleString('FINE'))
    expect(evalScript(`return {err = 'MYERR something'}`)).toEqual(new ErrorReply('MYERR something'))
    expect(evalScript(`return redis.status_reply('DONE')`)).toEqual(new SimpleString('DONE'))
    expect(evalScript(`return redis.error_reply('CODE detail')`)).toEqual(new ErrorReply('CODE detail'))
    // Valkey reads the first word as the code; a single word gets "ERR" in front.
    expect(evalScript(`return redis.error_reply('oneword')`)).toEqual(new ErrorReply('ERR oneword'))
  })

  it('status and error lines cannot carry CR or LF', () => {
    expect(evalScript(`return {ok = 'a\\r\\nb'}`)).toEqual(new SimpleString('a  b'))
  })

  it('array tables become arrays that stop at the first nil', () => {
    expect(evalText(`return {1, 'two', {3, false}, nil, 5}`)).toEqual([1, 'two', [3, null]])
    expect(evalText(`return {}`)).toEqual([])
  })

  it('a table that contains itself ends in an error element instead of recursing forever', () => {
    const reply = evalScript(`local t = {} t[1] = t return t`)
    let depth = 0
    let inner: unknown = reply
    while (Array.isArray(inner)) {
      inner = inner[0]
      depth++
    }
    expect(inner).toEqual(new ErrorReply('ERR reached lua stack limit'))
    expect(depth).toBeGreaterThan(100)
  })
})

describe('numbers passed to redis.call', () => {
  const {evalText, host} = scripting()

  it('integral values are written as integers, others with shortest round-trip digits', () => {
    evalText(`redis.call('SET', 'a', 10 / 2) redis.call('SET', 'b', 3.5) redis.call('SET', 'c', 1e15) redis.call('SET', 'd', 0.1)`)
    expect([...host.db()].map(([k, v]) => `${k}=${v}`)).toEqual(['a=5', 'b=3.5', 'c=1000000000000000', 'd=0.1'])
  })

  it('print as Lua 5.1 does: no ".0" on integral floats', () => {
    expect(evalText(`return tostring(10 / 2) .. ' ' .. (7 / 2) .. ' ' .. 2^31`)).toBe('5 3.5 2147483648')
  })
})

describe('the length operator', () => {
  it('gives the border of sequences and of tables with holes or other keys', () => {
    const {evalText} = scripting()
    expect(evalText(`local t = {} for i = 1, 1000 do t[#t + 1] = i end return #t`)).toBe(1000)
    expect(evalText(`local t = {1, 2, 3, x = 'y'} return #t`)).toBe(3)
    expect(evalText(`local t = {1, 2, 3} t[3] = nil return #t`)).toBe(2)
    expect(evalText(`return #{}`)).toBe(0)
  })
})

describe('arithmetic', () => {
  const {evalScript, evalText} = scripting()

  it('stays exact past 32 bits, as Lua 5.1 doubles do (fengari integers alone would wrap)', () => {
    expect(evalScript(`return 2147483647 + 1`)).toBe(2147483648)
    expect(evalScript(`local t = redis.call('TIME') return tonumber(t[1]) * 1000000 + tonumber(t[2])`)).toBe(1700000000123456)
    expect(evalScript(`local us = 1700000000 * 1000000 return us`)).toBe(1700000000000000)
    expect(evalScript(`local low = -2147483647 - 1 return -low`)).toBe(2147483648)
    expect(evalText(`return tostring(2147483647 + 1)`)).toBe('2147483648')
  })
})
