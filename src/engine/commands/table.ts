// THE command table: Valkey's declared specs (specs.data.ts, generated from Valkey's JSON) joined
// with our handlers. Every command the engine answers is here, and only here.
import {ErrorReply} from '../resp/reply.js'
import {aclHandlers} from './acl.js'
import {buildCommand, type Command, type Handler} from './command.js'
import {clusterHandlers} from './cluster.js'
import {connectionHandlers} from './connection.js'
import {hashHandlers} from './hashes.js'
import {keyspaceHandlers} from './keyspace.js'
import {listHandlers} from './lists.js'
import {scriptingHandlers} from './scripting.js'
import {serverHandlers} from './server.js'
import {setHandlers} from './sets.js'
import {VALKEY_COMMAND_SPECS} from './specs.data.js'
import {stringHandlers} from './strings.js'
import {transactionHandlers} from './transactions.js'
import {zsetHandlers} from './zsets.js'

const HANDLERS: Record<string, Handler> = {
  ...stringHandlers,
  ...hashHandlers,
  ...setHandlers,
  ...zsetHandlers,
  ...listHandlers,
  ...keyspaceHandlers,
  ...transactionHandlers,
  ...connectionHandlers,
  ...serverHandlers,
  ...clusterHandlers,
  ...scriptingHandlers,
  ...aclHandlers,
}

/** A container (CLIENT, CONFIG, ...) called without a known subcommand never reaches here. */
const containerOnly: Handler = (_c, argv) => new ErrorReply(`ERR unknown subcommand. Try ${argv[0].toUpperCase()} HELP.`)

function build(): Map<string, Command> {
  const table = new Map<string, Command>()
  const missing: string[] = []
  for (const [name, raw] of Object.entries(VALKEY_COMMAND_SPECS)) {
    const handler = HANDLERS[name] ?? (raw.subcommands ? containerOnly : undefined)
    if (handler === undefined) {
      missing.push(name)
      continue
    }
    const cmd = buildCommand(name, raw, handler, null)
    if (raw.subcommands) {
      cmd.subcommands = new Map()
      for (const [subName, subRaw] of Object.entries(raw.subcommands)) {
        const subHandler = HANDLERS[`${name}|${subName}`]
        if (subHandler === undefined) {
          missing.push(`${name}|${subName}`)
          continue
        }
        cmd.subcommands.set(subName, buildCommand(subName, subRaw, subHandler, cmd))
      }
    }
    table.set(name, cmd)
  }
  if (missing.length) throw new Error(`command table: no handler for ${missing.join(', ')}`)
  return table
}

export const COMMANDS: Map<string, Command> = build()
