// Runs one command for a client the way Valkey's processCommand does: lookup, arity, auth,
// MULTI rules, ACL, cluster routing (MOVED / CROSSSLOT), queueing, then the handler.
import {checkCommand, denialMessage} from './acl/check.js'
import {NOT_ROUTED, type Client} from './client.js'
import {COMMANDS} from './commands/table.js'
import {arityError} from './commands/util.js'
import {CROSS_SLOT, call, commandSlot, discardTransaction, installCommands, lookupCommand, unknownCommandError} from './executor.js'
import {ErrorReply, QUEUED, type Reply} from './resp/reply.js'

// The table is built from the handlers, which call back into the executor: the executor gets
// the table from here, so imports run one way (dispatch → table → handlers → executor).
installCommands(COMMANDS)

const NOAUTH = new ErrorReply('NOAUTH Authentication required.')
const CROSSSLOT = new ErrorReply("CROSSSLOT Keys in request don't hash to the same slot")

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
  // One flag test for the default user (+@all ~* alldbs); the full check only for restricted users.
  const user = c.user
  if (!user.unrestricted) {
    const denied = checkCommand(user, c, cmd, argv)
    if (denied !== null) {
      node.acl.logDenial(c, denied.reason, c.multi !== null ? 'multi' : 'toplevel', denied.object, user)
      return reject(c, new ErrorReply('NOPERM ' + denialMessage(denied, user, cmd, false)))
    }
  }
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
