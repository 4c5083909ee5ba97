// EVAL / EVALSHA / EVAL_RO / EVALSHA_RO / SCRIPT: the engine side of scripting. The Lua VM lives in
// src/engine/scripting (a separate bridge); here are the rules Valkey 9.1 applies around it:
// what a script may call, cluster slot checks for undeclared keys, SELECT scoped to the script.
import {checkCommand, denialMessage} from '../acl/check.js'
import {Client} from '../client.js'
import {slotOf} from '../cluster/slot.js'
import {withFrozenTime} from '../node.js'
import {CROSS_SLOT, call, commandSlot, lookupCommand} from '../executor.js'
import {ErrorReply, MapReply, OK, SetReply, type Reply} from '../resp/reply.js'
import type {ScriptFlagsLike} from '../scripting-host.js'
import {VerbatimReply} from '../resp/encoder.js'
import type {Handler} from './command.js'
import {NOT_INTEGER, SYNTAX, helpReply, parseInteger} from './util.js'

const NON_LOCAL = new ErrorReply('ERR Attempted to access a non local key in a cluster node')
const NOSCRIPT = new ErrorReply('NOSCRIPT No matching script.')

/** Bulk strings handed to the bridge are Buffers (our latin1 strings are bytes). */
function toBridge(r: Reply): Reply {
  if (typeof r === 'number' || r === null) return r
  if (typeof r === 'string') return Buffer.from(r, 'latin1')
  if (typeof r === 'bigint') return Number(r)
  if (r instanceof VerbatimReply) return Buffer.from(r.text, 'latin1')
  if (Array.isArray(r)) return r.map(toBridge)
  if (r instanceof MapReply) return new MapReply(r.entries.map(([k, v]) => [toBridge(k), toBridge(v)]))
  if (r instanceof SetReply) return new SetReply(r.items.map(toBridge))
  return r
}

/** The bridge's JS strings follow reply.ts (UTF-8 text): store them as Buffers for the encoder. */
function fromBridge(r: Reply): Reply {
  if (typeof r === 'string') return Buffer.from(r, 'utf8')
  if (Array.isArray(r)) return r.map(fromBridge)
  if (r instanceof MapReply) return new MapReply(r.entries.map(([k, v]) => [fromBridge(k), fromBridge(v)]))
  if (r instanceof SetReply) return new SetReply(r.items.map(fromBridge))
  return r
}

interface RunContext {
  /** The client that ran EVAL: its user's ACL applies, and ACL LOG describes it. */
  caller: Client
  readOnly: boolean
  allowCrossSlot: boolean
  /** Slot of the keys seen so far (declared keys first), -1 = none yet. */
  slot: number
  argvCache: ArgvCache
}

function runScript(c: Client, body: Buffer, argv: string[], readOnlyCommand: boolean): Reply {
  const engine = c.node.scripts!
  const numkeys = parseInteger(argv[2])
  if (numkeys === null) return NOT_INTEGER
  if (numkeys > argv.length - 3) return new ErrorReply("ERR Number of keys can't be greater than number of args")
  if (numkeys < 0) return new ErrorReply("ERR Number of keys can't be negative")
  const flags = engine.parseFlags(body)
  if (flags instanceof ErrorReply) return flags
  const ctx = prepare(c, flags, readOnlyCommand, argv.slice(3, 3 + numkeys))
  if (ctx instanceof ErrorReply) return ctx
  const keys = argv.slice(3, 3 + numkeys).map((k) => Buffer.from(k, 'latin1'))
  const args = argv.slice(3 + numkeys).map((a) => Buffer.from(a, 'latin1'))
  // Scripts run as a fake client on the caller's db: SELECT inside stays inside.
  const scriptClient = (c.node.scriptClient ??= new Client(c.node, 'lua', '', true))
  scriptClient.db = c.db
  scriptClient.resp = 2
  scriptClient.authenticated = true
  scriptClient.user = c.user
  // Every Buffer in a reply is made here by toBridge: Lua may keep it without a copy.
  const host = {call: (cmdArgv: Buffer[]) => toBridge(scriptCall(scriptClient, ctx, cmdArgv)), handsOverBuffers: true}
  return fromBridge(withFrozenTime(c.node, () => engine.run(body, keys, args, host)))
}

function prepare(c: Client, flags: ScriptFlagsLike, readOnlyCommand: boolean, declared: string[]): RunContext | ErrorReply {
  if (flags.shebang && c.node.cluster && flags.flags.has('no-cluster')) {
    return new ErrorReply("ERR Can not run script on cluster, 'no-cluster' flag is set.")
  }
  const noWrites = flags.shebang && flags.flags.has('no-writes')
  if (readOnlyCommand && flags.shebang && !noWrites) {
    return new ErrorReply('ERR Can not execute a script with write flag using *_ro command.')
  }
  const slot = declared.length > 0 && c.node.cluster ? slotOf(declared[0]) : -1
  return {
    caller: c,
    readOnly: readOnlyCommand || noWrites,
    // Scripts without a shebang (eval compatibility mode) may touch several slots of this node.
    allowCrossSlot: !flags.shebang || flags.flags.has('allow-cross-slot-keys'),
    slot,
    argvCache: {raw: [], argv: []},
  }
}

/**
 * The argv strings of the previous call from a script, by position with the Buffer they came
 * from: a script's command name and constant arguments are the same Lua strings on every call
 * (Lua strings never change), so `MOVE` and the target db are converted once, not per key.
 */
interface ArgvCache {
  raw: Buffer[]
  argv: string[]
}

function convertArgv(raw: Buffer[], cache: ArgvCache): string[] {
  const argv: string[] = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const buf = raw[i]
    if (cache.raw[i] === buf) argv[i] = cache.argv[i]
    else {
      argv[i] = buf.latin1Slice(0, buf.length)
      cache.raw[i] = buf
      cache.argv[i] = argv[i]
    }
  }
  return argv
}

/** Valkey's scriptCall: the checks a command from inside a script goes through, then the call. */
function scriptCall(sc: Client, ctx: RunContext, raw: Buffer[]): Reply {
  if (raw.length === 0) return new ErrorReply('ERR Please specify at least one argument for this call')
  const argv = convertArgv(raw, ctx.argvCache)
  const cmd = lookupCommand(argv)
  if (cmd === undefined) return new ErrorReply('ERR Unknown command called from script')
  if ((cmd.arity > 0 && cmd.arity !== argv.length) || argv.length < -cmd.arity) {
    return new ErrorReply('ERR Wrong number of args calling command from script')
  }
  if (cmd.noScript) return new ErrorReply('ERR This Redis command is not allowed from script')
  const user = sc.user
  if (!user.unrestricted) {
    const denied = checkCommand(user, sc, cmd, argv)
    if (denied !== null) {
      sc.node.acl.logDenial(ctx.caller, denied.reason, 'lua', denied.object, user)
      return new ErrorReply('ERR ACL failure in script: ' + denialMessage(denied, user, cmd, false))
    }
  }
  if (ctx.readOnly && (cmd.write || cmd.flags.includes('may_replicate'))) {
    return new ErrorReply('ERR Write commands are not allowed from read-only scripts.')
  }
  const topology = sc.node.topology
  if (topology !== null && cmd.keySpecs.length !== 0) {
    const slot = commandSlot(cmd, argv)
    // Valkey 9.1 words a cross-slot command inside a script like a non-local key (observed; it
    // also leaves that node unable to run any redis.call until restart, which we do not copy).
    if (slot === CROSS_SLOT) return NON_LOCAL
    if (slot >= 0) {
      if (!topology.isMine(slot)) return NON_LOCAL
      if (!ctx.allowCrossSlot) {
        if (ctx.slot < 0) ctx.slot = slot
        else if (ctx.slot !== slot) return new ErrorReply('ERR Script attempted to access keys that do not hash to the same slot')
      }
    }
  }
  sc.node.totalCommands++
  return call(sc, cmd, argv)
}

function scriptsOr(c: Client): ErrorReply | null {
  return c.node.scripts === null ? new ErrorReply(c.node.scriptsUnavailable) : null
}

function evalCommand(readOnly: boolean): Handler {
  return (c, argv) => scriptsOr(c) ?? runScript(c, Buffer.from(argv[1], 'latin1'), argv, readOnly)
}

function evalshaCommand(readOnly: boolean): Handler {
  return (c, argv) => {
    const missing = scriptsOr(c)
    if (missing) return missing
    const sha = argv[1].toLowerCase()
    const body = sha.length === 40 ? c.node.scripts!.bodyOf(sha) : undefined
    if (body === undefined) return NOSCRIPT
    return runScript(c, body, argv, readOnly)
  }
}

const scriptLoad: Handler = (c, argv) => {
  const missing = scriptsOr(c)
  if (missing) return missing
  const sha = c.node.scripts!.load(Buffer.from(argv[2], 'latin1'))
  return sha
}

const scriptExists: Handler = (c, argv) => {
  const missing = scriptsOr(c)
  if (missing) return missing
  return argv.slice(2).map((sha) => (c.node.scripts!.exists(sha.toLowerCase()) ? 1 : 0))
}

const scriptFlush: Handler = (c, argv) => {
  if (argv.length > 3) return SYNTAX
  if (argv.length === 3 && !['sync', 'async'].includes(argv[2].toLowerCase())) {
    return new ErrorReply('ERR SCRIPT FLUSH only support SYNC|ASYNC option')
  }
  c.node.scripts?.flush()
  return OK
}

const scriptHelp: Handler = () => helpReply([
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
  'HELP',
  '    Print this help.',
])

export const scriptingHandlers: Record<string, Handler> = {
  eval: evalCommand(false),
  eval_ro: evalCommand(true),
  evalsha: evalshaCommand(false),
  evalsha_ro: evalshaCommand(true),
  'script|load': scriptLoad,
  'script|exists': scriptExists,
  'script|flush': scriptFlush,
  'script|help': scriptHelp,
}

