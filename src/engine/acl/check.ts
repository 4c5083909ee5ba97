// The per-command ACL check (Valkey ACLCheckAllPerm, with the 9.1 database rules checked first,
// as observed on Valkey 9.1.0). Only called for users that are not unrestricted.
import type {Client} from '../client.js'
import {keyPositions, type Command} from '../commands/command.js'
import type {RawKeySpec} from '../commands/spec-types.js'
import {globMatch} from '../keyspace/glob.js'
import type {DenialReason} from './log.js'
import type {AclSelector, AclUser} from './user.js'

export interface Denial {
  reason: DenialReason
  /** What ACL LOG records: the command name, the key, or the refused db index as typed. */
  object: string
}

/** How a command meets the database selector. */
type DbRule = 'none' | 'current' | 'select' | 'move' | 'copy' | 'swapdb' | 'flushall'

const dbRules = new Map<Command, DbRule>()

function dbRuleOf(cmd: Command): DbRule {
  let rule = dbRules.get(cmd)
  if (rule === undefined) {
    const special: Record<string, DbRule> = {select: 'select', move: 'move', copy: 'copy', swapdb: 'swapdb', flushall: 'flushall'}
    // Valkey 9.1 refuses, in a db the user may not use, every command with keys and every
    // @keyspace command (DBSIZE, SCAN, KEYS, FLUSHDB ...); PING, INFO, CLUSTER ... still run.
    rule = special[cmd.fullname] ?? (cmd.keySpecs.length !== 0 || cmd.acl.includes('keyspace') ? 'current' : 'none')
    dbRules.set(cmd, rule)
  }
  return rule
}

/** A db index argument as SELECT parses it; null when the command itself will refuse it. */
function dbArg(c: Client, text: string): number | null {
  if (!/^(0|-?[1-9]\d{0,18})$/.test(text)) return null
  const n = Number(text)
  return n >= 0 && n < c.node.keyspace.count ? n : null
}

function deniedDb(u: AclSelector, c: Client, text: string): boolean {
  const n = dbArg(c, text)
  return n !== null && !u.dbs.has(n)
}

function checkDatabases(u: AclSelector, c: Client, cmd: Command, argv: string[]): Denial | null {
  const rule = dbRuleOf(cmd)
  const current = !u.dbs.has(c.db.index)
  switch (rule) {
    case 'none':
      return null
    case 'current':
      return current ? {reason: 'database', object: cmd.fullname} : null
    case 'select':
      return deniedDb(u, c, argv[1]) ? {reason: 'database', object: argv[1]} : null
    case 'move':
      if (current) return {reason: 'database', object: cmd.fullname}
      return deniedDb(u, c, argv[2]) ? {reason: 'database', object: argv[2]} : null
    case 'copy': {
      if (current) return {reason: 'database', object: cmd.fullname}
      for (let i = 3; i < argv.length - 1; i++) {
        // Valkey 9.1 logs the command name (not the index) for COPY ... DB.
        if (argv[i].toLowerCase() === 'db' && deniedDb(u, c, argv[i + 1])) return {reason: 'database', object: cmd.fullname}
      }
      return null
    }
    case 'swapdb':
      if (deniedDb(u, c, argv[1])) return {reason: 'database', object: argv[1]}
      return deniedDb(u, c, argv[2]) ? {reason: 'database', object: argv[2]} : null
    case 'flushall':
      return {reason: 'database', object: cmd.fullname}
  }
}

function commandAllowed(u: AclSelector, cmd: Command, argv: string[]): boolean {
  if (u.allCommands || cmd.noAuth || u.allowed.has(cmd)) return true
  const firstArgs = u.firstArgs?.get(cmd)
  if (firstArgs === undefined || argv.length < 2) return false
  const arg = argv[cmd.container ? 2 : 1]?.toLowerCase()
  return firstArgs.some((a) => a.toLowerCase() === arg)
}

function specAccess(spec: RawKeySpec): {read: boolean; write: boolean} {
  const f = spec.flags
  return {read: f.includes('ACCESS'), write: f.includes('INSERT') || f.includes('DELETE') || f.includes('UPDATE')}
}

function keyAllowed(u: AclSelector, key: string, need: {read: boolean; write: boolean}): boolean {
  for (const p of u.keys) {
    if ((need.read && !p.read) || (need.write && !p.write)) continue
    if (globMatch(p.pattern, key)) return true
  }
  return false
}

/** The first key the user may not touch, as [position, ok]; null when all are allowed. */
function checkKeys(u: AclSelector, cmd: Command, argv: string[]): Denial | null {
  const specs = cmd.keySpecs
  if (specs.length === 1) {
    const need = specAccess(specs[0])
    for (const pos of keyPositions(cmd, argv)) if (!keyAllowed(u, argv[pos], need)) return {reason: 'key', object: argv[pos]}
    return null
  }
  for (const spec of specs) {
    // One spec at a time so each key is checked with its own access flags.
    const need = specAccess(spec)
    for (const pos of keyPositions({...cmd, keySpecs: [spec], simpleKeys: null}, argv)) {
      if (!keyAllowed(u, argv[pos], need)) return {reason: 'key', object: argv[pos]}
    }
  }
  return null
}

function checkSelector(s: AclSelector, c: Client, cmd: Command, argv: string[]): Denial | null {
  if (!s.allDbs) {
    const denied = checkDatabases(s, c, cmd, argv)
    if (denied !== null) return denied
  }
  if (!commandAllowed(s, cmd, argv)) return {reason: 'command', object: cmd.fullname}
  if (!s.allKeys && cmd.keySpecs.length !== 0) return checkKeys(s, cmd, argv)
  return null
}

// When every selector refuses, the reply names the strongest reason (as observed on Valkey 9.1:
// a key refusal beats a command refusal, which beats a database refusal).
const STRENGTH: Record<string, number> = {database: 0, command: 1, key: 2, channel: 3}

/** null when u (its root rules or any of its selectors) may run cmd with argv on c's current db. */
export function checkCommand(u: AclUser, c: Client, cmd: Command, argv: string[]): Denial | null {
  const root = checkSelector(u, c, cmd, argv)
  if (root === null || u.selectors.length === 0) return root
  let relevant = root
  for (const s of u.selectors) {
    const denied = checkSelector(s, c, cmd, argv)
    if (denied === null) return null
    if (STRENGTH[denied.reason] > STRENGTH[relevant.reason]) relevant = denied
  }
  return relevant
}

/** The NOPERM text (without "NOPERM "); verbose is ACL DRYRUN's wording. */
export function denialMessage(d: Denial, u: AclUser, cmd: Command, verbose: boolean): string {
  switch (d.reason) {
    case 'command':
      return `User ${u.name} has no permissions to run the '${cmd.fullname}' command`
    case 'key':
      return verbose ? `User ${u.name} has no permissions to access the '${d.object}' key` : 'No permissions to access a key'
    case 'database':
      return verbose ? `User ${u.name} has no permissions to access database ${d.object}` : 'No permissions to access database'
    default:
      return verbose ? `User ${u.name} has no permissions to access the '${d.object}' channel` : 'No permissions to access a channel'
  }
}
