// SCRIPT LOAD / EXISTS / FLUSH, EVALSHA's body lookup, and the shebang flags the engine
// reads before running a script (cross-slot and write checks are the engine's).
import {createHash} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {ErrorReply} from '../../../src/engine/resp/reply.js'
import {ScriptEngine} from '../../../src/engine/scripting/index.js'
import {MemoryHost} from './memory-host.js'

const RETURN_ONE_SHA = 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db' // sha1("return 1"), as Valkey reports it

describe('SCRIPT LOAD, EXISTS, FLUSH', () => {
  it('load returns the lowercase sha1 of the exact body', () => {
    const engine = new ScriptEngine()
    expect(engine.load(Buffer.from('return 1'))).toBe(RETURN_ONE_SHA)
    expect(engine.load(Buffer.from('return 1\n'))).not.toBe(RETURN_ONE_SHA)
    // the shebang is part of the body that is hashed
    expect(engine.load(Buffer.from('#!lua\nreturn 1'))).toBe(sha1('#!lua\nreturn 1'))
  })

  it('exists and bodyOf find loaded scripts, ignoring the case of the sha', () => {
    const engine = new ScriptEngine()
    engine.load(Buffer.from('return 1'))
    expect(engine.exists(RETURN_ONE_SHA)).toBe(true)
    expect(engine.exists(RETURN_ONE_SHA.toUpperCase())).toBe(true)
    expect(engine.exists('ffffffffffffffffffffffffffffffffffffffff')).toBe(false)
    expect(engine.bodyOf(RETURN_ONE_SHA)?.toString()).toBe('return 1')
    expect(engine.bodyOf('ffffffffffffffffffffffffffffffffffffffff')).toBeUndefined()
  })

  it('EVAL caches the script too, so EVALSHA works after it', () => {
    const engine = new ScriptEngine()
    const host = new MemoryHost()
    expect(engine.run(Buffer.from('return 1'), [], [], host)).toBe(1)
    const body = engine.bodyOf(RETURN_ONE_SHA)
    expect(body).toBeDefined()
    expect(engine.run(body!, [], [], host)).toBe(1)
  })

  it('keeps its own copy of the body', () => {
    const engine = new ScriptEngine()
    const request = Buffer.from('return 1')
    engine.load(request)
    request.write('XXXXXX')
    expect(engine.bodyOf(RETURN_ONE_SHA)?.toString()).toBe('return 1')
  })

  it('flush forgets every script', () => {
    const engine = new ScriptEngine()
    engine.load(Buffer.from('return 1'))
    engine.flush()
    expect(engine.exists(RETURN_ONE_SHA)).toBe(false)
    expect(engine.bodyOf(RETURN_ONE_SHA)).toBeUndefined()
    expect(engine.run(Buffer.from('return 1'), [], [], new MemoryHost())).toBe(1)
  })

  it('keeps at most 500 scripts added by EVAL, evicting the least recently used; loaded ones stay', () => {
    const engine = new ScriptEngine()
    const host = new MemoryHost()
    engine.load(Buffer.from('return "loaded"'))
    engine.run(Buffer.from('return 0'), [], [], host)
    engine.run(Buffer.from('return 1'), [], [], host)
    engine.run(Buffer.from('return 0'), [], [], host) // used again: now the most recent
    for (let i = 2; i <= 500; i++) engine.run(Buffer.from(`return ${i}`), [], [], host)
    expect(engine.exists(sha1('return 1'))).toBe(false) // the least recently used EVAL script
    expect(engine.exists(sha1('return 0'))).toBe(true)
    expect(engine.exists(sha1('return 500'))).toBe(true)
    expect(engine.exists(sha1('return "loaded"'))).toBe(true)
  })
})

describe('shebang flags', () => {
  const engine = new ScriptEngine()
  const flags = (body: string) => {
    const parsed = engine.parseFlags(Buffer.from(body))
    return parsed instanceof ErrorReply ? parsed : {shebang: parsed.shebang, flags: [...parsed.flags]}
  }

  it('a script without shebang runs in compatibility mode', () => {
    expect(flags('return 1')).toEqual({shebang: false, flags: []})
  })

  it('#!lua alone declares no flags', () => {
    expect(flags('#!lua\nreturn 1')).toEqual({shebang: true, flags: []})
    expect(flags('#!lua flags=\nreturn 1')).toEqual({shebang: true, flags: []})
  })

  it('reads the flags list', () => {
    expect(flags('#!lua flags=allow-cross-slot-keys,no-writes\nreturn 1')).toEqual({
      shebang: true,
      flags: ['allow-cross-slot-keys', 'no-writes'],
    })
    expect(flags('#!lua flags=allow-oom,allow-stale,no-cluster\n')).toEqual({
      shebang: true,
      flags: ['allow-oom', 'allow-stale', 'no-cluster'],
    })
  })

  it('refuses unknown flags, options and engines with Valkey errors', () => {
    expect(flags('#!lua flags=allow-oom,what?\nreturn 1')).toEqual(new ErrorReply('ERR Unexpected flag in script shebang: what?'))
    expect(flags('#!lua badger=data\nreturn 1')).toEqual(new ErrorReply('ERR Unknown lua shebang option: badger=data'))
    expect(flags('#!not-lua\nreturn 1')).toEqual(new ErrorReply("ERR Could not find scripting engine 'not-lua'"))
    expect(flags('#!lua')).toEqual(new ErrorReply('ERR Invalid script shebang'))
  })

  it('the same errors come from LOAD and EVAL, and nothing is cached', () => {
    const body = Buffer.from('#!lua flags=bogus\nreturn 1')
    expect(engine.load(body)).toEqual(new ErrorReply('ERR Unexpected flag in script shebang: bogus'))
    expect(engine.run(body, [], [], new MemoryHost())).toEqual(new ErrorReply('ERR Unexpected flag in script shebang: bogus'))
  })

  it('the shebang line is not compiled but still counts for line numbers', () => {
    const reply = engine.run(Buffer.from('#!lua flags=no-writes\nerror("line two")'), [], [], new MemoryHost())
    expect(reply).toEqual(new ErrorReply('ERR user_script:2: line two script: on @user_script:2.'))
  })
})

function sha1(body: string): string {
  return createHash('sha1').update(body).digest('hex')
}
