// What every Valkey EVAL state starts with besides the `server` API: the version fields and
// replication flags scripts read, and the Lua prelude run once per state (lua-vm.ts).

// The versions a Valkey 9.1 server reports to scripts (REDIS_VERSION stays at 7.2.4 there).
export const VERSION_FIELDS = {
  REDIS_VERSION: '7.2.4',
  REDIS_VERSION_NUM: 0x070204,
  VALKEY_VERSION: '9.1.0',
  VALKEY_VERSION_NUM: 0x090100,
  SERVER_NAME: 'valkey',
}
export const REPLICATION_FLAGS = {REPL_NONE: 0, REPL_AOF: 1, REPL_SLAVE: 2, REPL_REPLICA: 2, REPL_ALL: 3}

// Runs once per state, before the globals are locked. It adds the Lua 5.1 names Valkey scripts
// expect, removes what Valkey removes, and returns Valkey's message handler.
// Not provided: cjson, cmsgpack, struct and bit (flip's scripts don't use them), getfenv/setfenv.
export const PRELUDE = `
local missing_global, checked_setmetatable, os_clock = ...
local getinfo = debug.getinfo
local raw_load, type, tostring = load, type, tostring

unpack = table.unpack
table.getn = function(t) return #t end
math.pow = function(x, y) return x ^ y end
math.log10 = function(x) return math.log(x, 10) end
gcinfo = function() return collectgarbage('count') end
os = {clock = os_clock}
print, dofile, loadfile, debug, require, utf8 = nil, nil, nil, nil, nil, nil
_VERSION = 'Lua 5.1'
-- text chunks only, as Valkey refuses bytecode; their globals are the same read-only ones
load = function(chunk, name, mode, env)
  if env == nil then return raw_load(chunk, name, 't') end
  return raw_load(chunk, name, 't', env)
end
loadstring = function(chunk, name) return raw_load(chunk, name, 't') end
setmetatable = checked_setmetatable
setmetatable(_G, {__index = missing_global})

-- Valkey's message handler: errors become {err=..., source=..., line=...}, reported at the
-- script line that raised them (or that called the function that raised them).
return function(err)
  -- Skip JS functions ('J' is fengari's 'C': redis.call, error, ...). Valkey skips one C level;
  -- fengari can have more (a JS metamethod under a JS library function).
  local level = 2
  local info = getinfo(level, 'Sl')
  while info and info.what == 'J' do
    level = level + 1
    info = getinfo(level, 'Sl')
  end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end
`
