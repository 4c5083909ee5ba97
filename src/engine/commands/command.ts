// The engine's command table entry: Valkey's declared spec (arity, flags, key specs, docs) joined
// with our handler. Dispatch, routing/CROSSSLOT checks and COMMAND output all read these.
import type {Reply} from '../resp/reply.js'
import type {Client} from '../client.js'
import type {RawCommandDocs, RawCommandSpec, RawKeySpec} from './spec-types.js'

export type Handler = (client: Client, argv: string[]) => Reply

export interface Command {
  /** Lowercase name ("get", or "list" for CLIENT LIST). */
  name: string
  /** "get" or "client|list", as Valkey's errors print it. */
  fullname: string
  arity: number
  flags: string[]
  write: boolean
  readonly: boolean
  denyOom: boolean
  noAuth: boolean
  noScript: boolean
  noMulti: boolean
  movableKeys: boolean
  acl: string[]
  tips: string[]
  keySpecs: RawKeySpec[]
  /** COMMAND's legacy (first, last, step) triple. */
  legacy: {first: number; last: number; step: number}
  docs: RawCommandDocs
  handler: Handler
  container: Command | null
  subcommands: Map<string, Command> | null
  /** Fast key extraction for the common single-range shape; null = walk the key specs. */
  simpleKeys: {first: number; last: number; step: number} | null
  /** EXEC (routed for its whole transaction). */
  isExec: boolean
  /** Runs at once inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET). */
  multiControl: boolean
}

const MULTI_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset'])

// Valkey's ACL category order (ACLCommandCategories) and flag order (addReplyCommandFlags).
const ACL_ORDER = ['keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting']
export const FLAG_ORDER = ['write', 'readonly', 'denyoom', 'module', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale', 'skip_monitor', 'skip_slowlog', 'asking', 'fast', 'no_auth', 'no_mandatory_keys', 'no_async_loading', 'no_multi', 'movablekeys', 'allow_busy']

export function buildCommand(name: string, raw: RawCommandSpec, handler: Handler, container: Command | null): Command {
  const flags = new Set(raw.flags)
  const legacy = legacyRange(raw.keySpecs)
  // As Valkey: only key specs that are not one plain range make a command 'movablekeys'.
  if (legacy.movable) flags.add('movablekeys')
  const acl = new Set(raw.acl)
  if (flags.has('write')) acl.add('write')
  if (flags.has('readonly') && !acl.has('scripting')) acl.add('read')
  if (flags.has('admin')) {
    acl.add('admin')
    acl.add('dangerous')
  }
  if (flags.has('pubsub')) acl.add('pubsub')
  if (flags.has('fast')) acl.add('fast')
  if (flags.has('blocking')) acl.add('blocking')
  if (!acl.has('fast')) acl.add('slow')
  const single = raw.keySpecs.length === 1 ? raw.keySpecs[0] : null
  const simpleKeys =
    single && single.begin_search.index && single.find_keys.range && single.find_keys.range.limit === 0
      ? {first: single.begin_search.index.pos, last: single.find_keys.range.lastkey, step: single.find_keys.range.step}
      : null
  const fullname = container ? `${container.name}|${name}` : name
  return {
    name,
    fullname,
    arity: raw.arity,
    flags: FLAG_ORDER.filter((f) => flags.has(f)),
    write: flags.has('write'),
    readonly: flags.has('readonly'),
    denyOom: flags.has('denyoom'),
    noAuth: flags.has('no_auth'),
    noScript: flags.has('noscript'),
    noMulti: flags.has('no_multi'),
    movableKeys: flags.has('movablekeys'),
    acl: ACL_ORDER.filter((c) => acl.has(c)),
    tips: raw.tips,
    keySpecs: raw.keySpecs,
    legacy: {first: legacy.first, last: legacy.last, step: legacy.step},
    docs: raw.docs,
    handler,
    container,
    subcommands: null,
    simpleKeys,
    isExec: fullname === 'exec',
    multiControl: MULTI_CONTROL.has(fullname),
  }
}

/** Valkey's populateCommandLegacyRangeSpec, returning absolute (first, last, step). */
function legacyRange(specs: RawKeySpec[]): {first: number; last: number; step: number; movable: boolean} {
  if (specs.length === 0) return {first: 0, last: 0, step: 0, movable: false}
  const abs = (pos: number, lastkey: number) => (lastkey >= 0 ? lastkey + pos : lastkey)
  if (specs.length === 1 && specs[0].begin_search.index && specs[0].find_keys.range) {
    const pos = specs[0].begin_search.index.pos
    const range = specs[0].find_keys.range
    return {first: pos, last: abs(pos, range.lastkey), step: range.step, movable: specs[0].flags.includes('INCOMPLETE')}
  }
  let movable = false
  let first = Number.MAX_SAFE_INTEGER
  let last = 0
  let prevLast = 0
  for (const spec of specs) {
    const index = spec.begin_search.index
    const range = spec.find_keys.range
    if (!index || !range) {
      movable = true
      continue
    }
    if (range.step !== 1 || (prevLast && prevLast !== index.pos - 1)) {
      movable = true
      continue
    }
    if (spec.flags.includes('INCOMPLETE')) movable = true
    first = Math.min(first, index.pos)
    const lastAbs = abs(index.pos, range.lastkey)
    // Valkey compares as unsigned: a negative (relative-to-end) last key wins.
    last = last < 0 ? last : lastAbs < 0 ? lastAbs : Math.max(last, lastAbs)
    prevLast = last
  }
  if (first === Number.MAX_SAFE_INTEGER) return {first: 0, last: 0, step: 0, movable: true}
  return {first, last, step: 1, movable}
}

/**
 * Positions of the key arguments in argv, walking the key specs as Valkey's
 * getKeysUsingKeySpecs does; an invalid spec (bad numkeys, out of bounds) yields no keys.
 */
export function keyPositions(cmd: Command, argv: string[]): number[] {
  const argc = argv.length
  const simple = cmd.simpleKeys
  if (simple !== null) {
    const first = simple.first
    const last = simple.last >= 0 ? first + simple.last : argc + simple.last
    if (first >= argc || last >= argc || last < first) return []
    const out: number[] = []
    for (let i = first; i <= last; i += simple.step) out.push(i)
    return out
  }
  const out: number[] = []
  for (const spec of cmd.keySpecs) {
    let first: number
    if (spec.begin_search.index) first = spec.begin_search.index.pos
    else if (spec.begin_search.keyword) {
      const {keyword, startfrom} = spec.begin_search.keyword
      const start = startfrom > 0 ? startfrom : argc + startfrom
      const end = startfrom > 0 ? argc - 1 : 0
      const stepDir = startfrom > 0 ? 1 : -1
      first = -1
      for (let i = start; stepDir > 0 ? i <= end : i >= end; i += stepDir) {
        if (i >= argc || i < 1) break
        if (argv[i].toLowerCase() === keyword.toLowerCase()) {
          first = i + 1
          break
        }
      }
      if (first < 0) continue
    } else return []
    let last: number
    let step: number
    const range = spec.find_keys.range
    const keynum = spec.find_keys.keynum
    if (range) {
      if (range.lastkey >= 0) last = first + range.lastkey
      else if (!range.limit) last = argc + range.lastkey
      else last = first + (Math.floor((argc - first) / range.limit) + range.lastkey)
      step = range.step
    } else if (keynum) {
      if (keynum.keynumidx >= argc || first + keynum.keynumidx >= argc) return []
      const n = Number(argv[first + keynum.keynumidx])
      if (!/^-?\d+$/.test(argv[first + keynum.keynumidx]) || n < 0) return []
      first += keynum.firstkey
      last = first + n - 1
      step = keynum.step
      if (n === 0) continue
    } else return []
    if (last >= argc || last < first || first >= argc) return []
    for (let i = first; i <= last; i += step) out.push(i)
  }
  return out
}
