// Connection commands: PING ECHO HELLO AUTH QUIT RESET and CLIENT subcommands (Valkey networking.c).
import type {Client} from '../client.js'
import {ErrorReply, MapReply, OK, PONG, SimpleString, type Reply} from '../resp/reply.js'
import {discardTransaction} from '../executor.js'
import type {Handler} from './command.js'
import {helpReply} from './util.js'
import {verbatim} from '../resp/encoder.js'
import {SYNTAX, parseInteger} from './util.js'

export const ENGINE_VERSION = '9.1.0'
const WRONGPASS = new ErrorReply('WRONGPASS invalid username-password pair or user is disabled.')

const ping: Handler = (_c, argv) => {
  if (argv.length > 2) return new ErrorReply("ERR wrong number of arguments for 'ping' command")
  return argv.length === 2 ? argv[1] : PONG
}

const echo: Handler = (_c, argv) => argv[1]

/** ACLAuthenticateUser: logs c in as user, or WRONGPASS (and an ACL LOG entry named after the command). */
function authenticate(c: Client, user: string, password: string, command: string): ErrorReply | null {
  return c.node.acl.authenticate(c, user, password, command) ? null : WRONGPASS
}

const auth: Handler = (c, argv) => {
  if (argv.length > 3) return SYNTAX
  if (argv.length === 2 && c.node.acl.defaultUser.nopass) {
    return new ErrorReply(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    )
  }
  const [user, password] = argv.length === 2 ? ['default', argv[1]] : [argv[1], argv[2]]
  return authenticate(c, user, password, argv[0]) ?? OK
}

const hello: Handler = (c, argv) => {
  let version = 0
  let next = 1
  if (argv.length >= 2) {
    const v = parseInteger(argv[next++])
    if (v === null) return new ErrorReply('ERR Protocol version is not an integer or out of range')
    if (v < 2 || v > 3) return new ErrorReply('NOPROTO unsupported protocol version')
    version = v
  }
  let user: string | null = null
  let password: string | null = null
  let name: string | null = null
  for (let j = next; j < argv.length; j++) {
    const more = argv.length - 1 - j
    const opt = argv[j].toLowerCase()
    if (opt === 'auth' && more >= 2) {
      user = argv[j + 1]
      password = argv[j + 2]
      j += 2
    } else if (opt === 'setname' && more >= 1) {
      name = argv[j + 1]
      j++
    } else return new ErrorReply(`ERR Syntax error in HELLO option '${argv[j]}'`)
  }
  if (user !== null && password !== null) {
    const failed = authenticate(c, user, password, argv[0])
    if (failed) return failed
  }
  if (!c.authenticated) {
    return new ErrorReply(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    )
  }
  if (name !== null) {
    const bad = checkClientName(name)
    if (bad) return bad
    c.name = name
  }
  if (version) c.resp = version
  return new MapReply([
    ['server', 'valkey'],
    ['version', ENGINE_VERSION],
    ['proto', c.resp],
    ['id', c.id],
    ['mode', c.node.cluster ? 'cluster' : 'standalone'],
    ['role', 'master'],
    // Valkey 9 runs Lua as a built-in module and lists it here.
    ['modules', [new MapReply([['name', 'lua'], ['ver', 1], ['path', 'lua'], ['args', []]])]],
  ])
}

const quit: Handler = (c) => {
  c.closeAfterReply = true
  return OK
}

const reset: Handler = (c) => {
  discardTransaction(c)
  c.db = c.node.keyspace.db(0)
  c.resp = 2
  c.name = ''
  c.readonlyMode = false
  c.user = c.node.acl.defaultUser
  c.authenticated = c.node.acl.defaultLoginFree
  return new SimpleString('RESET')
}

function checkClientName(name: string): ErrorReply | null {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i)
    if (code < 33 || code > 126) return new ErrorReply('ERR Client names cannot contain spaces, newlines or special characters.')
  }
  return null
}

/** One CLIENT LIST / CLIENT INFO line, with the fields clients and tools read. */
export function describeClient(c: Client): string {
  const now = Date.now()
  const flags = (c.multi !== null ? 'x' : '') + (c.readonlyMode ? 'r' : '') || 'N'
  return (
    `id=${c.id} addr=${c.address} laddr=${c.localAddress} fd=8 name=${c.name} ` +
    `age=${Math.floor((now - c.createdAt) / 1000)} idle=${Math.floor((now - c.lastInteraction) / 1000)} ` +
    `flags=${flags} capa= db=${c.db.index} sub=0 psub=0 ssub=0 multi=${c.multi === null ? -1 : c.multi.length} ` +
    `watch=${c.watched.length} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 ` +
    `tot-mem=0 events=r cmd=${c.lastCommand} user=${c.user.name} redir=-1 resp=${c.resp} ` +
    `lib-name=${c.libName} lib-ver=${c.libVersion} tot-net-in=0 tot-net-out=0 tot-cmds=${c.commandsProcessed}\n`
  )
}

const clientList: Handler = (c, argv) => {
  let ids: Set<number> | null = null
  for (let i = 2; i < argv.length; i++) {
    const opt = argv[i].toLowerCase()
    if (opt === 'type' && i + 1 < argv.length) {
      const type = argv[++i].toLowerCase()
      if (!['normal', 'master', 'primary', 'replica', 'slave', 'pubsub'].includes(type)) {
        return new ErrorReply(`ERR Unknown client type '${argv[i]}'`)
      }
      if (type !== 'normal') return ''
    } else if (opt === 'id' && i + 1 < argv.length) {
      ids = new Set()
      for (i++; i < argv.length; i++) {
        const id = parseInteger(argv[i])
        if (id === null || id <= 0) return new ErrorReply('ERR Invalid client ID')
        ids.add(id)
      }
    } else return SYNTAX
  }
  let out = ''
  for (const client of c.node.clients) if (ids === null || ids.has(client.id)) out += describeClient(client)
  return verbatim(out)
}

const clientSetinfo: Handler = (c, argv) => {
  const attr = argv[2].toLowerCase()
  const value = argv[3]
  if (attr !== 'lib-name' && attr !== 'lib-ver') return new ErrorReply(`ERR Unrecognized option '${argv[2]}'`)
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 33 || code > 126) {
      return new ErrorReply(`ERR ${attr} cannot contain spaces, newlines or special characters.`)
    }
  }
  if (attr === 'lib-name') c.libName = value
  else c.libVersion = value
  return OK
}

const clientSetname: Handler = (c, argv) => {
  const bad = checkClientName(argv[2])
  if (bad) return bad
  c.name = argv[2]
  return OK
}

const clientHelp: Handler = () => helpReply([
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'LIST [options ...]',
  '    Return information about client connections.',
  'SETINFO <option> <value>',
  '    Set client meta attr. Options are LIB-NAME, LIB-VER.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'HELP',
  '    Print this help.',
])

export const connectionHandlers: Record<string, Handler> = {
  ping,
  echo,
  auth,
  hello,
  quit,
  reset,
  'client|list': clientList,
  'client|info': (c) => verbatim(describeClient(c)),
  'client|id': (c) => c.id,
  'client|getname': (c): Reply => (c.name === '' ? null : c.name),
  'client|setname': clientSetname,
  'client|setinfo': clientSetinfo,
  'client|help': clientHelp,
}
