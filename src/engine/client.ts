// One connected client (or the fake client a script runs as): its db, protocol, auth, MULTI
// queue and WATCHed keys, plus the output buffer its replies are encoded into.
import type {AclUser} from './acl/user.js'
import type {Command} from './commands/command.js'
import type {Db} from './keyspace/db.js'
import type {EngineNode} from './node.js'
import {ReplyWriter} from './resp/encoder.js'

export interface QueuedCommand {
  cmd: Command
  argv: string[]
  /** Slot of its keys, found when it was queued (cluster mode); -1 = no keys, NOT_ROUTED = not computed. */
  slot: number
}

export const NOT_ROUTED = -2

export class Client {
  readonly id: number
  db: Db
  resp = 2
  name = ''
  libName = ''
  libVersion = ''
  /** The ACL user this connection runs as (default until AUTH / HELLO AUTH). */
  user: AclUser
  authenticated: boolean
  /** Drops the connection now (ACL DELUSER of its user); null for the script client. */
  kill: (() => void) | null = null
  /** Bytes held in this connection's input and output buffers (INFO mem_clients_normal). */
  bufferBytes: () => number = () => 0
  multi: QueuedCommand[] | null = null
  /** A command was rejected while queueing: EXEC must fail with EXECABORT. */
  multiDirty = false
  /** A WATCHed key changed: EXEC must return a null array. */
  watchDirty = false
  watched: Array<{db: Db; key: string}> = []
  closeAfterReply = false
  readonlyMode = false
  readonly createdAt = Date.now()
  lastInteraction = Date.now()
  lastCommand = 'NULL'
  commandsProcessed = 0
  readonly writer: ReplyWriter

  constructor(
    readonly node: EngineNode,
    readonly address: string,
    readonly localAddress: string,
    /** The fake client scripts use does not count in CLIENT LIST. */
    readonly fake = false,
  ) {
    this.id = node.nextClientId++
    this.db = node.keyspace.db(0)
    this.user = node.acl.defaultUser
    this.authenticated = node.acl.defaultLoginFree
    this.writer = new ReplyWriter(fake ? 256 : 16 * 1024)
  }
}
