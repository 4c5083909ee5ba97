// The sandbox Valkey gives scripts: read-only globals and libraries, no files or processes,
// nothing left behind for the next script, and the Lua 5.1 names scripts are written against.
import {describe, expect, it} from 'vitest'

import {ErrorReply} from '../../../src/engine/resp/reply.js'
import {ScriptEngine} from '../../../src/engine/scripting/index.js'
import {scripting} from './helpers.js'

const READONLY = 'ERR user_script:1: Attempt to modify a readonly table script: on @user_script:1.'

describe('global protection', () => {
  const {evalScript, evalText} = scripting()

  it('refuses to create or change globals', () => {
    expect(evalScript(`leaked = 10`)).toEqual(new ErrorReply(READONLY))
    expect(evalScript(`_G.leaked = 10`)).toEqual(new ErrorReply(READONLY))
    // raised inside rawset (a library function): no Lua position, as in Valkey
    expect(evalScript(`rawset(_G, 'leaked', 10)`)).toEqual(
      new ErrorReply('ERR Attempt to modify a readonly table script: on @user_script:1.'),
    )
    expect(evalScript(`redis = function() return 1 end`)).toEqual(new ErrorReply(READONLY))
    expect(evalScript(`_G = {}`)).toEqual(new ErrorReply(READONLY))
  })

  it('refuses to change the libraries, redis included', () => {
    expect(evalScript(`redis.call = function() return 1 end`)).toEqual(new ErrorReply(READONLY))
    expect(evalScript(`string.rep = nil`)).toEqual(new ErrorReply(READONLY))
    expect(evalScript(`math.floor = nil`)).toEqual(new ErrorReply(READONLY))
    // raised inside table.insert (no Lua position), reported at the script line
    expect(evalScript(`table.insert(server, 1)`)).toEqual(
      new ErrorReply('ERR Attempt to modify a readonly table script: on @user_script:1.'),
    )
  })

  it('refuses to change metatables of the globals and of strings', () => {
    expect(evalScript(`local g = getmetatable(_G) g.__index = {}`)).toEqual(new ErrorReply(READONLY))
    expect(evalScript(`getmetatable('').__index = {}`)).toEqual(new ErrorReply(READONLY))
    expect(evalScript(`getmetatable('').__index.upper = nil`)).toEqual(new ErrorReply(READONLY))
    expect(evalScript(`setmetatable(_G, {})`)).toEqual(
      new ErrorReply('ERR Attempt to modify a readonly table script: on @user_script:1.'),
    )
    expect(evalText(`return type(getmetatable(_G))`)).toBe('table')
  })

  it('reading an undefined global is an error, not nil', () => {
    expect(evalScript(`return a`)).toEqual(
      new ErrorReply("ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: on @user_script:1."),
    )
  })

  it('leaves nothing behind between scripts; locals and KEYS/ARGV tables stay usable', () => {
    expect(evalText(`local t = {} t.x = 1 KEYS[1] = 'changed' return {t.x, KEYS[1]}`, ['k'])).toEqual([1, 'changed'])
    expect(evalText(`return #KEYS`)).toBe(0)
  })

  it('keeps chunks loaded with loadstring inside the sandbox', () => {
    expect(evalText(`return loadstring('return 2 + 3')()`)).toBe(5)
    expect(evalScript(`loadstring('sneaky = 1')()`)).toEqual(
      new ErrorReply('ERR [string "sneaky = 1"]:1: Attempt to modify a readonly table script: on sneaky = 1:1.'),
    )
    expect(evalText(`return tostring(loadstring(string.dump(function() return 1 end)))`)).toBe('nil')
  })
})

describe('what scripts can reach', () => {
  const {evalScript, evalText} = scripting()

  it('has no file, process or module access', () => {
    for (const name of ['print', 'dofile', 'loadfile', 'io', 'require', 'package', 'debug']) {
      expect(evalScript(`return ${name}`)).toEqual(
        new ErrorReply(
          `ERR user_script:1: Script attempted to access nonexistent global variable '${name}' script: on @user_script:1.`,
        ),
      )
    }
  })

  it('keeps only os.clock from os, as Valkey 8+', () => {
    expect(evalText(`return {type(os.clock), type(os.execute), type(os.getenv), type(os.exit)}`)).toEqual([
      'function',
      'nil',
      'nil',
      'nil',
    ])
  })

  it('offers the usual builtins and the Lua 5.1 names', () => {
    const script = `
      local parts = {}
      for _, v in ipairs({3, 1, 2}) do parts[#parts + 1] = tostring(v) end
      table.sort(parts)
      local a, b = unpack({'x', 'y'})
      return {table.concat(parts, ','), a .. b, tonumber('42'), type(nil), select('#', 1, 2, 3),
              string.format('%05.1f', 3.14159), string.upper('abc'), math.max(4, 9), table.getn({1, 2}),
              math.pow(2, 10), _VERSION}`
    expect(evalText(script)).toEqual(['1,2,3', 'xy', 42, 'nil', 3, '003.1', 'ABC', 9, 2, 1024, 'Lua 5.1'])
  })

  it('exposes the same API as both redis and server, with version fields', () => {
    expect(evalText(`return {tostring(redis == server), redis.REDIS_VERSION, server.VALKEY_VERSION, redis.SERVER_NAME}`)).toEqual([
      'true',
      '7.2.4',
      '9.1.0',
      'valkey',
    ])
    expect(evalText(`return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}`)).toEqual([0, 1, 2, 3])
    expect(evalText(`local n = 0 for k in pairs(redis) do n = n + 1 end return n`)).toBeGreaterThan(20)
  })

  it('math.random is deterministic per engine (lrand48, as Valkey)', () => {
    const first = scripting().evalText(`return {math.random(100), math.random(100), math.random(100)}`)
    const second = scripting().evalText(`return {math.random(100), math.random(100), math.random(100)}`)
    expect(first).toEqual(second)
    expect(evalText(`math.randomseed(7) local a = math.random() math.randomseed(7) return tostring(a == math.random())`)).toBe(
      'true',
    )
  })
})

describe('redis.log', () => {
  it('sends the joined message to the engine log at its level', () => {
    const lines: string[] = []
    const engine = new ScriptEngine({log: (level, message) => lines.push(`${level}: ${message}`)})
    engine.run(Buffer.from(`redis.log(redis.LOG_WARNING, 'moved', 42, 'keys') return 1`), [], [], {call: () => null})
    expect(lines).toEqual(['warning: moved 42 keys'])
  })
})
