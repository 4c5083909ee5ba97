// MULTI / EXEC / DISCARD / WATCH / UNWATCH (Valkey multi.c). Queueing itself happens in dispatch.
import {ErrorReply, NULL_ARRAY, OK, type Reply} from '../resp/reply.js'
import {call, discardTransaction} from '../executor.js'
import {withFrozenTime} from '../node.js'
import type {Handler} from './command.js'

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
    for (let i = 0; i < queued.length; i++) replies[i] = call(c, queued[i].cmd, queued[i].argv)
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
