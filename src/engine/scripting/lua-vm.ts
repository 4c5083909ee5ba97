// One sandboxed Lua state shaped like Valkey's EVAL interpreter: the `server`/`redis` API,
// read-only globals and libraries, Valkey's error handler, compiled scripts kept by reference.
import {createHash} from 'node:crypto'

import {ErrorReply, type Reply} from '../resp/reply.js'
import {bufferOf, popReply, pushErrorTable, pushReply, raisedErrorReply, textOf, type RespVersion} from './convert.js'
import {
  lauxlib,
  lua,
  lualib,
  luaString,
  pushOwnedBytes,
  pushStringArray,
  raiseReadonlyError,
  setReadonlyTable,
  isReadonlyTable,
  type LuaCFunction,
  type LuaState,
  type LuaString,
} from './fengari.js'
import {formatCommandNumber} from './number-format.js'
import {PRELUDE, REPLICATION_FLAGS, VERSION_FIELDS} from './lua-prelude.js'
import {RAND48_MAX, Rand48} from './rand48.js'

/** Runs one command for the script; returns an ErrorReply on error and never throws. */
export interface CommandRunner {
  call(argv: Buffer[]): Reply
  /** True when every Buffer in call()'s replies is new and never used again by the runner: Lua keeps it without a copy. */
  handsOverBuffers?: boolean
  /** Polled every ~100k Lua instructions when present: true aborts the script (SCRIPT KILL). */
  interrupted?(): boolean
}

/** How many Lua instructions run between two interrupted() polls. */
const INTERRUPT_POLL_INSTRUCTIONS = 100_000

/** Valkey's log levels (LL_DEBUG … LL_WARNING), as redis.LOG_* exposes them. */
export const LOG_LEVELS = {debug: 0, verbose: 1, notice: 2, warning: 3} as const
export type LogLevel = keyof typeof LOG_LEVELS
export type ScriptLogger = (level: LogLevel, message: string) => void

const CHUNK_NAME = luaString('@user_script')
const TEXT_ONLY = luaString('t')
const KEY_KEYS = luaString('KEYS')
const KEY_ARGV = luaString('ARGV')
const MISSING_GLOBAL_MESSAGE = luaString("Script attempted to access nonexistent global variable '%s'")

interface RunState {
  runner: CommandRunner
  resp: RespVersion
}

export class LuaVm {
  private readonly L: LuaState
  private readonly random = new Rand48()
  private readonly errorHandlerRef: number
  private current: RunState | null = null

  constructor(private readonly log: ScriptLogger) {
    const L = lauxlib.luaL_newstate()
    this.L = L
    lua.lua_atnativeerror(L, (state) => {
      // A JS exception inside one of our functions: turn it into an ordinary Lua error.
      const e = lua.lua_touserdata(state, -1)
      pushOwnedBytes(state, Buffer.from(`internal error: ${e instanceof Error ? e.message : String(e)}`))
      return 1
    })
    const libraries: Array<[string, LuaCFunction]> = [
      ['_G', lualib.luaopen_base],
      ['table', lualib.luaopen_table],
      ['string', lualib.luaopen_string],
      ['math', lualib.luaopen_math],
      ['coroutine', lualib.luaopen_coroutine],
      ['debug', lualib.luaopen_debug],
    ]
    for (const [name, open] of libraries) {
      lauxlib.luaL_requiref(L, luaString(name), open, true)
      lua.lua_pop(L, 1)
    }
    this.registerServerApi()
    this.registerMathRandom()
    this.setGlobalFunction('pcall', (s) => this.protectedCall(s))

    lua.lua_getglobal(L, luaString('setmetatable'))
    const setmetatable = lua.lua_tocfunction(L, -1) as LuaCFunction
    lua.lua_pop(L, 1)

    const prelude = Buffer.from(PRELUDE)
    if (lauxlib.luaL_loadbufferx(L, prelude, prelude.length, luaString('=prelude'), TEXT_ONLY) !== lua.LUA_OK) {
      throw new Error(`scripting prelude: ${textOf(lua.lua_tolstring(L, -1) as LuaString)}`)
    }
    lua.lua_pushcfunction(L, (s) => this.missingGlobal(s))
    lua.lua_pushcfunction(L, (s) => {
      if (lua.lua_type(s, 1) === lua.LUA_TTABLE && isReadonlyTable(s, 1)) return raiseReadonlyError(s)
      return setmetatable(s)
    })
    lua.lua_pushcfunction(L, (s) => {
      const {user, system} = process.cpuUsage()
      lua.lua_pushnumber(s, (user + system) / 1e6)
      return 1
    })
    if (lua.lua_pcall(L, 3, 1, 0) !== lua.LUA_OK) {
      throw new Error(`scripting prelude: ${textOf(lua.lua_tolstring(L, -1) as LuaString)}`)
    }
    this.errorHandlerRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX)

    // Lock the globals, everything reachable from them and the string metatable.
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS)
    setReadonlyTable(L, -1, true, true)
    lua.lua_pushstring(L, luaString(''))
    lua.lua_getmetatable(L, -1)
    setReadonlyTable(L, -1, true, true)
    lua.lua_settop(L, 0)
  }

  /** Compiles a script body (shebang line already blanked out by `skip`); returns a reference or the error reply. */
  compile(body: Buffer, skip: number): number | ErrorReply {
    const L = this.L
    const code = body.subarray(skip)
    if (lauxlib.luaL_loadbufferx(L, code, code.length, CHUNK_NAME, TEXT_ONLY) !== lua.LUA_OK) {
      const message = textOf(lua.lua_tolstring(L, -1) as LuaString)
      lua.lua_settop(L, 0)
      return new ErrorReply(`ERR Error compiling script (new function): ${message}`.replace(/[\r\n]/g, ' '))
    }
    return lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX)
  }

  release(ref: number): void {
    lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, ref)
  }

  /** Runs a compiled script with KEYS and ARGV; every outcome is a Reply. */
  run(ref: number, keys: readonly Buffer[], args: readonly Buffer[], runner: CommandRunner): Reply {
    if (this.current !== null) return new ErrorReply('ERR This command is not allowed from script')
    const L = this.L
    lua.lua_settop(L, 0)
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.errorHandlerRef)
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref)
    this.setGlobalArray(KEY_KEYS, keys)
    this.setGlobalArray(KEY_ARGV, args)
    this.current = {runner, resp: 2}
    if (runner.interrupted !== undefined) lua.lua_sethook(L, this.interruptHook, lua.LUA_MASKCOUNT, INTERRUPT_POLL_INSTRUCTIONS)
    let reply: Reply
    try {
      const status = lua.lua_pcall(L, 0, 1, 1)
      reply = status === lua.LUA_OK ? popReply(L) : raisedErrorReply(L)
    } catch (e) {
      reply = new ErrorReply(`ERR Error running script: ${e instanceof Error ? e.message : String(e)}`)
    } finally {
      this.current = null
      lua.lua_sethook(L, null, 0, 0)
      lua.lua_settop(L, 0)
      // Drop the request's buffers now rather than at the next run.
      this.setGlobalArray(KEY_KEYS, [])
      this.setGlobalArray(KEY_ARGV, [])
    }
    return reply
  }

  private readonly interruptHook = (L: LuaState): void => {
    if (this.current?.runner.interrupted?.() !== true) return
    // From now on check at every line, so a pcall in the script cannot swallow the kill.
    lua.lua_sethook(L, this.interruptHook, lua.LUA_MASKLINE, 0)
    this.raise(L, 'Script killed by user with SCRIPT KILL.')
  }

  /**
   * Sets a global array of strings, opening the locked globals for that moment as Valkey does.
   * The strings share the Buffers' bytes. The array itself stays writable, as in Valkey.
   */
  private setGlobalArray(name: LuaString, items: readonly Buffer[]): void {
    const L = this.L
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS)
    pushStringArray(L, items)
    lua.lua_pushstring(L, name)
    lua.lua_insert(L, -2)
    setReadonlyTable(L, -3, false)
    lua.lua_rawset(L, -3)
    setReadonlyTable(L, -1, true)
    lua.lua_pop(L, 1)
  }

  private setGlobalFunction(name: string, f: LuaCFunction): void {
    lua.lua_pushcfunction(this.L, f)
    lua.lua_setglobal(this.L, luaString(name))
  }

  private registerServerApi(): void {
    const L = this.L
    lua.lua_createtable(L, 0, 32)
    const fn = (name: string, f: LuaCFunction) => {
      lua.lua_pushcfunction(L, f)
      lua.lua_setfield(L, -2, luaString(name))
    }
    const num = (name: string, value: number) => {
      lua.lua_pushinteger(L, value)
      lua.lua_setfield(L, -2, luaString(name))
    }
    const str = (name: string, value: string) => {
      lua.lua_pushstring(L, luaString(value))
      lua.lua_setfield(L, -2, luaString(name))
    }
    fn('call', (s) => this.command(s, true))
    fn('pcall', (s) => this.command(s, false))
    fn('sha1hex', (s) => this.sha1hex(s))
    fn('error_reply', (s) => this.errorReply(s))
    fn('status_reply', (s) => this.statusReply(s))
    fn('log', (s) => this.logCommand(s))
    fn('setresp', (s) => this.setResp(s))
    fn('set_repl', (s) => this.setRepl(s))
    fn('replicate_commands', (s) => {
      lua.lua_pushboolean(s, true)
      return 1
    })
    fn('breakpoint', (s) => {
      lua.lua_pushboolean(s, false)
      return 1
    })
    fn('debug', () => 0)
    for (const [name, level] of Object.entries(LOG_LEVELS)) num(`LOG_${name.toUpperCase()}`, level)
    for (const [name, value] of Object.entries(REPLICATION_FLAGS)) num(name, value)
    for (const [name, value] of Object.entries(VERSION_FIELDS)) {
      if (typeof value === 'number') num(name, value)
      else str(name, value)
    }
    lua.lua_pushvalue(L, -1)
    lua.lua_setglobal(L, luaString('server'))
    lua.lua_setglobal(L, luaString('redis')) // the same table under its old name
  }

  private registerMathRandom(): void {
    const L = this.L
    lua.lua_getglobal(L, luaString('math'))
    lua.lua_pushcfunction(L, (s) => this.mathRandom(s))
    lua.lua_setfield(L, -2, luaString('random'))
    lua.lua_pushcfunction(L, (s) => {
      this.random.seed(lua.lua_tointeger(s, 1))
      return 0
    })
    lua.lua_setfield(L, -2, luaString('randomseed'))
    lua.lua_pop(L, 1)
  }

  /** redis.call / redis.pcall: the hot path of every script, kept free of avoidable work. */
  private command(L: LuaState, raise: boolean): number {
    const run = this.current
    const argc = lua.lua_gettop(L)
    if (run === null) return this.fail(L, 'server.call can only be used inside a script', raise)
    if (argc === 0) return this.fail(L, 'Please specify at least one argument for this call', raise)
    const argv = new Array<Buffer>(argc)
    for (let i = 0; i < argc; i++) {
      const type = lua.lua_type(L, i + 1)
      if (type === lua.LUA_TSTRING) {
        argv[i] = bufferOf(lua.lua_tolstring(L, i + 1) as LuaString)
      } else if (type === lua.LUA_TNUMBER) {
        argv[i] = this.numberArgument(lua.lua_tonumber(L, i + 1))
      } else {
        lua.lua_settop(L, 0)
        return this.fail(L, 'Command arguments must be strings or integers', raise)
      }
    }
    lua.lua_settop(L, 0)
    let reply: Reply
    try {
      reply = run.runner.call(argv)
    } catch (e) {
      reply = new ErrorReply(`ERR ${e instanceof Error ? e.message : String(e)}`)
    }
    pushReply(L, reply, run.resp, run.runner.handsOverBuffers === true)
    if (raise && reply instanceof ErrorReply) return lua.lua_error(L)
    return 1
  }

  private lastNumber = NaN
  private lastNumberBytes: Buffer = Buffer.alloc(0)

  /**
   * A number argument as its command text. The last one is kept: a loop passes the same number
   * (MOVE's target db) on every call, and the same Buffer lets the host reuse its conversion.
   */
  private numberArgument(n: number): Buffer {
    if (n === this.lastNumber && !Object.is(n, -0)) return this.lastNumberBytes
    const bytes = Buffer.from(formatCommandNumber(n), 'latin1')
    this.lastNumber = n
    this.lastNumberBytes = bytes
    return bytes
  }

  private fail(L: LuaState, message: string, raise: boolean): number {
    pushErrorTable(L, message, false)
    return raise ? lua.lua_error(L) : 1
  }

  /** Raises `{err = "ERR message"}` like luaPushError + luaError (`message` has no code). */
  private raise(L: LuaState, message: string): never {
    pushErrorTable(L, message, false)
    return lua.lua_error(L)
  }

  /** Valkey's global pcall: like Lua's, but an error table comes back as its `err` string. */
  private protectedCall(L: LuaState): number {
    const argc = lua.lua_gettop(L)
    lua.lua_pushboolean(L, true)
    lua.lua_insert(L, 1)
    if (lua.lua_pcall(L, argc - 1, lua.LUA_MULTRET, 0) !== lua.LUA_OK) {
      lua.lua_remove(L, 1)
      if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
        lua.lua_getfield(L, -1, luaString('err'))
        if (lua.lua_type(L, -1) === lua.LUA_TSTRING) lua.lua_replace(L, -2)
        else lua.lua_pop(L, 1)
      }
      lua.lua_pushboolean(L, false)
      lua.lua_insert(L, 1)
    }
    return lua.lua_gettop(L)
  }

  private sha1hex(L: LuaState): number {
    if (lua.lua_gettop(L) !== 1) return this.raise(L, 'wrong number of arguments')
    const bytes = lua.lua_tolstring(L, 1) ?? new Uint8Array(0)
    lua.lua_pushstring(L, luaString(createHash('sha1').update(bytes).digest('hex')))
    return 1
  }

  private errorReply(L: LuaState): number {
    if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
      pushErrorTable(L, 'wrong number or type of arguments', false)
      return 1
    }
    const text = textOf(lua.lua_tolstring(L, -1) as LuaString)
    pushErrorTable(L, text.startsWith('-') ? text : '-' + text, false)
    return 1
  }

  private statusReply(L: LuaState): number {
    if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
      pushErrorTable(L, 'wrong number or type of arguments', false)
      return 1
    }
    lua.lua_createtable(L, 0, 1)
    lua.lua_pushvalue(L, 1)
    lua.lua_setfield(L, -2, luaString('ok'))
    return 1
  }

  private logCommand(L: LuaState): number {
    const argc = lua.lua_gettop(L)
    if (argc < 2) return this.raise(L, 'server.log() requires two arguments or more.')
    if (lua.lua_type(L, 1) !== lua.LUA_TNUMBER && lua.lua_type(L, 1) !== lua.LUA_TSTRING) {
      return this.raise(L, 'First argument must be a number (log level).')
    }
    const level = Math.trunc(lua.lua_tonumber(L, 1))
    const name = (Object.keys(LOG_LEVELS) as LogLevel[]).find((key) => LOG_LEVELS[key] === level)
    if (name === undefined) return this.raise(L, 'Invalid log level.')
    const parts: Buffer[] = []
    for (let i = 2; i <= argc; i++) {
      const text = lua.lua_tolstring(L, i)
      if (text !== null) parts.push(bufferOf(text))
    }
    this.log(name, Buffer.concat(parts.flatMap((part, i) => (i === 0 ? [part] : [Buffer.from(' '), part]))).toString())
    return 0
  }

  private setResp(L: LuaState): number {
    if (lua.lua_gettop(L) !== 1) return this.raise(L, 'server.setresp() requires one argument.')
    const resp = Math.trunc(lua.lua_tonumber(L, 1))
    if (resp !== 2 && resp !== 3) return this.raise(L, 'RESP version must be 2 or 3.')
    if (this.current !== null) this.current.resp = resp
    return 0
  }

  private setRepl(L: LuaState): number {
    if (lua.lua_gettop(L) !== 1) return this.raise(L, 'server.set_repl() requires one argument.')
    const flags = Math.trunc(lua.lua_tonumber(L, 1))
    if ((flags & ~3) !== 0) {
      return this.raise(L, 'Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
    }
    return 0 // one process, no replicas: nothing to propagate
  }

  /** math.random over lrand48, with the argument rules of Lua 5.1. */
  private mathRandom(L: LuaState): number {
    const r = (this.random.next() % RAND48_MAX) / RAND48_MAX
    const argc = lua.lua_gettop(L)
    const intArg = (i: number) => {
      if (lua.lua_type(L, i) !== lua.LUA_TNUMBER && lua.lua_type(L, i) !== lua.LUA_TSTRING) {
        return lauxlib.luaL_error(L, luaString(`bad argument #${i} to 'random' (number expected)`))
      }
      return Math.trunc(lua.lua_tonumber(L, i))
    }
    if (argc === 0) {
      lua.lua_pushnumber(L, r)
    } else if (argc === 1) {
      const upper = intArg(1)
      if (upper < 1) return lauxlib.luaL_error(L, luaString("bad argument #1 to 'random' (interval is empty)"))
      lua.lua_pushinteger(L, Math.floor(r * upper) + 1)
    } else if (argc === 2) {
      const lower = intArg(1)
      const upper = intArg(2)
      if (lower > upper) return lauxlib.luaL_error(L, luaString("bad argument #2 to 'random' (interval is empty)"))
      lua.lua_pushinteger(L, Math.floor(r * (upper - lower + 1)) + lower)
    } else {
      return lauxlib.luaL_error(L, luaString('wrong number of arguments'))
    }
    return 1
  }

  /** __index of the global table: reading an undefined global is an error, as in Valkey. */
  private missingGlobal(L: LuaState): number {
    const type = lua.lua_type(L, 2)
    if (type !== lua.LUA_TSTRING && type !== lua.LUA_TNUMBER) {
      return lauxlib.luaL_error(L, luaString('Second argument to luaProtectedTableError must be a string or number'))
    }
    return lauxlib.luaL_error(L, MISSING_GLOBAL_MESSAGE, lua.lua_tolstring(L, 2))
  }}
