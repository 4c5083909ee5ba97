// How errors leave a script, worded as Valkey 9.1 words them.
import {describe, expect, it} from 'vitest'

import {ErrorReply} from '../../../src/engine/resp/reply.js'
import {scripting, text} from './helpers.js'

const NON_LOCAL = 'ERR Attempted to access a non local key in a cluster node'

describe('an error from redis.call', () => {
  it('stops the script and names the script line, as Valkey 9.1 does', () => {
    const {evalScript} = scripting()
    expect(evalScript(`return redis.call('GET', 'remote:k')`)).toEqual(
      new ErrorReply(`${NON_LOCAL} script: on @user_script:1.`),
    )
    expect(evalScript(`local a = 1\n\nredis.call('SET', ARGV[1], 'x')\nreturn a`, [], ['remote:k'])).toEqual(
      new ErrorReply(`${NON_LOCAL} script: on @user_script:3.`),
    )
  })

  it('keeps what the script already did (no rollback)', () => {
    const {evalScript, host} = scripting()
    const reply = evalScript(`redis.call('SET', 'done', '1') redis.call('SET', 'remote:x', '2') redis.call('SET', 'never', '3')`)
    expect(reply).toBeInstanceOf(ErrorReply)
    expect([...host.db().keys()]).toEqual(['done'])
  })

  it('keeps the error code the command used', () => {
    const {evalScript} = scripting()
    expect(evalScript(`redis.call('SELECT', 99)`)).toEqual(
      new ErrorReply('ERR DB index is out of range script: on @user_script:1.'),
    )
  })
})

describe('redis.pcall', () => {
  it('returns the error as a table the script can inspect', () => {
    const {evalText} = scripting()
    expect(evalText(`local r = redis.pcall('GET', 'remote:k') return {type(r), r.err}`)).toEqual(['table', NON_LOCAL])
  })

  it('lets a script return the error as its reply, without a script suffix', () => {
    const {evalScript} = scripting()
    expect(evalScript(`return redis.pcall('GET', 'remote:k')`)).toEqual(new ErrorReply(NON_LOCAL))
  })

  it('returns successful replies like redis.call', () => {
    const {evalText} = scripting()
    expect(evalText(`return redis.pcall('PING').ok`)).toBe('PONG')
  })
})

describe('argument errors', () => {
  const {evalScript} = scripting()

  it('redis.call needs at least one argument', () => {
    expect(evalScript(`return redis.call()`)).toEqual(
      new ErrorReply('ERR Please specify at least one argument for this call script: on @user_script:1.'),
    )
    expect(evalScript(`return redis.pcall()`)).toEqual(new ErrorReply('ERR Please specify at least one argument for this call'))
  })

  it('arguments must be strings or numbers', () => {
    expect(evalScript(`return redis.call('GET', {})`)).toEqual(
      new ErrorReply('ERR Command arguments must be strings or integers script: on @user_script:1.'),
    )
    expect(evalScript(`return redis.call('GET', nil)`)).toEqual(
      new ErrorReply('ERR Command arguments must be strings or integers script: on @user_script:1.'),
    )
  })
})

describe('Lua runtime errors', () => {
  const {evalScript, evalText} = scripting()

  it('error("...") carries the Lua position and the script line', () => {
    expect(evalScript(`error('boom')`)).toEqual(new ErrorReply('ERR user_script:1: boom script: on @user_script:1.'))
    expect(evalScript(`\n\nerror('deep')`)).toEqual(new ErrorReply('ERR user_script:3: deep script: on @user_script:3.'))
  })

  it('error with an {err=...} table keeps its code', () => {
    expect(evalScript(`error({err = 'MYCODE went wrong'})`)).toEqual(
      new ErrorReply('MYCODE went wrong script: on @user_script:1.'),
    )
    expect(evalScript(`error(redis.error_reply('CUSTOM failure'))`)).toEqual(
      new ErrorReply('CUSTOM failure script: on @user_script:1.'),
    )
  })

  it('calling an undefined global names the variable', () => {
    expect(evalScript(`return undefined_function()`)).toEqual(
      new ErrorReply(
        "ERR user_script:1: Script attempted to access nonexistent global variable 'undefined_function' script: on @user_script:1.",
      ),
    )
  })

  it('arithmetic on nil is a runtime error at its line', () => {
    const reply = evalScript(`local t = {}\nreturn t.x + 1`)
    expect(reply).toBeInstanceOf(ErrorReply)
    expect((reply as ErrorReply).message).toMatch(/^ERR user_script:2: attempt to perform arithmetic on .*nil.* script: on @user_script:2\.$/)
  })

  it('the global pcall catches errors and gives the err text, as Valkey wraps it', () => {
    expect(evalText(`return {pcall(redis.call, 'GET', 'remote:k')}`)).toEqual([null, NON_LOCAL])
    expect(evalText(`local ok, e = pcall(error, 'plain') return {tostring(ok), e}`)).toEqual(['false', 'plain'])
    expect(evalText(`local ok, a, b = pcall(function() return 1, 2 end) return {tostring(ok), a, b}`)).toEqual([
      'true',
      1,
      2,
    ])
  })
})

describe('compile errors', () => {
  it('are reported with Valkey wording and the Lua message', () => {
    const {evalScript} = scripting()
    expect(evalScript(`return +`)).toEqual(
      new ErrorReply("ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'"),
    )
  })

  it('are not cached', () => {
    const {engine} = scripting()
    expect(engine.load(Buffer.from('return +'))).toBeInstanceOf(ErrorReply)
    expect(engine.exists('00000000')).toBe(false)
  })
})

describe('helper functions', () => {
  const {evalScript, evalText} = scripting()

  it('sha1hex hashes like Valkey and wants exactly one argument', () => {
    expect(evalText(`return redis.sha1hex('')`)).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709')
    expect(evalText(`return redis.sha1hex('return 1')`)).toBe('e0e1f9fabfc9d4800c877a703b823ac0578ff8db')
    expect(evalScript(`return redis.sha1hex()`)).toEqual(new ErrorReply('ERR wrong number of arguments script: on @user_script:1.'))
  })

  it('error_reply and status_reply refuse non-strings by returning an error table', () => {
    expect(evalScript(`return redis.status_reply(1, 2)`)).toEqual(new ErrorReply('ERR wrong number or type of arguments'))
  })

  it('log needs a valid level and a message', () => {
    expect(evalScript(`redis.log(redis.LOG_WARNING)`)).toEqual(
      new ErrorReply('ERR server.log() requires two arguments or more. script: on @user_script:1.'),
    )
    expect(evalScript(`redis.log(42, 'x')`)).toEqual(new ErrorReply('ERR Invalid log level. script: on @user_script:1.'))
  })

  it('error replies from an array element are values, not raised', () => {
    expect(text(evalScript(`return {redis.pcall('NOPE'), 1}`))).toEqual([
      new ErrorReply("ERR unknown command 'NOPE', with args beginning with: "),
      1,
    ])
  })
})

describe('stopping a runaway script', () => {
  it('aborts when the host says it was interrupted (SCRIPT KILL), even inside pcall', () => {
    const {engine, host} = scripting()
    let polls = 0
    const killable = {call: (argv: Buffer[]) => host.call(argv), interrupted: () => ++polls > 2}
    const reply = engine.run(
      Buffer.from(`redis.call('SET', 'before', '1')\nwhile true do\n  pcall(function() while true do end end)\nend`),
      [],
      [],
      killable,
    )
    expect(reply).toEqual(new ErrorReply('ERR Script killed by user with SCRIPT KILL. script: on @user_script:3.'))
    expect([...host.db().keys()]).toEqual(['before'])
    // the next script runs normally
    expect(engine.run(Buffer.from('return 1'), [], [], host)).toBe(1)
  })
})
