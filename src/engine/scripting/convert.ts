// Reply ↔ Lua value conversions, following Valkey's script_lua.c
// (redisProtocolToLuaType_* one way, luaReplyToServerReply the other).
import {
  DoubleReply,
  ErrorReply,
  MapReply,
  SetReply,
  SimpleString,
  type Reply,
} from '../resp/reply.js'
import {lua, luaString, pushOwnedBytes, type LuaState, type LuaString} from './fengari.js'
import {formatDouble} from './number-format.js'

export type RespVersion = 2 | 3

const KEY_OK = luaString('ok')
const KEY_ERR = luaString('err')
const KEY_DOUBLE = luaString('double')
const KEY_MAP = luaString('map')
const KEY_SET = luaString('set')
const KEY_BIG_NUMBER = luaString('big_number')
const KEY_SOURCE = luaString('source')
const KEY_LINE = luaString('line')
const KEY_IGNORE_STATS = luaString('ignore_error_stats_update')

const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1
/** Nesting deeper than this is answered with Valkey's stack-limit error instead of recursing on. */
const MAX_REPLY_DEPTH = 1000

/**
 * A Lua string as a Buffer, without copying (Lua strings are immutable). A plain Uint8Array
 * is turned into a Buffer in place, so a constant such as 'MOVE' in a loop is converted once
 * instead of on every redis.call (a noticeable share of the call's cost). fengari never relies on a method
 * Buffer overrides differently (it uses subarray, set and indexOf, never slice).
 */
export function bufferOf(bytes: LuaString): Buffer {
  if (bytes instanceof Buffer) return bytes
  Object.setPrototypeOf(bytes, Buffer.prototype)
  return bytes as Buffer
}

/** Lua bytes → JS text for status and error lines (UTF-8, as the RESP encoder writes them back). */
export function textOf(bytes: LuaString): string {
  return bufferOf(bytes).toString('utf8')
}

function pushNumber(L: LuaState, n: number): void {
  // fengari's integers are 32-bit: wider values travel as floats (Lua 5.1 had only doubles).
  if (Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX) lua.lua_pushinteger(L, n)
  else lua.lua_pushnumber(L, n)
}

function pushText(L: LuaState, s: string): void {
  pushOwnedBytes(L, Buffer.from(s, 'utf8'))
}

/**
 * Pushes `{err = "CODE message"}` the way luaPushErrorBuff builds it from an error line
 * ("-CODE message" keeps its code; a line without a space gets "ERR"), plus the
 * `ignore_error_stats_update` marker Valkey adds to command errors.
 */
export function pushErrorTable(L: LuaState, line: string, fromCommand: boolean): void {
  let code = 'ERR'
  let message = line
  if (line.startsWith('-')) {
    const space = line.indexOf(' ')
    if (space < 0) message = line.slice(1)
    else {
      code = line.slice(1, space)
      message = line.slice(space + 1)
    }
  }
  message = message.replace(/^[\r\n]+|[\r\n]+$/g, '')
  lua.lua_createtable(L, 0, 2)
  pushText(L, `${code} ${message}`)
  lua.lua_setfield(L, -2, KEY_ERR)
  if (fromCommand) {
    lua.lua_pushboolean(L, true)
    lua.lua_setfield(L, -2, KEY_IGNORE_STATS)
  }
}

/**
 * Pushes one command reply as the Lua value a script sees from redis.call. Bulk Buffers are
 * copied unless `owned` (the host made them for this reply and never touches them again).
 */
export function pushReply(L: LuaState, reply: Reply, resp: RespVersion, owned = false): void {
  if (!lua.lua_checkstack(L, 4)) throw new Error('lua stack limit reached when converting a reply')
  switch (typeof reply) {
    case 'number':
      pushNumber(L, reply)
      return
    case 'string':
      pushText(L, reply)
      return
    case 'symbol': // NULL_ARRAY
      if (resp === 2) lua.lua_pushboolean(L, false)
      else lua.lua_pushnil(L)
      return
    default: // null and the object replies, below
      break
  }
  if (reply === null) {
    if (resp === 2) lua.lua_pushboolean(L, false)
    else lua.lua_pushnil(L)
  } else if (reply instanceof Uint8Array) {
    // Copy unless owned: a host may later change a stored value in place; a Lua string must not change.
    pushOwnedBytes(L, owned ? reply : Buffer.from(reply))
  } else if (Array.isArray(reply)) {
    pushArray(L, reply, resp, owned)
  } else if (reply instanceof SimpleString) {
    lua.lua_createtable(L, 0, 1)
    pushText(L, reply.value)
    lua.lua_setfield(L, -2, KEY_OK)
  } else if (reply instanceof ErrorReply) {
    pushErrorTable(L, '-' + reply.message, true)
  } else if (reply instanceof DoubleReply) {
    if (resp === 2) pushText(L, formatDouble(reply.value))
    else {
      lua.lua_createtable(L, 0, 1)
      lua.lua_pushnumber(L, reply.value)
      lua.lua_setfield(L, -2, KEY_DOUBLE)
    }
  } else if (reply instanceof MapReply) {
    if (resp === 2) pushArray(L, reply.entries.flat(), resp, owned)
    else {
      lua.lua_createtable(L, 0, 1)
      lua.lua_createtable(L, 0, reply.entries.length)
      for (const [key, value] of reply.entries) {
        pushReply(L, key, resp, owned)
        pushReply(L, value, resp, owned)
        lua.lua_rawset(L, -3)
      }
      lua.lua_setfield(L, -2, KEY_MAP)
    }
  } else if (reply instanceof SetReply) {
    if (resp === 2) pushArray(L, reply.items, resp, owned)
    else {
      lua.lua_createtable(L, 0, 1)
      lua.lua_createtable(L, 0, reply.items.length)
      for (const item of reply.items) {
        pushReply(L, item, resp, owned)
        lua.lua_pushboolean(L, true)
        lua.lua_rawset(L, -3)
      }
      lua.lua_setfield(L, -2, KEY_SET)
    }
  } else {
    lua.lua_pushnil(L)
  }
}

function pushArray(L: LuaState, items: readonly Reply[], resp: RespVersion, owned: boolean): void {
  lua.lua_createtable(L, items.length, 0)
  for (let i = 0; i < items.length; i++) {
    pushReply(L, items[i], resp, owned)
    lua.lua_rawseti(L, -2, i + 1)
  }
}

/** Status and error lines cannot hold CR/LF (they would break the protocol): Valkey maps them to spaces. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]/g, ' ')
}

/** Converts the Lua value at the top of the stack to a Reply (and pops it), as luaReplyToServerReply. */
export function popReply(L: LuaState): Reply {
  const reply = toReply(L, lua.lua_gettop(L), 0)
  lua.lua_pop(L, 1)
  return reply
}

function toReply(L: LuaState, idx: number, depth: number): Reply {
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TSTRING:
      return bufferOf(lua.lua_tolstring(L, idx) as LuaString)
    case lua.LUA_TBOOLEAN:
      // RESP2 rules: true is :1, false is a null bulk (RESP3 booleans have no Reply type here).
      return lua.lua_toboolean(L, idx) ? 1 : null
    case lua.LUA_TNUMBER: {
      const n = Math.trunc(lua.lua_tonumber(L, idx)) // (long long) cast: truncates toward zero
      return Number.isNaN(n) ? 0 : n
    }
    case lua.LUA_TTABLE:
      if (depth >= MAX_REPLY_DEPTH || !lua.lua_checkstack(L, 4)) return new ErrorReply('ERR reached lua stack limit')
      return tableToReply(L, idx, depth)
    default:
      return null
  }
}

function rawField(L: LuaState, idx: number, key: LuaString): number {
  lua.lua_pushstring(L, key)
  return lua.lua_rawget(L, idx)
}

function tableToReply(L: LuaState, idx: number, depth: number): Reply {
  if (rawField(L, idx, KEY_ERR) === lua.LUA_TSTRING) {
    const message = textOf(lua.lua_tolstring(L, -1) as LuaString)
    lua.lua_pop(L, 1)
    return new ErrorReply(oneLine(message))
  }
  lua.lua_pop(L, 1)

  if (rawField(L, idx, KEY_OK) === lua.LUA_TSTRING) {
    const status = textOf(lua.lua_tolstring(L, -1) as LuaString)
    lua.lua_pop(L, 1)
    return new SimpleString(oneLine(status))
  }
  lua.lua_pop(L, 1)

  if (rawField(L, idx, KEY_DOUBLE) === lua.LUA_TNUMBER) {
    const value = lua.lua_tonumber(L, -1)
    lua.lua_pop(L, 1)
    return new DoubleReply(value)
  }
  lua.lua_pop(L, 1)

  // RESP3 big numbers have no Reply type: they go out as their digits.
  if (rawField(L, idx, KEY_BIG_NUMBER) === lua.LUA_TSTRING) {
    const digits = Buffer.from(oneLine(textOf(lua.lua_tolstring(L, -1) as LuaString)))
    lua.lua_pop(L, 1)
    return digits
  }
  lua.lua_pop(L, 1)

  if (rawField(L, idx, KEY_MAP) === lua.LUA_TTABLE) {
    const map = lua.lua_gettop(L)
    const entries: Array<[Reply, Reply]> = []
    lua.lua_pushnil(L)
    while (lua.lua_next(L, map) !== 0) {
      // stack: map, key, value
      const value = toReply(L, map + 2, depth + 1)
      const key = toReply(L, map + 1, depth + 1)
      entries.push([key, value])
      lua.lua_pop(L, 1) // keep the key for lua_next
    }
    lua.lua_pop(L, 1)
    return new MapReply(entries)
  }
  lua.lua_pop(L, 1)

  if (rawField(L, idx, KEY_SET) === lua.LUA_TTABLE) {
    const set = lua.lua_gettop(L)
    const items: Reply[] = []
    lua.lua_pushnil(L)
    while (lua.lua_next(L, set) !== 0) {
      items.push(toReply(L, set + 1, depth + 1))
      lua.lua_pop(L, 1)
    }
    lua.lua_pop(L, 1)
    return new SetReply(items)
  }
  lua.lua_pop(L, 1)

  // An array: elements 1..n up to the first nil.
  const items: Reply[] = []
  for (let i = 1; ; i++) {
    if (lua.lua_rawgeti(L, idx, i) === lua.LUA_TNIL) {
      lua.lua_pop(L, 1)
      return items
    }
    items.push(toReply(L, lua.lua_gettop(L), depth + 1))
    lua.lua_pop(L, 1)
  }
}

/**
 * The error reply for an error that escaped the script: the `err` text plus Valkey 9.1's
 * ` script: on @user_script:<line>.` suffix when the message handler recorded where it happened.
 */
export function raisedErrorReply(L: LuaState): ErrorReply {
  const idx = lua.lua_gettop(L)
  if (lua.lua_type(L, idx) !== lua.LUA_TTABLE) {
    const text = lua.lua_tolstring(L, idx)
    const message = text === null ? 'execution failure' : textOf(text).slice(0, 100)
    return new ErrorReply(oneLine(`ERR Error running script, ${message}`))
  }
  let message = 'ERR unknown error'
  if (rawField(L, idx, KEY_ERR) === lua.LUA_TSTRING) message = textOf(lua.lua_tolstring(L, -1) as LuaString)
  lua.lua_pop(L, 1)
  const source = rawField(L, idx, KEY_SOURCE) === lua.LUA_TSTRING ? textOf(lua.lua_tolstring(L, -1) as LuaString) : null
  lua.lua_pop(L, 1)
  const lineType = rawField(L, idx, KEY_LINE)
  const line =
    lineType === lua.LUA_TNUMBER || lineType === lua.LUA_TSTRING ? textOf(lua.lua_tolstring(L, -1) as LuaString) : null
  lua.lua_pop(L, 1)
  if (source !== null && line !== null) message += ` script: on ${source}:${line}.`
  return new ErrorReply(oneLine(message))
}
