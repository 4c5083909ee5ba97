// A tiny ScriptHost over in-memory Maps, enough to exercise the Lua bridge: the real engine
// supplies its own host (its keyspace, cluster checks and error wording).
import {
  DoubleReply,
  ErrorReply,
  MapReply,
  NULL_ARRAY,
  OK,
  PONG,
  SetReply,
  type Reply,
} from '../../../src/engine/resp/reply.js'
import type {ScriptHost} from '../../../src/engine/scripting/index.js'

export const DATABASES = 16

/** Keys starting with this prefix behave as if another cluster node owned them. */
export const REMOTE_PREFIX = 'remote:'

export class MemoryHost implements ScriptHost {
  readonly dbs: Array<Map<string, Buffer>> = Array.from({length: DATABASES}, () => new Map())
  /** Every argv the script sent, as received (to check bytes arrive unchanged). */
  readonly calls: Buffer[][] = []
  selected = 0

  /** Keys are stored by their bytes (latin1 maps each byte to one char, losslessly). */
  static id(key: Buffer): string {
    return key.toString('latin1')
  }

  db(n = this.selected): Map<string, Buffer> {
    return this.dbs[n]
  }

  call(argv: Buffer[]): Reply {
    this.calls.push(argv)
    const name = argv[0].toString('latin1').toUpperCase()
    const args = argv.slice(1)
    for (const key of keyArgs(name, args)) {
      if (MemoryHost.id(key).startsWith(REMOTE_PREFIX)) {
        return new ErrorReply('ERR Attempted to access a non local key in a cluster node')
      }
    }
    switch (name) {
      case 'PING':
        return PONG
      case 'SET':
        this.db().set(MemoryHost.id(args[0]), Buffer.from(args[1]))
        return OK
      case 'GET':
        return this.db().get(MemoryHost.id(args[0])) ?? null
      case 'MGET':
        return args.map((key) => this.db().get(MemoryHost.id(key)) ?? null)
      case 'DEL':
        return args.filter((key) => this.db().delete(MemoryHost.id(key))).length
      case 'INCR': {
        const next = Number(this.db().get(MemoryHost.id(args[0])) ?? '0') + 1
        this.db().set(MemoryHost.id(args[0]), Buffer.from(String(next)))
        return next
      }
      case 'SELECT': {
        const n = Number(args[0].toString())
        if (!Number.isInteger(n)) return new ErrorReply('ERR value is not an integer or out of range')
        if (n < 0 || n >= DATABASES) return new ErrorReply('ERR DB index is out of range')
        this.selected = n
        return OK
      }
      case 'MOVE': {
        const target = Number(args[1].toString())
        if (!Number.isInteger(target) || target < 0 || target >= DATABASES) {
          return new ErrorReply('ERR DB index is out of range')
        }
        if (target === this.selected) return new ErrorReply('ERR source and destination objects are the same')
        const key = MemoryHost.id(args[0])
        const value = this.db().get(key)
        if (value === undefined || this.db(target).has(key)) return 0
        this.db().delete(key)
        this.db(target).set(key, value)
        return 1
      }
      case 'TIME':
        return [Buffer.from('1700000000'), Buffer.from('123456')]
      // Replies of the RESP3 kinds, as handlers return them whatever the client's protocol.
      case 'FAKE.DOUBLE':
        return new DoubleReply(Number(args[0].toString()))
      case 'FAKE.MAP':
        return new MapReply([
          [Buffer.from('field'), Buffer.from('value')],
          [Buffer.from('n'), 7],
        ])
      case 'FAKE.SET':
        return new SetReply([Buffer.from('only')])
      case 'FAKE.NULLARRAY':
        return NULL_ARRAY
      case 'FAKE.TEXT':
        return 'plain text'
      case 'FAKE.NESTED':
        return [1, [Buffer.from('a'), null], []]
      default:
        return new ErrorReply(`ERR unknown command '${argv[0].toString()}', with args beginning with: `)
    }
  }
}

function keyArgs(name: string, args: Buffer[]): Buffer[] {
  switch (name) {
    case 'SET':
    case 'GET':
    case 'INCR':
    case 'MOVE':
      return args.slice(0, 1)
    case 'MGET':
    case 'DEL':
      return args
    default:
      return []
  }
}
