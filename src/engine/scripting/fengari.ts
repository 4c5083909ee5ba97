// Loads fengari (a pure-JS Lua 5.3 VM) and gives the few parts we use a type.
// fengari ships no type declarations; a local interface keeps `strict` honest without
// declaring a global ambient module that other code could trip over.
import {readFileSync} from 'node:fs'
import Module, {createRequire} from 'node:module'

/** An opaque Lua state (fengari's `lua_State`). */
export type LuaState = {readonly __brand: 'lua_State'}
/** A Lua string as fengari stores it: a byte array (any Uint8Array, a Buffer included). */
export type LuaString = Uint8Array
/** A JS function Lua can call; it returns how many results it left on the stack. */
export type LuaCFunction = (L: LuaState) => number

export interface LuaApi {
  LUA_OK: number
  LUA_TNIL: number
  LUA_TBOOLEAN: number
  LUA_TNUMBER: number
  LUA_TSTRING: number
  LUA_TTABLE: number
  LUA_REGISTRYINDEX: number
  LUA_RIDX_GLOBALS: number
  LUA_MULTRET: number
  LUA_MASKCOUNT: number
  LUA_MASKLINE: number
  lua_atnativeerror(L: LuaState, f: LuaCFunction): void
  lua_checkstack(L: LuaState, n: number): boolean
  lua_createtable(L: LuaState, narr: number, nrec: number): void
  lua_error(L: LuaState): never
  lua_getfield(L: LuaState, idx: number, k: LuaString): number
  lua_gettop(L: LuaState): number
  lua_insert(L: LuaState, idx: number): void
  lua_isinteger(L: LuaState, idx: number): boolean
  lua_next(L: LuaState, idx: number): number
  lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number
  lua_pop(L: LuaState, n: number): void
  lua_pushboolean(L: LuaState, b: boolean): void
  lua_pushcfunction(L: LuaState, f: LuaCFunction): void
  lua_pushinteger(L: LuaState, n: number): void
  lua_pushlightuserdata(L: LuaState, p: unknown): void
  lua_pushnil(L: LuaState): void
  lua_pushnumber(L: LuaState, n: number): void
  lua_pushstring(L: LuaState, s: LuaString): void
  lua_pushvalue(L: LuaState, idx: number): void
  lua_rawget(L: LuaState, idx: number): number
  lua_rawgeti(L: LuaState, idx: number, n: number): number
  lua_rawset(L: LuaState, idx: number): void
  lua_rawseti(L: LuaState, idx: number, n: number): void
  lua_remove(L: LuaState, idx: number): void
  lua_replace(L: LuaState, idx: number): void
  lua_setfield(L: LuaState, idx: number, k: LuaString): void
  lua_setglobal(L: LuaState, name: LuaString): void
  lua_getglobal(L: LuaState, name: LuaString): number
  lua_getmetatable(L: LuaState, idx: number): boolean
  lua_tocfunction(L: LuaState, idx: number): LuaCFunction | null
  lua_setmetatable(L: LuaState, idx: number): void
  lua_sethook(L: LuaState, hook: ((L: LuaState, ar: unknown) => void) | null, mask: number, count: number): void
  lua_settop(L: LuaState, idx: number): void
  lua_setupvalue(L: LuaState, funcindex: number, n: number): LuaString | null
  lua_toboolean(L: LuaState, idx: number): boolean
  lua_tointeger(L: LuaState, idx: number): number
  lua_tolstring(L: LuaState, idx: number): LuaString | null
  lua_tonumber(L: LuaState, idx: number): number
  lua_topointer(L: LuaState, idx: number): object | null
  lua_touserdata(L: LuaState, idx: number): unknown
  lua_type(L: LuaState, idx: number): number
}

export interface LauxApi {
  luaL_newstate(): LuaState
  luaL_loadbufferx(L: LuaState, buff: LuaString, size: number, name: LuaString, mode: LuaString | null): number
  luaL_ref(L: LuaState, t: number): number
  luaL_unref(L: LuaState, t: number, ref: number): void
  luaL_error(L: LuaState, fmt: LuaString, ...args: unknown[]): never
  luaL_requiref(L: LuaState, modname: LuaString, openf: LuaCFunction, glb: boolean): void
}

export interface LuaLibApi {
  luaopen_base: LuaCFunction
  luaopen_table: LuaCFunction
  luaopen_string: LuaCFunction
  luaopen_math: LuaCFunction
  luaopen_coroutine: LuaCFunction
  luaopen_debug: LuaCFunction
}

const require = createRequire(import.meta.url)

// Lua 5.1 has only doubles; fengari's Lua 5.3 integers are 32-bit and wrap on overflow, so a
// script's `tonumber(t[1]) * 1000000` (TIME in microseconds) would silently go wrong. These edits
// to fengari's VM make integer +, -, * and unary minus whose result leaves the 32-bit range give
// the exact float instead, as 5.1 does (exact up to 2^53). The VM module is compiled from its
// patched source when fengari loads it; the edits must all apply or loading fails loudly.
const OVERFLOW_SAFE_ARITHMETIC: Array<[string, string]> = [
  ['L.stack[ra].setivalue((op1.value + op2.value)|0);', 'setArithResult(L.stack[ra], op1.value + op2.value);'],
  ['L.stack[ra].setivalue((op1.value - op2.value)|0);', 'setArithResult(L.stack[ra], op1.value - op2.value);'],
  ['L.stack[ra].setivalue(luaV_imul(op1.value, op2.value));', 'setArithResult(L.stack[ra], op1.value * op2.value);'],
  ['L.stack[ra].setivalue((-op.value)|0);', 'setArithResult(L.stack[ra], -op.value);'],
]
const SET_ARITH_RESULT = `
function setArithResult(tv, n) {
    if ((n | 0) === n) tv.setivalue(n);
    else tv.setfltvalue(n);
}
module.exports.overflowSafeArithmetic = true;
`

// Every insert of a new table key (each `keys[#keys + 1] = k`, each element of a reply table)
// clears the table's list of dead keys; Map#clear allocates a fresh backing store even when the
// Map is empty (time and garbage on every insert). Clearing only a non-empty one is the same thing.
const CHEAP_TABLE_INSERT: Array<[string, string]> = [
  ['    t.dead_strong.clear();\n    t.dead_weak = void 0;', '    if (t.dead_strong.size !== 0) t.dead_strong.clear();\n    t.dead_weak = void 0;'],
]

// fengari pops its Lua stack (a JS array) with `delete L.stack[--L.top]`. Deleting array elements
// turns V8's array into a dictionary after a few calls, so every stack slot read and write of
// the VM becomes a hash lookup. Storing undefined reads back the same (fengari never tests for
// holes) and keeps the array a plain fast array.
const STACK_POP = /delete ((?:L|L1|from)\.stack\[[^\]]+\]);/g
const STACK_POP_EDIT: Array<[RegExp, string]> = [[STACK_POP, '$1 = void 0;']]
const STACK_POPPING_MODULES = ['lapi', 'ldebug', 'ldo', 'lparser', 'ltm']

interface ModulePatch {
  id: string
  /** Exact text replaced once (it must occur exactly once), or a global pattern (it must match). */
  edits: Array<[string | RegExp, string]>
  appendix: string
}

const PATCHED_MARK = 'module.exports.flipPatched = true;\n'

type JsLoader = (module: {_compile(source: string, filename: string): void}, filename: string) => void
const jsLoaders = (Module as unknown as {_extensions: Record<string, JsLoader>})._extensions

/** Runs `load` with each module compiled from its edited source when it is first required (in its natural order). */
function withPatchedModules<T>(patches: ModulePatch[], load: () => T): T {
  const sources = new Map<string, string>()
  for (const {id, edits, appendix} of patches) {
    const path = require.resolve(id)
    const loaded = require.cache[path]
    if (loaded !== undefined) {
      // Loaded already: fine if by this module (a test runner may evaluate it twice per process).
      if ((loaded.exports as {flipPatched?: boolean}).flipPatched) continue
      throw new Error(`${id} was loaded before it could be patched`)
    }
    let source = readFileSync(path, 'utf8')
    for (const [from, to] of edits) {
      const applies = typeof from === 'string' ? source.split(from).length === 2 : from.test(source)
      if (!applies) throw new Error(`unexpected ${id}: cannot patch "${String(from)}"`)
      if (typeof from !== 'string') from.lastIndex = 0
      source = source.replace(from, to)
    }
    sources.set(path, source + appendix + PATCHED_MARK)
  }
  if (sources.size === 0) return load()
  const loadJs = jsLoaders['.js']
  jsLoaders['.js'] = (module, filename) => {
    const source = sources.get(filename)
    return source !== undefined ? module._compile(source, filename) : loadJs(module, filename)
  }
  try {
    return load()
  } finally {
    jsLoaders['.js'] = loadJs
  }
}

// fengari reads its settings from FENGARICONF once, when luaconf.js is first loaded:
// - Lua 5.1 (what Valkey embeds) prints integral floats without ".0": 10/2 is "5", not "5.0";
// - a stack of 200k slots (fengari: 1M) ends runaway recursion in a fraction of a second and
//   still unpacks far more values than Valkey's Lua (about 8000).
const previousConf = process.env.FENGARICONF
process.env.FENGARICONF = JSON.stringify({LUA_COMPAT_FLOATSTRING: true, LUAI_MAXSTACK: 200_000})
const fengari = withPatchedModules(
  [
    {id: 'fengari/src/lvm.js', edits: [...OVERFLOW_SAFE_ARITHMETIC, ...STACK_POP_EDIT], appendix: SET_ARITH_RESULT},
    {id: 'fengari/src/ltable.js', edits: CHEAP_TABLE_INSERT, appendix: ''},
    ...STACK_POPPING_MODULES.map((name) => ({id: `fengari/src/${name}.js`, edits: STACK_POP_EDIT, appendix: ''})),
  ],
  () => require('fengari'),
) as {
  lua: LuaApi
  lauxlib: LauxApi
  lualib: LuaLibApi
  to_luastring(s: string): LuaString
}
if (previousConf === undefined) delete process.env.FENGARICONF
else process.env.FENGARICONF = previousConf

// Internals used to push a byte array as a Lua string without fengari's element-by-element
// copy (lua_pushlstring copies through Uint8Array.from, slow for large values).
interface TValue {
  type: number
  value: unknown
}
const lobject = require('fengari/src/lobject.js') as {
  pushsvalue2s(L: LuaState, ts: unknown): void
  TValue: new (type: number, value: unknown) => TValue
}
const lstring = require('fengari/src/lstring.js') as {luaS_bless(L: LuaState, s: Uint8Array): unknown}
interface Table {
  strong: Map<unknown, {key: TValue; value: TValue}>
  metatable: Table | null
  readonly: boolean
}
const ltable = require('fengari/src/ltable.js') as {
  Table: {prototype: Table}
  luaH_setint(t: object, key: number, value: TValue): void
  luaH_setfrom(L: LuaState, t: Table, key: TValue, value: TValue): void
  luaH_getint(t: Table, key: number): {ttisnil(): boolean}
  luaH_getn(t: Table): number
}
const ldebug = require('fengari/src/ldebug.js') as {luaG_runerror(L: LuaState, fmt: LuaString): never}
const defs = require('fengari/src/defs.js') as {constant_types: {LUA_TLNGSTR: number; LUA_TTABLE: number}}

// `#t` in fengari binary-searches from the table's key count: log2(n) lookups for an n-entry
// list, paid on every `keys[#keys + 1] = k` append. A plain sequence (keys 1..n and nothing else)
// has its border at n: check that first (same answer), fall back to the search otherwise.
// Patches to fengari's shared module objects are applied once per process (see PATCHED below).
const PATCHED = Symbol.for('flip.scripting.fengari-patched')
const alreadyPatched = (ltable as unknown as Record<symbol, boolean>)[PATCHED] === true
;(ltable as unknown as Record<symbol, boolean>)[PATCHED] = true

const searchBorder = ltable.luaH_getn
if (!alreadyPatched) ltable.luaH_getn = (t: Table): number => {
  const n = t.strong.size
  if (n > 0 && !ltable.luaH_getint(t, n).ttisnil() && ltable.luaH_getint(t, n + 1).ttisnil()) return n
  return searchBorder(t)
}

// Valkey's Lua has read-only tables (a patch to its VM): globals, libraries and their metatables
// refuse every write, rawset included, with "Attempt to modify a readonly table". fengari
// writes every table entry (assignment, rawset, lua_seti) through ltable.luaH_setfrom, so the
// same check fits there. (luaH_setint is only used on fresh tables and the registry.)
const READONLY_TABLE = fengari.to_luastring('Attempt to modify a readonly table')
ltable.Table.prototype.readonly = false
const setEntry = ltable.luaH_setfrom
if (!alreadyPatched) ltable.luaH_setfrom = (L: LuaState, t: Table, key: TValue, value: TValue): void => {
  if (t.readonly) ldebug.luaG_runerror(L, READONLY_TABLE)
  setEntry(L, t, key, value)
}

/** Raises Valkey's read-only error (with a script position only if raised from Lua code). */
export function raiseReadonlyError(L: LuaState): never {
  return ldebug.luaG_runerror(L, READONLY_TABLE)
}

/** Whether the table at `idx` is read-only. */
export function isReadonlyTable(L: LuaState, idx: number): boolean {
  return (fengari.lua.lua_topointer(L, idx) as Table | null)?.readonly === true
}

/**
 * Makes the table at `idx` read-only or writable; `deep` also does every table reachable from
 * it, metatables included (Valkey's luaSetTableProtectionRecursively).
 */
export function setReadonlyTable(L: LuaState, idx: number, readonly: boolean, deep = false): void {
  const root = fengari.lua.lua_topointer(L, idx) as Table
  if (!deep) {
    root.readonly = readonly
    return
  }
  const seen = new Set<Table>()
  const visit = (t: Table): void => {
    if (seen.has(t)) return
    seen.add(t)
    t.readonly = readonly
    for (const {key, value} of t.strong.values()) {
      if (key.type === defs.constant_types.LUA_TTABLE) visit(key.value as Table)
      if (value.type === defs.constant_types.LUA_TTABLE) visit(value.value as Table)
    }
    if (t.metatable !== null) visit(t.metatable)
  }
  visit(root)
}

// The same rule for constant folding at compile time (`local us = 1700000000 * 1000000`).
const LUA_OPADD = 0
const LUA_OPSUB = 1
const LUA_OPMUL = 2
const LUA_OPUNM = 12
interface NumberTValue extends TValue {
  ttisinteger(): boolean
  setivalue(n: number): void
  setfltvalue(n: number): void
}
const lobjectArith = lobject as unknown as {
  luaO_arith(L: LuaState | null, op: number, p1: NumberTValue, p2: NumberTValue, p3: NumberTValue | number): void
}
const arith = lobjectArith.luaO_arith
if (!alreadyPatched) lobjectArith.luaO_arith = (L, op, p1, p2, p3) => {
  if ((op === LUA_OPADD || op === LUA_OPSUB || op === LUA_OPMUL || op === LUA_OPUNM) && p1.ttisinteger() && p2.ttisinteger()) {
    const a = p1.value as number
    const b = p2.value as number
    const n = op === LUA_OPADD ? a + b : op === LUA_OPSUB ? a - b : op === LUA_OPMUL ? a * b : -a
    const res = typeof p3 === 'number' ? (L as unknown as {stack: NumberTValue[]}).stack[p3] : p3
    if ((n | 0) === n) res.setivalue(n)
    else res.setfltvalue(n)
    return
  }
  arith(L, op, p1, p2, p3)
}

export const lua = fengari.lua
export const lauxlib = fengari.lauxlib
export const lualib = fengari.lualib

/** Encodes a JS string (UTF-8) as a Lua string. */
export function luaString(s: string): LuaString {
  return fengari.to_luastring(s)
}

/**
 * Pushes `bytes` as a Lua string WITHOUT copying: Lua then shares the array, so the caller
 * must never change it afterwards. The caller also makes sure the stack has room.
 */
export function pushOwnedBytes(L: LuaState, bytes: Uint8Array): void {
  lobject.pushsvalue2s(L, lstring.luaS_bless(L, bytes))
}

/**
 * Pushes a new table holding `items` at 1..n as Lua strings, sharing their bytes (never change
 * them afterwards). Writes the table directly: going through the stack once per element is
 * slow in fengari, which adds up for an ARGV of many keys.
 */
export function pushStringArray(L: LuaState, items: readonly Uint8Array[]): void {
  fengari.lua.lua_createtable(L, items.length, 0)
  const table = fengari.lua.lua_topointer(L, -1) as object
  const slot = new lobject.TValue(defs.constant_types.LUA_TLNGSTR, null)
  for (let i = 0; i < items.length; i++) {
    slot.value = lstring.luaS_bless(L, items[i])
    ltable.luaH_setint(table, i + 1, slot) // copies the slot
  }
}
