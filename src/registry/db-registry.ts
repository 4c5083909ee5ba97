// Names and leases of databases, kept in the metadata db so every job on every machine that talks
// to the same server sees the same registry. Every key carries the {flip} hash tag: one slot, one
// node decides, and each change is one small Lua script there (two jobs never get the same db).
//
//   {flip}:db:names    HASH  lower-case name -> db
//   {flip}:db:named    HASH  db -> name as given
//   {flip}:db:leases   HASH  db -> lease record (JSON written by flip; no secret in it)
//   {flip}:db:tokens   HASH  db -> sha256 of the lease token (the holder's proof)
//   {flip}:db:expiry   ZSET  db scored by expiry (ms): reaping takes the head, never a scan
//   {flip}:db:free     ZSET  dbs handed out before and free again, scored by db
//   {flip}:db:cursors  HASH  "from-to" -> the next db of that range never handed out
//
// Choosing a db costs O(log n): the lowest free db of the range (ZRANGEBYSCORE … LIMIT), else
// the range's cursor, which only moves past dbs that are leased, named or role dbs (a skipped
// role db goes to the free set, so it is found again if it stops being one). The server's clock
// (TIME) decides expiry, so machines with skewed clocks agree.
import {createHash} from 'node:crypto'
import type {Plane} from '../plane/index.js'
import {RespError} from '../plane/index.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import {keySlot} from '../util/keyslot.js'
import {META_TAG} from './meta-store.js'

const KEY = {
  names: `${META_TAG}:db:names`,
  named: `${META_TAG}:db:named`,
  leases: `${META_TAG}:db:leases`,
  tokens: `${META_TAG}:db:tokens`,
  expiry: `${META_TAG}:db:expiry`,
  free: `${META_TAG}:db:free`,
  cursors: `${META_TAG}:db:cursors`,
} as const
const ALL_KEYS = [KEY.names, KEY.named, KEY.leases, KEY.tokens, KEY.expiry, KEY.free, KEY.cursors]
const SLOT = keySlot(META_TAG)

/** What a lease record holds (stored as JSON; the token itself is never stored). */
export interface LeaseRecord {
  label?: string
  holder: string
  createdAt: string
  /** The ACL user made for it, if any (its password is never stored). */
  user?: string
}

export interface Lease extends LeaseRecord {
  db: number
  expiresAt: string
}

export interface Reaped {
  db: number
  record?: LeaseRecord
}

export type LeaseOutcome =
  | {ok: true; db: number; expiresAt: number; reaped: Reaped[]}
  | {ok: false; leased: number; earliestExpiry?: number; reaped: Reaped[]}

// Shared by every script: key type checks (tampered keys are refused by name) and the clock.
const PRELUDE = `
local want = {'hash', 'hash', 'hash', 'hash', 'zset', 'zset', 'hash'}
for i = 1, 7 do
  local t = redis.call('TYPE', KEYS[i])['ok']
  if t ~= 'none' and t ~= want[i] then return redis.error_reply('FLIPTAMPERED ' .. KEYS[i] .. ' is a ' .. t .. ', expected a ' .. want[i]) end
end
local function int(value, key)
  local n = tonumber(value)
  if n == nil or n ~= math.floor(n) then error({err = 'FLIPTAMPERED ' .. key .. ' holds ' .. tostring(value) .. ', expected a db number'}) end
  return n
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function reap(limit)
  local out = {}
  local due = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, limit)
  for _, db in ipairs(due) do
    local record = redis.call('HGET', KEYS[3], db)
    redis.call('HDEL', KEYS[3], db)
    redis.call('HDEL', KEYS[4], db)
    redis.call('ZREM', KEYS[5], db)
    if redis.call('HEXISTS', KEYS[2], db) == 0 then redis.call('ZADD', KEYS[6], int(db, KEYS[5]), db) end
    table.insert(out, db)
    table.insert(out, record or '')
  end
  return out
end
`

// ARGV: from, to, ttl ms, record, token hash, reap limit, role dbs (comma list).
const LEASE_SCRIPT = `${PRELUDE}
local from, to, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local reaped = reap(tonumber(ARGV[6]))
local roles = {}
for db in string.gmatch(ARGV[7], '[^,]+') do roles[db] = true end
local function usable(db)
  return not roles[db] and redis.call('HEXISTS', KEYS[2], db) == 0 and redis.call('HEXISTS', KEYS[3], db) == 0
end
local chosen = nil
-- The lowest free db of the range; stale entries (named or leased since) are dropped on the way.
local tries = 0
while chosen == nil and tries < 64 do
  tries = tries + 1
  local batch = redis.call('ZRANGEBYSCORE', KEYS[6], from, to, 'LIMIT', 0, 16)
  if #batch == 0 then break end
  local dropped = 0
  for _, db in ipairs(batch) do
    if usable(db) then chosen = db break end
    if not roles[db] then redis.call('ZREM', KEYS[6], db) dropped = dropped + 1 end
  end
  if chosen == nil and dropped == 0 then break end
end
if chosen == nil then
  local field = ARGV[1] .. '-' .. ARGV[2]
  local stored = redis.call('HGET', KEYS[7], field)
  local cursor = stored and int(stored, KEYS[7]) or from
  local steps = 0
  while chosen == nil and cursor <= to and steps < 10000 do
    local db = tostring(cursor)
    if usable(db) then chosen = db
    elseif roles[db] then redis.call('ZADD', KEYS[6], cursor, db) end
    cursor = cursor + 1
    steps = steps + 1
  end
  redis.call('HSET', KEYS[7], field, cursor)
  if chosen == nil and cursor <= to then return {'again', reaped} end
end
if chosen == nil then
  local first = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
  return {'full', reaped, redis.call('HLEN', KEYS[3]), first[2] or ''}
end
redis.call('ZREM', KEYS[6], chosen)
redis.call('HSET', KEYS[3], chosen, ARGV[4])
redis.call('HSET', KEYS[4], chosen, ARGV[5])
redis.call('ZADD', KEYS[5], now + ttl, chosen)
return {'ok', reaped, chosen, tostring(now + ttl)}
`

// ARGV: reap limit.
const REAP_SCRIPT = `${PRELUDE}
return reap(tonumber(ARGV[1]))
`

// ARGV: db, token hash ('' with force), ttl ms. Replies: {'ok', expiry} | {'none'} | {'notyours'}.
const RENEW_SCRIPT = `${PRELUDE}
local score = redis.call('ZSCORE', KEYS[5], ARGV[1])
if not score or tonumber(score) <= now then return {'none'} end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return {'notyours'} end
redis.call('ZADD', KEYS[5], now + tonumber(ARGV[3]), ARGV[1])
return {'ok', tostring(now + tonumber(ARGV[3]))}
`

// Step 1 of a release: the holder (or --force) takes the lease out of reach of its token and gives
// it a short expiry, so a release that dies before step 2 is reaped like any expired lease.
// ARGV: db, token hash ('' with force), grace ms, new token hash. Replies: {'ok', record} | {'none'} | {'notyours'}.
const CLAIM_SCRIPT = `${PRELUDE}
local score = redis.call('ZSCORE', KEYS[5], ARGV[1])
if not score then return {'none'} end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return {'notyours'} end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[5], now + tonumber(ARGV[3]), ARGV[1])
return {'ok', redis.call('HGET', KEYS[3], ARGV[1]) or ''}
`

// Step 2, after the db was flushed: free it, if the claim is still ours. ARGV: db, claim token hash.
const FREE_SCRIPT = `${PRELUDE}
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then redis.call('ZADD', KEYS[6], tonumber(ARGV[1]), ARGV[1]) end
return 1
`

// ARGV: key (lower case), name as given, db. Replies: {'ok'} | {'taken', db} | {'named', name} | {'leased'}.
const NAME_SCRIPT = `${PRELUDE}
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  int(current, KEYS[1])
  if current == ARGV[3] then return {'ok'} end
  return {'taken', current}
end
local other = redis.call('HGET', KEYS[2], ARGV[3])
if other then return {'named', other} end
if redis.call('HEXISTS', KEYS[3], ARGV[3]) == 1 then return {'leased'} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
redis.call('ZREM', KEYS[6], ARGV[3])
return {'ok'}
`

// ARGV: key (lower case). Replies: the db it named, or false.
const UNNAME_SCRIPT = `${PRELUDE}
local db = redis.call('HGET', KEYS[1], ARGV[1])
if not db then return false end
int(db, KEYS[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], db)
if redis.call('HEXISTS', KEYS[3], db) == 0 then redis.call('ZADD', KEYS[6], tonumber(db), db) end
return db
`

const REAP_LIMIT = 100

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** The registry on a plane bound to the metadata db. */
export class DbRegistry {
  constructor(private readonly plane: Plane) {}

  get db(): number {
    return this.plane.db
  }

  /** Reaps expired leases, then takes the lowest usable db of [from, to]. */
  async lease(options: {from: number; to: number; ttlMs: number; record: LeaseRecord; tokenHash: string; roles: number[]}): Promise<LeaseOutcome> {
    const reaped: Reaped[] = []
    for (;;) {
      const reply = (await this.script(LEASE_SCRIPT, [options.from, options.to, options.ttlMs, JSON.stringify(options.record), options.tokenHash, REAP_LIMIT, options.roles.join(',')])) as unknown[]
      reaped.push(...this.reapedOf(reply[1]))
      const kind = String(reply[0])
      if (kind === 'ok') return {ok: true, db: Number(String(reply[2])), expiresAt: Number(String(reply[3])), reaped}
      if (kind === 'full') {
        const earliest = String(reply[3])
        return {ok: false, leased: Number(reply[2]), earliestExpiry: earliest === '' ? undefined : Number(earliest), reaped}
      }
      // 'again': the cursor moved a long way past taken dbs; the next call goes on from there.
    }
  }

  /** Releases every expired lease (at most `limit` per call, repeated until none is left). */
  async reap(): Promise<Reaped[]> {
    const all: Reaped[] = []
    for (;;) {
      const batch = this.reapedOf(await this.script(REAP_SCRIPT, [REAP_LIMIT]))
      all.push(...batch)
      if (batch.length < REAP_LIMIT) return all
    }
  }

  async renew(db: number, tokenHash: string | undefined, ttlMs: number): Promise<{ok: true; expiresAt: number} | {ok: false; why: 'none' | 'notyours'}> {
    const reply = (await this.script(RENEW_SCRIPT, [db, tokenHash ?? '', ttlMs])) as unknown[]
    const kind = String(reply[0])
    if (kind === 'ok') return {ok: true, expiresAt: Number(String(reply[1]))}
    return {ok: false, why: kind as 'none' | 'notyours'}
  }

  /** Release step 1 (see CLAIM_SCRIPT); the caller flushes the db, then calls free(). */
  async claim(db: number, tokenHash: string | undefined, claimHash: string, graceMs: number): Promise<{ok: true; record?: LeaseRecord} | {ok: false; why: 'none' | 'notyours'}> {
    const reply = (await this.script(CLAIM_SCRIPT, [db, tokenHash ?? '', graceMs, claimHash])) as unknown[]
    const kind = String(reply[0])
    if (kind === 'ok') return {ok: true, record: this.parseRecord(String(reply[1]), db)}
    return {ok: false, why: kind as 'none' | 'notyours'}
  }

  /** Release step 2: false when the claim expired meanwhile (the lease was reaped instead). */
  async free(db: number, claimHash: string): Promise<boolean> {
    return (await this.script(FREE_SCRIPT, [db, claimHash])) === 1
  }

  async name(name: string, db: number): Promise<{ok: true} | {ok: false; why: 'taken'; db: number} | {ok: false; why: 'named'; name: string} | {ok: false; why: 'leased'}> {
    const reply = (await this.script(NAME_SCRIPT, [name.toLowerCase(), name, db])) as unknown[]
    const kind = String(reply[0])
    if (kind === 'ok') return {ok: true}
    if (kind === 'taken') return {ok: false, why: 'taken', db: Number(String(reply[1]))}
    if (kind === 'named') return {ok: false, why: 'named', name: String(reply[1])}
    return {ok: false, why: 'leased'}
  }

  /** The db the name was given to, or undefined when there was no such name. */
  async unname(name: string): Promise<number | undefined> {
    const reply = await this.script(UNNAME_SCRIPT, [name.toLowerCase()])
    return reply === null || reply === 0 ? undefined : Number(String(reply))
  }

  /** Every name with its db, by name. */
  async names(): Promise<Array<{name: string; db: number}>> {
    const flat = (await this.call(['HGETALL', KEY.named])) as Buffer[]
    const out: Array<{name: string; db: number}> = []
    for (let i = 0; i < flat.length; i += 2) out.push({name: flat[i + 1].toString(), db: this.dbOf(flat[i], KEY.named)})
    return out.sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
  }

  /** The db of a name (case-insensitive), or undefined. */
  async lookup(name: string): Promise<number | undefined> {
    const reply = await this.call(['HGET', KEY.names, name.toLowerCase()])
    return reply === null ? undefined : this.dbOf(reply as Buffer, KEY.names)
  }

  /** Every lease (expired ones not reaped yet included), by db. */
  async leases(): Promise<Array<Lease & {expired: boolean}>> {
    const [flat, scores, clock] = await Promise.all([this.call(['HGETALL', KEY.leases]), this.call(['ZRANGE', KEY.expiry, 0, -1, 'WITHSCORES']), this.call(['TIME'])])
    const now = Number(String((clock as Buffer[])[0])) * 1000 + Math.floor(Number(String((clock as Buffer[])[1])) / 1000)
    const expiry = new Map<string, number>()
    const pairs = scores as Buffer[]
    for (let i = 0; i < pairs.length; i += 2) expiry.set(pairs[i].toString(), Number(pairs[i + 1].toString()))
    const records = flat as Buffer[]
    const out: Array<Lease & {expired: boolean}> = []
    for (let i = 0; i < records.length; i += 2) {
      const db = this.dbOf(records[i], KEY.leases)
      const at = expiry.get(String(db))
      if (at === undefined) throw tampered(KEY.expiry, this.db, `db ${db} is leased in ${KEY.leases} but has no expiry`)
      out.push({db, ...this.parseRecord(records[i + 1].toString(), db)!, expiresAt: new Date(at).toISOString(), expired: at <= now})
    }
    return out.sort((a, b) => a.db - b.db)
  }

  private reapedOf(reply: unknown): Reaped[] {
    const flat = (reply as Buffer[]) ?? []
    const out: Reaped[] = []
    for (let i = 0; i < flat.length; i += 2) {
      const db = Number(String(flat[i]))
      out.push({db, record: this.parseRecord(String(flat[i + 1]), db)})
    }
    return out
  }

  private parseRecord(raw: string, db: number): LeaseRecord | undefined {
    if (raw === '') return undefined
    try {
      const record = JSON.parse(raw) as LeaseRecord
      if (typeof record?.holder === 'string') return record
    } catch {
      // fall through
    }
    throw tampered(`${KEY.leases}`, this.db, `field ${db} is not a lease record`)
  }

  private dbOf(raw: Buffer, key: string): number {
    const text = raw.toString()
    if (!/^\d+$/.test(text)) throw tampered(key, this.db, `"${text}" is not a db number`)
    return Number(text)
  }

  /**
   * EVALSHA first: every lease, renew and release runs a script of a few KB, and sending its
   * digest spares the server parsing and hashing the body each time. EVAL when the server does
   * not have it yet (NOSCRIPT) or the user may not run EVALSHA (NOPERM).
   */
  private async script(source: string, args: Array<string | number>): Promise<unknown> {
    const rest = [ALL_KEYS.length, ...ALL_KEYS, ...args]
    const [reply] = await this.plane.execute([{argv: ['EVALSHA', sha1Of(source), ...rest], slot: SLOT}])
    if (reply instanceof RespError && /^(NOSCRIPT|NOPERM)/.test(reply.message)) return this.call(['EVAL', source, ...rest])
    return this.replyOf(reply, 'EVALSHA')
  }

  private async call(argv: Array<string | number>): Promise<unknown> {
    const [reply] = await this.plane.execute([{argv, slot: SLOT}])
    return this.replyOf(reply, String(argv[0]))
  }

  private replyOf(reply: unknown, command: string): unknown {
    if (reply instanceof RespError) {
      const damaged = /FLIPTAMPERED (\S+) (.*?)(?: script:.*)?$/.exec(reply.message)
      if (damaged) throw tampered(damaged[1], this.db, damaged[2])
      throw new FlipError(`the metadata db ${this.db} refused ${command} on ${KEY.leases.split(':')[0]}: ${reply.message}`, EXIT.checkFailed)
    }
    return reply
  }
}

const digests = new Map<string, string>()

function sha1Of(source: string): string {
  let digest = digests.get(source)
  if (digest === undefined) digests.set(source, (digest = createHash('sha1').update(source).digest('hex')))
  return digest
}

function tampered(key: string, db: number, why: string): FlipError {
  return new FlipError(`the metadata db ${db} holds a damaged ${key} (${why}): repair or delete that key, or point --meta-db at another db`, EXIT.checkFailed)
}
