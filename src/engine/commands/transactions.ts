// MULTI / EXEC / DISCARD / WATCH / UNWATCH (Valkey multi.c). Queueing itself happens in dispatch.
import {checkCommand} from '../acl/check.js'
import {ErrorReply, NULL_ARRAY, OK, type Reply} from '../resp/reply.js'
import {call, discardTransaction} from '../executor.js'
import {withFrozenTime} from '../node.js'
import type {Handler} from './command.js'

const EXEC_DENIAL: Record<string, string> = {
  command: 'no permission to execute the command or subcommand',
  key: 'no permission to touch the specified keys',
  channel: 'no permission to access one of the channels used as arguments',
}

const multi: Handler = (c) => {
  if (c.multi !== null) return new ErrorReply('ERR MULTI calls can not be nested')
  c.multi = []
  c.multiDirty = false
  return OK
}

const exec: Handler = (c) => {
  if (c.multi === null) return new ErrorReply('ERR EXEC without MULTI')
  const queued = c.multi
  if (c.multiDirty) {
    discardTransaction(c)
    return new ErrorReply('EXECABORT Transaction discarded because of previous errors.')
  }
  if (c.watchDirty) {
    discardTransaction(c)
    return NULL_ARRAY
  }
  // Unwatch first (as Valkey does) so the transaction's own writes don't flag this client.
  c.node.unwatchAll(c)
  c.multi = null
  const replies: Reply[] = new Array(queued.length)
  withFrozenTime(c.node, () => {
    for (let i = 0; i < queued.length; i++) {
      const {cmd, argv} = queued[i]
      // Valkey checks ACL again at EXEC, in case the user's rules changed after queueing.
      const denied = c.user.unrestricted ? null : checkCommand(c.user, c, cmd, argv)
      if (denied !== null) {
        c.node.acl.logDenial(c, denied.reason, 'multi', denied.object, c.user)
        replies[i] = new ErrorReply(
          'NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. ' +
            `This command is no longer allowed for the following reason: ${EXEC_DENIAL[denied.reason] ?? 'no permission'}`,
        )
      } else replies[i] = call(c, cmd, argv)
    }
  })
  return replies
}

const discard: Handler = (c) => {
  if (c.multi === null) return new ErrorReply('ERR DISCARD without MULTI')
  discardTransaction(c)
  return OK
}

const watch: Handler = (c, argv) => {
  if (c.multi !== null) return new ErrorReply('ERR WATCH inside MULTI is not allowed')
  for (let i = 1; i < argv.length; i++) c.node.watch(c, c.db, argv[i])
  return OK
}

const unwatch: Handler = (c) => {
  c.node.unwatchAll(c)
  return OK
}

export const transactionHandlers: Record<string, Handler> = {multi, exec, discard, watch, unwatch}
