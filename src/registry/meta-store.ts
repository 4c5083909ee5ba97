// What flip keeps on the server, in the metadata database, so that any machine can pick up where
// another left off: documents (manifests, plan summaries) by kind and id, with a small index per
// kind to find the newest. Every key carries the hash tag {flip}: one slot, so one node decides
// and one script writes a document, its index entry and the pruning of old ones, all or nothing.
// Nothing here is a secret: callers store what they already write to the state directory.
import type {Plane} from '../plane/index.js'
import {RespError} from '../plane/index.js'
import {FlipError, EXIT} from '../util/exit-codes.js'
import {keySlot} from '../util/keyslot.js'

export const META_TAG = '{flip}'
const META_SLOT = keySlot(META_TAG)

/** 'plan-keys': a move/atomic plan's staged key names (what rollback needs), apart so plan updates stay small. */
export type DocumentKind = 'manifest' | 'plan' | 'plan-keys'

/** A document's index entry: its id, when it was written, and what a listing needs without the document. */
export interface IndexEntry<S = Record<string, unknown>> {
  id: string
  at: string
  summary: S
}

/** How many documents of a kind are kept (the oldest go first). */
export const KEEP_PER_KIND = 100

// KEYS: document, index hash, order zset. ARGV: id, document, entry, time (ms), keep, document key prefix.
const PUT_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
local extra = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[3], 0, extra - 1)
  for _, id in ipairs(old) do
    redis.call('DEL', ARGV[6] .. id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
  end
  return extra
end
return 0
`

export class MetaStore {
  constructor(
    /** A plane bound to the metadata db. */
    private readonly plane: Plane,
  ) {}

  get db(): number {
    return this.plane.db
  }

  /** Closes the plane it was given. */
  close(): Promise<void> {
    return this.plane.close()
  }

  /** Writes a document and its index entry in one script; prunes the oldest beyond KEEP_PER_KIND. */
  async put<S extends Record<string, unknown>>(kind: DocumentKind, id: string, document: object, summary: S, at: Date = new Date(), keep = KEEP_PER_KIND): Promise<void> {
    const keys = keysOf(kind)
    const entry: IndexEntry<S> = {id, at: at.toISOString(), summary}
    const reply = await this.call(['EVAL', PUT_SCRIPT, 3, keys.document(id), keys.index, keys.order, id, JSON.stringify(document), JSON.stringify(entry), at.getTime(), keep, keys.document('')])
    if (reply instanceof RespError) throw new FlipError(`cannot write ${kind} ${id} to the metadata db ${this.db}: ${reply.message}`, EXIT.checkFailed)
  }

  /** The document, or undefined when the server has none by that id. */
  async get<T>(kind: DocumentKind, id: string): Promise<T | undefined> {
    const key = keysOf(kind).document(id)
    const reply = await this.call(['GET', key])
    if (reply instanceof RespError) throw new FlipError(`cannot read ${key} from the metadata db ${this.db}: ${reply.message}`, EXIT.checkFailed)
    if (reply === null) return undefined
    return parseStored<T>(reply as Buffer, key, this.db)
  }

  /** Index entries of a kind, newest first. */
  async list<S = Record<string, unknown>>(kind: DocumentKind): Promise<Array<IndexEntry<S>>> {
    const key = keysOf(kind).index
    const reply = await this.call(['HGETALL', key])
    if (reply instanceof RespError) throw new FlipError(`cannot read ${key} from the metadata db ${this.db}: ${reply.message}`, EXIT.checkFailed)
    const flat = reply as Buffer[]
    const entries: Array<IndexEntry<S>> = []
    for (let i = 0; i < flat.length; i += 2) {
      const entry = parseStored<IndexEntry<S>>(flat[i + 1], `${key} field ${flat[i].toString()}`, this.db)
      if (typeof entry?.id !== 'string' || typeof entry.at !== 'string') throw tampered(`${key} field ${flat[i].toString()}`, this.db, 'not an index entry')
      entries.push(entry)
    }
    return entries.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.id < b.id ? 1 : -1))
  }

  /** One command on the node of the {flip} slot, following MOVED/ASK; an error reply comes back as a RespError. */
  private async call(argv: Array<string | number>) {
    const [reply] = await this.plane.execute([{argv, slot: META_SLOT}])
    return reply
  }
}

function keysOf(kind: DocumentKind) {
  return {
    document: (id: string) => `${META_TAG}:${kind}:${id}`,
    index: `${META_TAG}:${kind}s:index`,
    order: `${META_TAG}:${kind}s:order`,
  }
}

function parseStored<T>(raw: Buffer, key: string, db: number): T {
  try {
    return JSON.parse(raw.toString('utf8')) as T
  } catch {
    throw tampered(key, db, 'not valid JSON')
  }
}

function tampered(key: string, db: number, why: string): FlipError {
  return new FlipError(`the metadata db ${db} holds a damaged ${key} (${why}): delete that key, or point --meta-db at another db`, EXIT.checkFailed)
}
