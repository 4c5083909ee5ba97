// ACL SETUSER rules (Valkey acl.c ACLSetUser / ACLSetSelector, plus the 9.1 database selector
// db=<id>[,<id>...], alldbs, resetdbs). Each rule either changes the user or returns the error
// text Valkey prints after "Error in ACL SETUSER modifier '<rule>': ".
import type {Command} from '../commands/command.js'
import {VALKEY_COMMAND_NAMES} from '../commands/specs.data.js'
import {commandTable} from '../executor.js'
import {AclSelector, AclUser, hashPassword} from './user.js'

export const CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo',
  'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
]
const CATEGORY_SET = new Set(CATEGORIES)

const SYNTAX = 'Syntax error'
const UNKNOWN = 'Unknown command or category name in ACL'
const KEY_AFTER_ALL =
  "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
const CHANNEL_AFTER_ALL =
  "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
const NO_SUCH_PASSWORD = 'The password you are trying to remove from the user does not exist'
const BAD_HASH = 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters'
const DB_RANGE = 'The provided database ID is out of range'
const SUBCOMMAND_FIRSTARG = 'Allowing first-arg of a subcommand is not supported'

// Commands Valkey has and the engine does not (DEBUG, CONFIG REWRITE ...): a rule naming one is
// kept as written, so ACL LIST matches Valkey's, and changes nothing the engine can run.
const VALKEY_ONLY = new Set(VALKEY_COMMAND_NAMES)

function valkeyOnly(name: string): boolean {
  const lower = name.toLowerCase()
  return VALKEY_ONLY.has(lower) && aclLookupCommand(lower) === undefined
}

function hasSpaces(s: string): boolean {
  return /[\s\0]/.test(s)
}

/** Every command and subcommand of the table (containers first, then their subcommands). */
function* everyCommand(): Generator<Command> {
  for (const cmd of commandTable().values()) {
    yield cmd
    if (cmd.subcommands) yield* cmd.subcommands.values()
  }
}

/** ACLLookupCommand: "get" or "config|get" (one level of subcommand only). */
export function aclLookupCommand(name: string): Command | undefined {
  const parts = name.toLowerCase().split('|')
  if (parts.length > 2) return undefined
  const base = commandTable().get(parts[0])
  if (parts.length === 1 || base === undefined) return base
  return base.subcommands?.get(parts[1])
}

function changePerm(u: AclSelector, cmd: Command, allow: boolean): void {
  const set = (c: Command) => {
    if (allow) u.allowed.add(c)
    else {
      u.allowed.delete(c)
      u.allCommands = false
    }
  }
  set(cmd)
  u.firstArgs?.delete(cmd)
  if (cmd.subcommands) for (const sub of cmd.subcommands.values()) set(sub)
}

/** ACLUpdateCommandRules: drop earlier rules for the same command (or its subcommands), append. */
function updateRules(u: AclSelector, rule: string, allow: boolean): void {
  const lower = rule.toLowerCase()
  u.rules = u.rules.filter((existing) => {
    const name = existing.slice(1)
    return !(name === lower || name.startsWith(lower + '|'))
  })
  u.rules.push((allow ? '+' : '-') + lower)
}

function parseDbList(list: string): number[] | string {
  if (list === '') return SYNTAX
  const out: number[] = []
  for (const item of list.split(',')) {
    if (!/^-?\d+$/.test(item)) return SYNTAX
    const n = Number(item)
    if (n < 0 || n > 2147483647) return DB_RANGE
    out.push(n)
  }
  return out
}

/** Applies one rule to u; null when done, else the reason it was refused. */
export function applyRule(u: AclUser, op: string): string | null {
  if (op.length === 0) return null
  const lower = op.toLowerCase()
  if (op[0] === '(' && op[op.length - 1] === ')') {
    const selector = new AclSelector()
    for (const inner of op.slice(1, -1).split(/\s+/).filter(Boolean)) {
      const error = applySelectorRule(selector, inner)
      if (error !== null) return error
    }
    u.selectors.push(selector)
    return null
  }
  switch (lower) {
    case 'on':
      u.enabled = true
      return null
    case 'off':
      u.enabled = false
      return null
    case 'skip-sanitize-payload':
      u.skipSanitizePayload = true
      return null
    case 'sanitize-payload':
      u.skipSanitizePayload = false
      return null
    case 'nopass':
      u.nopass = true
      u.passwords = []
      return null
    case 'resetpass':
      u.nopass = false
      u.passwords = []
      return null
    case 'reset':
      applyRule(u, 'resetpass')
      applyRule(u, 'resetkeys')
      applyRule(u, 'resetchannels')
      applyRule(u, 'alldbs')
      u.enabled = false
      u.skipSanitizePayload = false
      u.selectors = []
      applyRule(u, '-@all')
      return null
    case 'clearselectors':
      u.selectors = []
      return null
  }
  const first = op[0]
  if (first === '>' || first === '#') {
    const hash = first === '>' ? hashPassword(op.slice(1)) : op.slice(1)
    if (first === '#' && !/^[0-9a-f]{64}$/.test(hash)) return BAD_HASH
    if (!u.passwords.includes(hash)) u.passwords.push(hash)
    u.nopass = false
    return null
  }
  if (first === '<' || first === '!') {
    const hash = first === '<' ? hashPassword(op.slice(1)) : op.slice(1)
    if (first === '!' && !/^[0-9a-f]{64}$/.test(hash)) return BAD_HASH
    const at = u.passwords.indexOf(hash)
    if (at < 0) return NO_SUCH_PASSWORD
    u.passwords.splice(at, 1)
    return null
  }
  return applySelectorRule(u, op)
}

/** Rules of the root permissions or of a "(...)" selector (Valkey's ACLSetSelector). */
function applySelectorRule(u: AclSelector, op: string): string | null {
  const lower = op.toLowerCase()
  switch (lower) {
    case 'allkeys':
    case '~*':
      u.allKeys = true
      u.keys = []
      return null
    case 'resetkeys':
      u.allKeys = false
      u.keys = []
      return null
    case 'allchannels':
    case '&*':
      u.allChannels = true
      u.channels = []
      return null
    case 'resetchannels':
      u.allChannels = false
      u.channels = []
      return null
    case 'alldbs':
      u.allDbs = true
      u.dbs = new Set()
      return null
    case 'resetdbs':
      u.allDbs = false
      u.dbs = new Set()
      return null
    case 'allcommands':
    case '+@all':
      u.allowed = new Set(everyCommand())
      u.allCommands = true
      u.futureCommands = true
      u.rules = []
      u.firstArgs = null
      return null
    case 'nocommands':
    case '-@all':
      u.allowed = new Set()
      u.allCommands = false
      u.futureCommands = false
      u.rules = []
      u.firstArgs = null
      return null
  }
  if (lower.startsWith('db=')) {
    const ids = parseDbList(op.slice(3))
    if (typeof ids === 'string') return ids
    u.allDbs = false
    u.dbs = new Set(ids)
    return null
  }
  const first = op[0]
  if (first === '~' || first === '%') return addKeyPattern(u, op)
  if (first === '&') {
    if (u.allChannels) return CHANNEL_AFTER_ALL
    const pattern = op.slice(1)
    if (hasSpaces(pattern)) return SYNTAX
    if (!u.channels.includes(pattern)) u.channels.push(pattern)
    u.allChannels = false
    return null
  }
  if ((first === '+' || first === '-') && op[1] === '@') {
    const category = lower.slice(2)
    if (!CATEGORY_SET.has(category)) return UNKNOWN
    const allow = first === '+'
    updateRules(u, '@' + category, allow)
    for (const cmd of commandTable().values()) {
      if (cmd.acl.includes(category)) changePerm(u, cmd, allow)
      if (cmd.subcommands) for (const sub of cmd.subcommands.values()) if (sub.acl.includes(category)) changePerm(u, sub, allow)
    }
    return null
  }
  if (first === '+') return allowCommand(u, op.slice(1))
  if (first === '-') {
    const cmd = aclLookupCommand(op.slice(1))
    if (cmd === undefined) {
      if (!valkeyOnly(op.slice(1))) return UNKNOWN
      updateRules(u, op.slice(1), false)
      return null
    }
    changePerm(u, cmd, false)
    updateRules(u, cmd.fullname, false)
    return null
  }
  return SYNTAX
}

function addKeyPattern(u: AclSelector, op: string): string | null {
  if (u.allKeys) return KEY_AFTER_ALL
  let read = true
  let write = true
  let offset = 1
  if (op[0] === '%') {
    read = write = false
    for (; offset < op.length; offset++) {
      const ch = op[offset].toUpperCase()
      if (ch === 'R' && !read) read = true
      else if (ch === 'W' && !write) write = true
      else if (op[offset] === '~' && (read || write)) {
        offset++
        break
      } else return SYNTAX
    }
  }
  const pattern = op.slice(offset)
  if (hasSpaces(pattern)) return SYNTAX
  const existing = u.keys.find((k) => k.pattern === pattern)
  if (existing) {
    existing.read ||= read
    existing.write ||= write
  } else u.keys.push({pattern, read, write})
  u.allKeys = false
  return null
}

function allowCommand(u: AclSelector, name: string): string | null {
  const bar = name.lastIndexOf('|')
  if (bar < 0) {
    const cmd = aclLookupCommand(name)
    if (cmd === undefined) {
      if (!valkeyOnly(name)) return UNKNOWN
      updateRules(u, name, true)
      return null
    }
    changePerm(u, cmd, true)
    updateRules(u, cmd.fullname, true)
    return null
  }
  const base = aclLookupCommand(name.slice(0, bar))
  if (base === undefined || (base.subcommands && aclLookupCommand(name) === undefined)) {
    // A subcommand (or first argument) of a command only Valkey has: kept as written.
    const known = valkeyOnly(name) || (valkeyOnly(name.slice(0, bar)) && !VALKEY_COMMAND_NAMES.some((n) => n.startsWith(name.slice(0, bar).toLowerCase() + '|')))
    if (!known) return UNKNOWN
    if (name.slice(bar + 1) === '') return SYNTAX
    updateRules(u, name, true)
    return null
  }
  if (base.container !== null) return SUBCOMMAND_FIRSTARG
  const sub = name.slice(bar + 1)
  if (sub === '') return SYNTAX
  if (base.subcommands) {
    const cmd = aclLookupCommand(name)
    if (cmd === undefined) return UNKNOWN
    changePerm(u, cmd, true)
  } else {
    // +select|0: a first argument of an otherwise blocked command (deprecated in Valkey, still accepted).
    u.firstArgs ??= new Map()
    const list = u.firstArgs.get(base) ?? []
    if (!list.some((a) => a.toLowerCase() === sub.toLowerCase())) list.push(sub)
    u.firstArgs.set(base, list)
  }
  updateRules(u, name, true)
  return null
}

/**
 * ACL SETUSER semantics: every rule is tried on a copy and the user changes only when all of
 * them are valid; null on success, else Valkey's error text (without "ERR ").
 */
export function setUserRules(target: AclUser, rules: string[]): string | null {
  const merged = mergeSelectorArguments(rules)
  if (typeof merged === 'string') return `Unmatched parenthesis in acl selector starting at '${merged}'.`
  const temp = new AclUser(target.name)
  temp.copyFrom(target)
  for (const rule of merged) {
    const error = applyRule(temp, rule)
    if (error !== null) return `Error in ACL SETUSER modifier '${rule}': ${error}`
  }
  target.copyFrom(temp)
  return null
}

/** ACLMergeSelectorArguments: "(+get" "~x)" become one "(+get ~x)"; an unclosed one is returned as a string. */
function mergeSelectorArguments(args: string[]): string[] | string {
  const out: string[] = []
  let open: string | null = null
  let openedAt = ''
  for (const arg of args) {
    if (open === null && arg[0] === '(' && arg[arg.length - 1] !== ')') {
      open = arg
      openedAt = arg
      continue
    }
    if (open !== null) {
      open += ' ' + arg
      if (arg[arg.length - 1] === ')') {
        out.push(open)
        open = null
      }
      continue
    }
    out.push(arg)
  }
  return open !== null ? openedAt : out
}
