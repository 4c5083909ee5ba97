// Runs one command for a client the way Valkey's processCommand does: lookup, arity, auth,
// MULTI rules, cluster routing (MOVED / CROSSSLOT), queueing, then the handler.
import {NOT_ROUTED, type Client} from './client.js'
import {keyPositions, type Command} from './commands/command.js'
import {COMMANDS} from './commands/table.js'
import {arityError} from './commands/util.js'
import {ErrorReply, QUEUED, type Reply} from './resp/reply.js'
import {slotOf} from './cluster/slot.js'

const NOAUTH = new ErrorReply('NOAUTH Authentication required.')
const CROSSSLOT = new ErrorReply("CROSSSLOT Keys in request don't hash to the same slot")
const NO_KEYS = (): readonly string[] => []

// Command names as clients spell them ("GET", "get") → table entry, so the hot path skips toLowerCase.
const byRawName = new Map<string, Command | undefined>()

/** The command argv names, or undefined (unknown command or subcommand). */
export function lookupCommand(argv: string[]): Command | undefined {
  let base = byRawName.get(argv[0])
  if (base === undefined) {
    base = COMMANDS.get(argv[0].toLowerCase())
    if (base !== undefined && byRawName.size < 4096) byRawName.set(argv[0], base)
  }
  if (base === undefined || base.subcommands === null || argv.length < 2) return base
  return base.subcommands.get(argv[1].toLowerCase())
}

export function unknownCommandError(argv: string[]): ErrorReply {
  const base = COMMANDS.get(argv[0].toLowerCase())
  let message: string
  if (base?.subcommands && argv.length >= 2) {
    message = `ERR unknown subcommand '${argv[1].slice(0, 128)}'. Try ${argv[0].toUpperCase()} HELP.`
  } else {
    let args = ''
    for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${argv[i].slice(0, 128 - args.length)}' `
    message = `ERR unknown command '${argv[0].slice(0, 128)}', with args beginning with: ${args}`
  }
  return new ErrorReply(message.replace(/[\r\n]/g, ' '))
}

/** Executes one command and returns its reply (the caller encodes it). */
export function processCommand(c: Client, argv: string[]): Reply {
  const node = c.node
  node.totalCommands++
  c.commandsProcessed++
  const cmd = lookupCommand(argv)
  if (cmd === undefined) return reject(c, unknownCommandError(argv))
  c.lastCommand = cmd.fullname
  const arity = cmd.arity
  if ((arity > 0 && arity !== argv.length) || argv.length < -arity) {
    // Valkey 9 answers a rejected EXEC with the reason and drops the transaction.
    if (cmd.isExec && c.multi !== null) return execAbort(c, arityError(cmd.fullname))
    return reject(c, arityError(cmd.fullname))
  }
  if (!c.authenticated && !cmd.noAuth) return reject(c, NOAUTH)
  if (c.multi !== null && cmd.noMulti) return reject(c, new ErrorReply(`ERR Command '${cmd.fullname}' not allowed inside a transaction`))
  let slot = NOT_ROUTED
  if (node.topology !== null && (cmd.keySpecs.length !== 0 || cmd.isExec)) {
    slot = cmd.isExec ? transactionSlot(c) : commandSlot(cmd, argv)
    const redirect = slot === -1 ? null : routeSlot(c, slot)
    if (redirect !== null) {
      if (cmd.isExec) discardTransaction(c)
      else if (c.multi !== null) c.multiDirty = true
      return redirect
    }
  }
  if (c.multi !== null && !cmd.multiControl) {
    c.multi.push({cmd, argv, slot})
    return QUEUED
  }
  return call(c, cmd, argv)
}

function execAbort(c: Client, error: ErrorReply): ErrorReply {
  discardTransaction(c)
  return new ErrorReply(`EXECABORT Transaction discarded because of: ${error.message.replace(/^ERR /, '')}`)
}

function reject(c: Client, error: ErrorReply): ErrorReply {
  if (c.multi !== null) c.multiDirty = true
  return error
}

/**
 * Runs a command's handler (no routing checks): per-db memory limits first (when configured),
 * then the handler, then signals WATCHers of the keys it wrote. EXEC and scripts come here too.
 */
export function call(c: Client, cmd: Command, argv: string[]): Reply {
  const ops = c.node.ops
  if (ops !== null && cmd.write) {
    const refused = ops.admit(c.db, cmd.fullname, argv, cmd.denyOom)
    if (refused !== null) return new ErrorReply(refused)
    // The key list is only built when a db limit needs it (no closure on the common path).
    const scope = ops.beginWrite(c.db, cmd.fullname, argv, ops.memory.limits.size === 0 ? NO_KEYS : () => keyPositions(cmd, argv).map((p) => argv[p]))
    const reply = cmd.handler(c, argv)
    if (scope !== null) ops.endWrite(scope)
    touchWritten(c, cmd, argv)
    return reply
  }
  const reply = cmd.handler(c, argv)
  touchWritten(c, cmd, argv)
  return reply
}

function touchWritten(c: Client, cmd: Command, argv: string[]): void {
  if (cmd.write && c.node.watchCount !== 0) {
    for (const pos of keyPositions(cmd, argv)) c.node.touchKey(c.db, argv[pos])
  }
}

export function discardTransaction(c: Client): void {
  c.multi = null
  c.multiDirty = false
  c.node.unwatchAll(c)
}

/** commandSlot / transactionSlot: the keys span several slots. */
export const CROSS_SLOT = -3

/** The one slot of a command's keys, -1 when it names none, CROSS_SLOT when they differ. */
export function commandSlot(cmd: Command, argv: string[]): number {
  const simple = cmd.simpleKeys
  if (simple !== null && simple.last === 0) {
    // The hot path: one key.
    return simple.first >= argv.length ? -1 : slotOf(argv[simple.first])
  }
  let slot = -1
  for (const pos of keyPositions(cmd, argv)) {
    const s = slotOf(argv[pos])
    if (slot < 0) slot = s
    else if (s !== slot) return CROSS_SLOT
  }
  return slot
}

/** The one slot of a whole MULTI (for EXEC), from the slots found while queueing. */
function transactionSlot(c: Client): number {
  if (c.multi === null) return -1
  let slot = -1
  for (const queued of c.multi) {
    const s = queued.slot === NOT_ROUTED ? commandSlot(queued.cmd, queued.argv) : queued.slot
    if (s === CROSS_SLOT) return CROSS_SLOT
    if (s < 0) continue
    if (slot < 0) slot = s
    else if (s !== slot) return CROSS_SLOT
  }
  return slot
}

/**
 * Valkey's getNodeByQuery for a node that owns its slots: every key of the command (or of the
 * whole MULTI for EXEC) must share one slot, and that slot must be ours. null = serve it here.
 */
function routeSlot(c: Client, slot: number): ErrorReply | null {
  if (slot === CROSS_SLOT) return CROSSSLOT
  const topology = c.node.topology!
  if (topology.isMine(slot)) return null
  const owner = topology.ownerOf(slot)
  if (owner === undefined) return new ErrorReply('CLUSTERDOWN Hash slot not served')
  return new ErrorReply(`MOVED ${slot} ${owner.host}:${owner.port}`)
}

/** Routing check for a key touched from inside a script: null when this node serves it. */
export function slotOwnerError(c: Client, slot: number): ErrorReply | null {
  const topology = c.node.topology
  if (topology === null || topology.isMine(slot)) return null
  return new ErrorReply('ERR Attempted to access a non local key in a cluster node')
}
