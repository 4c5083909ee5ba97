// Running a command once it is routed: the handler call (memory limits, WATCH signals), the
// command lookup and the slot of a command's keys. Handlers (EXEC, EVAL, COMMAND INFO) call back
// in here; the command table is handed over by dispatch.ts, so this module imports no handler.
import type {Client} from './client.js'
import {keyPositions, type Command} from './commands/command.js'
import {ErrorReply, type Reply} from './resp/reply.js'
import {slotOf} from './cluster/slot.js'

const NO_KEYS = (): readonly string[] => []

let COMMANDS: ReadonlyMap<string, Command> = new Map()

/** Called once by dispatch.ts with THE command table. */
export function installCommands(table: ReadonlyMap<string, Command>): void {
  COMMANDS = table
}

/** THE command table, for the handlers that list it (COMMAND, COMMAND COUNT/INFO/DOCS). */
export function commandTable(): ReadonlyMap<string, Command> {
  return COMMANDS
}

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

