// ACL subcommands (Valkey acl.c aclCommand) over the node's users (acl/): SETUSER GETUSER DELUSER
// LIST USERS WHOAMI LOG CAT DRYRUN GENPASS LOAD SAVE HELP. Users are not persisted.
import {randomBytes} from 'node:crypto'
import {checkCommand, denialMessage} from '../acl/check.js'
import {CATEGORIES} from '../acl/rules.js'
import type {AclSelector, AclUser} from '../acl/user.js'
import {commandTable, lookupCommand} from '../executor.js'
import {DoubleReply, ErrorReply, MapReply, OK, SetReply, type Reply} from '../resp/reply.js'
import type {Handler} from './command.js'
import {helpReply, parseInteger} from './util.js'

const NO_ACL_FILE = new ErrorReply(
  'ERR This instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a configuration file set) in order to store users in the configuration.',
)

const setuser: Handler = (c, argv) => {
  const name = argv[2]
  if (/[\s\0]/.test(name)) return new ErrorReply("ERR Usernames can't contain spaces or null characters")
  const error = c.node.acl.setUser(name, argv.slice(3))
  return error === null ? OK : new ErrorReply('ERR ' + error)
}

function describeSelector(s: AclSelector): Array<[Reply, Reply]> {
  return [
    ['commands', s.describeCommands()],
    ['keys', s.describeKeys().join(' ')],
    ['channels', s.describeChannels().join(' ')],
    ['databases', s.describeDbs()],
  ]
}

function describeUser(u: AclUser): Reply {
  return new MapReply([
    ['flags', new SetReply(u.flagNames())],
    ['passwords', [...u.passwords]],
    ...describeSelector(u),
    ['selectors', u.selectors.map((s) => new MapReply(describeSelector(s)))],
  ])
}

const getuser: Handler = (c, argv) => {
  const u = c.node.acl.users.get(argv[2])
  return u === undefined ? null : describeUser(u)
}

const deluser: Handler = (c, argv) => {
  const acl = c.node.acl
  const names = argv.slice(2)
  if (names.includes('default')) return new ErrorReply("ERR The 'default' user cannot be removed")
  let deleted = 0
  for (const name of names) {
    const u = acl.users.get(name)
    if (u === undefined) continue
    acl.users.delete(name)
    deleted++
    // ACLFreeUserAndKillClients: connections logged in as the user go (this one after its reply).
    for (const client of c.node.clients) {
      if (client.user !== u) continue
      client.user = acl.defaultUser
      client.authenticated = false
      if (client === c) client.closeAfterReply = true
      else client.kill?.()
    }
  }
  return deleted
}

const list: Handler = (c) => c.node.acl.sortedUsers().map((u) => `user ${u.name} ${u.describe()}`)

const users: Handler = (c) => c.node.acl.sortedUsers().map((u) => u.name)

const whoami: Handler = (c) => c.user.name

const log: Handler = (c, argv) => {
  const aclLog = c.node.acl.log
  let count = 10
  if (argv.length === 3) {
    if (argv[2].toLowerCase() === 'reset') {
      aclLog.reset()
      return OK
    }
    const n = parseInteger(argv[2])
    if (n === null) return new ErrorReply('ERR value is not an integer or out of range')
    count = Math.max(0, n)
  } else if (argv.length > 3) return subcommandSyntax(argv)
  const now = Date.now()
  return aclLog.entries.slice(0, count).map(
    (e) =>
      new MapReply([
        ['count', e.count],
        ['reason', e.reason],
        ['context', e.context],
        ['object', e.object],
        ['username', e.username],
        ['age-seconds', new DoubleReply((now - e.updated) / 1000)],
        ['client-info', e.clientInfo],
        ['entry-id', e.entryId],
        ['timestamp-created', e.created],
        ['timestamp-last-updated', e.updated],
      ]),
  )
}

const cat: Handler = (_c, argv) => {
  if (argv.length === 2) return [...CATEGORIES]
  if (argv.length > 3) return subcommandSyntax(argv)
  const category = argv[2].toLowerCase()
  if (!CATEGORIES.includes(category)) return new ErrorReply(`ERR Unknown category '${argv[2].slice(0, 128)}'`)
  const out: string[] = []
  for (const cmd of commandTable().values()) {
    if (cmd.acl.includes(category)) out.push(cmd.fullname)
    if (cmd.subcommands) for (const sub of cmd.subcommands.values()) if (sub.acl.includes(category)) out.push(sub.fullname)
  }
  return out
}

const dryrun: Handler = (c, argv) => {
  const u = c.node.acl.users.get(argv[2])
  if (u === undefined) return new ErrorReply(`ERR User '${argv[2]}' not found`)
  const args = argv.slice(3)
  const cmd = lookupCommand(args)
  if (cmd === undefined) return new ErrorReply(`ERR Command '${argv[3]}' not found`)
  if ((cmd.arity > 0 && cmd.arity !== args.length) || args.length < -cmd.arity) {
    return new ErrorReply(`ERR wrong number of arguments for '${cmd.fullname}' command`)
  }
  // As Valkey 9.1: the database rules are judged against the caller's current db.
  const denied = checkCommand(u, c, cmd, args)
  return denied === null ? OK : denialMessage(denied, u, cmd, true)
}

const genpass: Handler = (_c, argv) => {
  let bits = 256
  if (argv.length === 3) {
    const n = parseInteger(argv[2])
    if (n === null) return new ErrorReply('ERR value is not an integer or out of range')
    bits = n
  } else if (argv.length > 3) return subcommandSyntax(argv)
  if (bits <= 0 || bits > 4096) {
    return new ErrorReply('ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096')
  }
  const chars = Math.ceil(bits / 4)
  return randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars)
}

function subcommandSyntax(argv: string[]): ErrorReply {
  return new ErrorReply(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try ACL HELP.`)
}

const help: Handler = () =>
  helpReply([
    'ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    'CAT [<category>]',
    '    List all commands that belong to <category>, or all command categories',
    '    when no category is specified.',
    'DELUSER <username> [<username> ...]',
    '    Delete a list of users.',
    'DRYRUN <username> <command> [<arg> ...]',
    '    Returns whether the user can execute the given command without executing the command.',
    'GETUSER <username>',
    "    Get the user's details.",
    'GENPASS [<bits>]',
    '    Generate a secure 256-bit user password. The optional `bits` argument can',
    '    be used to specify a different size.',
    'LIST',
    '    Show users details in config file format.',
    'LOAD',
    '    Reload users from the ACL file.',
    'LOG [<count> | RESET]',
    '    Show the ACL log entries.',
    'SAVE',
    '    Save the current config to the ACL file.',
    'SETUSER <username> <rule> [<rule> ...]',
    '    Create or modify a user with the specified rules.',
    'USERS',
    '    List all the registered usernames.',
    'WHOAMI',
    '    Return the current connection username.',
    'HELP',
    '    Print this help.',
  ])

export const aclHandlers: Record<string, Handler> = {
  'acl|setuser': setuser,
  'acl|getuser': getuser,
  'acl|deluser': deluser,
  'acl|list': list,
  'acl|users': users,
  'acl|whoami': whoami,
  'acl|log': log,
  'acl|cat': cat,
  'acl|dryrun': dryrun,
  'acl|genpass': genpass,
  'acl|load': () => NO_ACL_FILE,
  'acl|save': () => NO_ACL_FILE,
  'acl|help': help,
}
