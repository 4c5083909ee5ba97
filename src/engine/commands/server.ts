// Server commands: INFO, CONFIG GET/SET, TIME, LASTSAVE, and COMMAND (COUNT/INFO/DOCS/LIST/GETKEYS)
// generated from the one command table.
import type {Client} from '../client.js'
import {globMatch} from '../keyspace/glob.js'
import {ErrorReply, MapReply, OK, SetReply, SimpleString, type Reply} from '../resp/reply.js'
import {keyPositions, type Command, type Handler} from './command.js'
import {ENGINE_VERSION} from './connection.js'
import {commandTable, lookupCommand} from '../executor.js'
import type {RawArgumentDoc, RawKeySpec} from './spec-types.js'
import {helpReply} from './util.js'
import {formatBytesAsValkey} from '../../util/bytes.js'
import {verbatim} from '../resp/encoder.js'
import {nowMicros} from '../node.js'
import {ConfigValueError} from '../limits/client-limits.js'

// ---- INFO


function clientBuffers(c: Client): number {
  let total = 0
  for (const client of c.node.clients) total += client.bufferBytes()
  return total
}

const SECTIONS: Record<string, (c: Client) => string[]> = {
  server: (c) => [
    'redis_version:7.2.4',
    'server_name:valkey',
    `valkey_version:${ENGINE_VERSION}`,
    'redis_git_sha1:00000000',
    'redis_git_dirty:0',
    `redis_mode:${c.node.cluster ? 'cluster' : 'standalone'}`,
    `os:${process.platform}`,
    'arch_bits:64',
    `process_id:${process.pid}`,
    `run_id:${c.node.topology?.myself.id ?? '0'.repeat(40)}`,
    `tcp_port:${c.node.config.port}`,
    `uptime_in_seconds:${Math.floor((Date.now() - c.node.startedAt) / 1000)}`,
    `uptime_in_days:${Math.floor((Date.now() - c.node.startedAt) / 86_400_000)}`,
    'executable:flip-engine',
    'config_file:',
  ],
  clients: (c) => [`connected_clients:${c.node.clients.size}`, 'blocked_clients:0', `maxclients:${c.node.limits.maxclients}`],
  memory: (c) => {
    const usage = process.memoryUsage()
    return [
      `used_memory:${usage.heapUsed + usage.external}`,
      `used_memory_human:${formatBytesAsValkey(usage.heapUsed + usage.external)}`,
      `used_memory_rss:${usage.rss}`,
      `used_memory_rss_human:${formatBytesAsValkey(usage.rss)}`,
      `used_memory_peak:${usage.rss}`,
      'maxmemory:0',
      'maxmemory_human:0B',
      'maxmemory_policy:noeviction',
      'mem_allocator:v8',
      // Input and output buffers of the connected clients (the engine's own accounting).
      `mem_clients_normal:${clientBuffers(c)}`,
      // Per-db usage and limits (used_memory_db<N>, maxmemory_db<N>) when limits are configured.
      ...(c.node.ops?.infoMemoryLines() ?? []),
    ]
  },
  persistence: (c) =>
    c.node.ops?.infoPersistenceLines() ?? [
      'loading:0',
      'async_loading:0',
      'rdb_changes_since_last_save:0',
      `rdb_last_save_time:${c.node.lastSave}`,
      'aof_enabled:0',
    ],
  stats: (c) => [
    `total_connections_received:${c.node.totalConnections}`,
    `total_commands_processed:${c.node.totalCommands}`,
    `rejected_connections:${c.node.limits.rejectedConnections}`,
    `total_error_replies:${c.node.totalErrorReplies}`,
    `client_query_buffer_limit_disconnections:${c.node.limits.queryLimitDisconnections}`,
    `client_output_buffer_limit_disconnections:${c.node.limits.outputLimitDisconnections}`,
    'expired_keys:0',
    'evicted_keys:0',
  ],
  replication: () => ['role:master', 'connected_slaves:0', 'master_repl_offset:0'],
  cpu: () => {
    const cpu = process.cpuUsage()
    return [`used_cpu_sys:${(cpu.system / 1e6).toFixed(6)}`, `used_cpu_user:${(cpu.user / 1e6).toFixed(6)}`]
  },
  cluster: (c) => [`cluster_enabled:${c.node.cluster ? 1 : 0}`],
  keyspace: (c) => {
    const lines: string[] = []
    const now = Date.now()
    for (const db of c.node.keyspace.existing()) {
      if (db.size === 0) continue
      let ttlSum = 0
      let ttlCount = 0
      for (const at of db.expires.values()) {
        if (at > now) {
          ttlSum += at - now
          ttlCount++
        }
      }
      const avg = ttlCount ? Math.floor(ttlSum / ttlCount) : 0
      lines.push(`db${db.index}:keys=${db.size},expires=${db.expires.size},avg_ttl=${avg},keys_with_volatile_items=0`)
    }
    return lines
  },
}
const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'cluster', 'keyspace']
const TITLES: Record<string, string> = {cpu: 'CPU'}

const info: Handler = (c, argv) => {
  let wanted = DEFAULT_SECTIONS
  if (argv.length > 1) {
    const asked = argv.slice(1).map((s) => s.toLowerCase())
    wanted = asked.some((s) => s === 'all' || s === 'everything' || s === 'default')
      ? DEFAULT_SECTIONS
      : DEFAULT_SECTIONS.filter((s) => asked.includes(s))
  }
  const parts = wanted.map((name) => {
    const title = TITLES[name] ?? name[0].toUpperCase() + name.slice(1)
    return `# ${title}\r\n` + SECTIONS[name](c).map((line) => line + '\r\n').join('')
  })
  return verbatim(parts.join('\r\n'))
}

// ---- CONFIG

const IMMUTABLE = new Set(['databases', 'cluster-databases', 'cluster-enabled', 'port', 'bind'])

function configValues(c: Client): Array<[string, string]> {
  const cfg = c.node.config
  return [
    ['databases', String(cfg.mode === 'standalone' ? cfg.databases : 16)],
    ['cluster-databases', String(cfg.mode === 'cluster' ? cfg.databases : 1)],
    ['cluster-enabled', cfg.mode === 'cluster' ? 'yes' : 'no'],
    ['port', String(cfg.port)],
    ['bind', cfg.host],
    ['requirepass', cfg.password ?? ''],
    ...c.node.limits.values(),
    ['timeout', '0'],
    ...c.node.settings,
  ]
}

const configGet: Handler = (c, argv) => {
  const values = configValues(c)
  const out: Array<[Reply, Reply]> = []
  const seen = new Set<string>()
  for (let i = 2; i < argv.length; i++) {
    const pattern = argv[i].toLowerCase()
    for (const [name, value] of values) {
      if (!seen.has(name) && globMatch(pattern, name)) {
        seen.add(name)
        out.push([name, value])
      }
    }
  }
  return new MapReply(out)
}

const configSet: Handler = (c, argv) => {
  if (argv.length % 2 !== 0) return new ErrorReply("ERR wrong number of arguments for 'config|set' command")
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i].toLowerCase()
    if (IMMUTABLE.has(name)) {
      return new ErrorReply(`ERR CONFIG SET failed (possibly related to argument '${argv[i]}') - can't set immutable config`)
    }
    if (name !== 'requirepass' && !c.node.settings.has(name) && !c.node.limits.has(name)) {
      return new ErrorReply(`ERR Unknown option or number of arguments for CONFIG SET - '${argv[i]}'`)
    }
  }
  // Every value is checked before any is applied: one bad value changes nothing (as Valkey).
  const limitChanges: Array<() => void> = []
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i].toLowerCase()
    if (!c.node.limits.has(name)) continue
    try {
      limitChanges.push(c.node.limits.prepare(name, argv[i + 1]))
    } catch (error) {
      if (!(error instanceof ConfigValueError)) throw error
      return new ErrorReply(`ERR CONFIG SET failed (possibly related to argument '${argv[i]}') - ${error.message}`)
    }
  }
  for (const apply of limitChanges) apply()
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i].toLowerCase()
    if (name === 'requirepass') c.node.config.password = argv[i + 1] === '' ? undefined : argv[i + 1]
    else if (!c.node.limits.has(name)) c.node.settings.set(name, argv[i + 1])
  }
  return OK
}

const configHelp: Handler = () => helpReply([
  'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'HELP',
  '    Print this help.',
])

// ---- COMMAND

function keySpecReply(spec: RawKeySpec): MapReply {
  const entries: Array<[Reply, Reply]> = []
  if (spec.notes) entries.push(['notes', spec.notes])
  const flagOrder = ['RO', 'RW', 'OW', 'RM', 'ACCESS', 'UPDATE', 'INSERT', 'DELETE', 'NOT_KEY', 'INCOMPLETE', 'VARIABLE_FLAGS']
  entries.push([
    'flags',
    new SetReply(flagOrder.filter((f) => spec.flags.includes(f)).map((f) => new SimpleString(f.length <= 2 ? f : f.toLowerCase()))),
  ])
  const bs = spec.begin_search
  if (bs.index) entries.push(['begin_search', new MapReply([['type', 'index'], ['spec', new MapReply([['index', bs.index.pos]])]])])
  else if (bs.keyword) {
    entries.push([
      'begin_search',
      new MapReply([['type', 'keyword'], ['spec', new MapReply([['keyword', bs.keyword.keyword], ['startfrom', bs.keyword.startfrom]])]]),
    ])
  } else entries.push(['begin_search', new MapReply([['type', 'unknown'], ['spec', new MapReply([])]])])
  const fk = spec.find_keys
  if (fk.range) {
    entries.push([
      'find_keys',
      new MapReply([['type', 'range'], ['spec', new MapReply([['lastkey', fk.range.lastkey], ['keystep', fk.range.step], ['limit', fk.range.limit]])]]),
    ])
  } else if (fk.keynum) {
    entries.push([
      'find_keys',
      new MapReply([
        ['type', 'keynum'],
        ['spec', new MapReply([['keynumidx', fk.keynum.keynumidx], ['firstkey', fk.keynum.firstkey], ['keystep', fk.keynum.step]])],
      ]),
    ])
  } else entries.push(['find_keys', new MapReply([['type', 'unknown'], ['spec', new MapReply([])]])])
  return new MapReply(entries)
}

export function commandInfo(cmd: Command): Reply {
  return [
    cmd.fullname,
    cmd.arity,
    new SetReply(cmd.flags.map((f) => new SimpleString(f))),
    cmd.legacy.first,
    cmd.legacy.last,
    cmd.legacy.step,
    new SetReply(cmd.acl.map((a) => new SimpleString('@' + a))),
    new SetReply(cmd.tips),
    new SetReply(cmd.keySpecs.map(keySpecReply)),
    cmd.subcommands ? [...cmd.subcommands.values()].map(commandInfo) : new SetReply([]),
  ]
}

function argumentDocs(args: RawArgumentDoc[]): Reply {
  return args.map((a) => {
    const entries: Array<[Reply, Reply]> = [
      ['name', a.name],
      ['type', a.type],
    ]
    if (a.type !== 'oneof' && a.type !== 'block') entries.push(['display_text', a.display ?? a.name])
    if (a.type === 'key' && a.key_spec_index !== undefined) entries.push(['key_spec_index', a.key_spec_index])
    if (a.token) entries.push(['token', a.token])
    if (a.summary) entries.push(['summary', a.summary])
    if (a.since) entries.push(['since', a.since])
    if (a.deprecated_since) entries.push(['deprecated_since', a.deprecated_since])
    const flags = [a.optional && 'optional', a.multiple && 'multiple', a.multiple_token && 'multiple_token'].filter(Boolean) as string[]
    if (flags.length) entries.push(['flags', new SetReply(flags.map((f) => new SimpleString(f)))])
    if (a.arguments) entries.push(['arguments', argumentDocs(a.arguments)])
    return new MapReply(entries)
  })
}

function commandDocs(cmd: Command): MapReply {
  const d = cmd.docs
  const entries: Array<[Reply, Reply]> = []
  if (d.summary) entries.push(['summary', d.summary])
  if (d.since) entries.push(['since', d.since])
  entries.push(['group', d.group ?? 'generic'])
  if (d.complexity) entries.push(['complexity', d.complexity])
  if (d.doc_flags) entries.push(['doc_flags', new SetReply(d.doc_flags.map((f) => new SimpleString(f)))])
  if (d.deprecated_since) entries.push(['deprecated_since', d.deprecated_since])
  if (d.replaced_by) entries.push(['replaced_by', d.replaced_by])
  if (d.history) entries.push(['history', new SetReply(d.history.map(([since, change]) => [since, change]))])
  if (d.arguments) entries.push(['arguments', argumentDocs(d.arguments)])
  if (cmd.subcommands) {
    entries.push(['subcommands', new MapReply([...cmd.subcommands.values()].map((sub) => [sub.fullname, commandDocs(sub)]))])
  }
  return new MapReply(entries)
}

function findByName(name: string): Command | undefined {
  const [base, sub] = name.toLowerCase().split('|')
  const cmd = commandTable().get(base)
  if (sub === undefined) return cmd
  return cmd?.subcommands?.get(sub)
}

const command: Handler = () => [...commandTable().values()].map(commandInfo)

const commandInfoHandler: Handler = (_c, argv) => {
  if (argv.length === 2) return [...commandTable().values()].map(commandInfo)
  return argv.slice(2).map((name) => {
    const cmd = findByName(name)
    return cmd ? commandInfo(cmd) : null
  })
}

const commandDocsHandler: Handler = (_c, argv) => {
  const cmds = argv.length === 2 ? [...commandTable().values()] : (argv.slice(2).map(findByName).filter(Boolean) as Command[])
  return new MapReply(cmds.map((cmd) => [cmd.fullname, commandDocs(cmd)]))
}

const commandList: Handler = (_c, argv) => {
  const names: string[] = []
  for (const cmd of commandTable().values()) {
    names.push(cmd.fullname)
    if (cmd.subcommands) for (const sub of cmd.subcommands.values()) names.push(sub.fullname)
  }
  if (argv.length === 2) return names
  if (argv.length !== 5 || argv[2].toLowerCase() !== 'filterby') return new ErrorReply('ERR syntax error')
  const kind = argv[3].toLowerCase()
  const value = argv[4]
  if (kind === 'pattern') return names.filter((n) => globMatch(value.toLowerCase(), n))
  if (kind === 'aclcat') return names.filter((n) => findByName(n)?.acl.includes(value.toLowerCase().replace(/^@/, '')))
  if (kind === 'module') return []
  return new ErrorReply('ERR syntax error')
}

const commandGetkeys: Handler = (_c, argv) => {
  const target = argv.slice(2)
  const cmd = lookupCommand(target)
  if (!cmd) return new ErrorReply('ERR Invalid command specified')
  if ((cmd.arity > 0 && cmd.arity !== target.length) || target.length < -cmd.arity) {
    return new ErrorReply('ERR Invalid number of arguments specified for command')
  }
  const positions = keyPositions(cmd, target)
  if (positions.length === 0) {
    // A command with movable keys (EVAL with numkeys 0) simply has none.
    if (cmd.movableKeys && cmd.keySpecs.length !== 0) return []
    return new ErrorReply(cmd.keySpecs.length === 0 ? 'ERR The command has no key arguments' : 'ERR Invalid arguments specified for command')
  }
  return positions.map((p) => target[p])
}

const commandHelp: Handler = () => helpReply([
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all commands.',
  'COUNT',
  '    Return the total number of commands in this server.',
  'LIST',
  '    Return a list of all commands in this server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple commands.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple commands.',
  'GETKEYS <full-command>',
  '    Return the keys from a full command.',
  'HELP',
  '    Print this help.',
])

export const serverHandlers: Record<string, Handler> = {
  info,
  time: (c) => {
    const us = c.node.frozenTimeUs ?? nowMicros()
    return [String(us / 1_000_000n), String(us % 1_000_000n)]
  },
  lastsave: (c) => {
    const saved = c.node.ops?.persistence?.lastSaveAt
    return saved ? Math.floor(saved / 1000) : c.node.lastSave
  },
  save: (c) => {
    try {
      const stats = c.node.ops?.saveSync(c.node.keyspace)
      return stats ? OK : new ErrorReply('ERR snapshots are off (start the engine with a --dir)')
    } catch (error) {
      return new ErrorReply(`ERR ${(error as Error).message.split('\n')[0]}`)
    }
  },
  bgsave: (c) => {
    if (!c.node.ops?.persistence) return new ErrorReply('ERR snapshots are off (start the engine with a --dir)')
    void c.node.ops.save(c.node.keyspace).catch(() => {})
    return new SimpleString('Background saving started')
  },
  'config|get': configGet,
  'config|set': configSet,
  'config|help': configHelp,
  command,
  'command|count': () => commandTable().size,
  'command|info': commandInfoHandler,
  'command|docs': commandDocsHandler,
  'command|list': commandList,
  'command|getkeys': commandGetkeys,
  'command|help': commandHelp,
}
