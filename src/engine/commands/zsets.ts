// Sorted set commands (Valkey t_zset.c): ZADD with all its flags, ranges by rank/score/lex.
import type {Client} from '../client.js'
import {ZSet, type ZEntry} from '../keyspace/values.js'
import {DoubleReply, ErrorReply, type Reply} from '../resp/reply.js'
import type {Handler} from './command.js'
import {scanCollection} from './scan.js'
import {NOT_FLOAT, NOT_INTEGER, SYNTAX, clampRange, dropIfEmpty, isError, lookupZSet, parseDouble, parseInteger} from './util.js'

const zadd: Handler = (c, argv) => {
  let nx = false
  let xx = false
  let gt = false
  let lt = false
  let ch = false
  let incr = false
  let i = 2
  for (; i < argv.length; i++) {
    const opt = argv[i].toLowerCase()
    if (opt === 'nx') nx = true
    else if (opt === 'xx') xx = true
    else if (opt === 'gt') gt = true
    else if (opt === 'lt') lt = true
    else if (opt === 'ch') ch = true
    else if (opt === 'incr') incr = true
    else break
  }
  const pairs = argv.length - i
  if (pairs === 0 || pairs % 2 !== 0) return SYNTAX
  if (nx && xx) return new ErrorReply('ERR XX and NX options at the same time are not compatible')
  if ((gt && nx) || (lt && nx) || (gt && lt)) return new ErrorReply('ERR GT, LT, and/or NX options at the same time are not compatible')
  if (incr && pairs > 2) return new ErrorReply('ERR INCR option supports a single increment-element pair')
  const scores: number[] = []
  for (let j = i; j < argv.length; j += 2) {
    const score = parseDouble(argv[j])
    if (score === null) return NOT_FLOAT
    scores.push(score)
  }
  const found = lookupZSet(c.db, argv[1])
  if (isError(found)) return found
  let zset = found
  if (zset === undefined) {
    if (xx) return incr ? null : 0
    zset = new ZSet()
    c.db.set(argv[1], zset)
  }
  let added = 0
  let changed = 0
  let incrResult: number | null = null
  for (let j = i, k = 0; j < argv.length; j += 2, k++) {
    const member = argv[j + 1]
    let score = scores[k]
    const old = zset.scores.get(member)
    if (old !== undefined) {
      if (nx) continue
      if (incr) {
        score = old + score
        if (Number.isNaN(score)) {
          dropIfEmpty(c.db, argv[1], zset)
          return new ErrorReply('ERR resulting score is not a number (NaN)')
        }
      }
      if ((gt && score <= old) || (lt && score >= old)) continue
      if (score !== old) {
        zset.set(member, score)
        changed++
      }
      incrResult = score
    } else {
      if (xx) continue
      zset.set(member, score)
      added++
      incrResult = score
    }
  }
  dropIfEmpty(c.db, argv[1], zset)
  if (incr) return incrResult === null ? null : new DoubleReply(incrResult)
  return ch ? added + changed : added
}

const zincrby: Handler = (c, argv) => {
  const by = parseDouble(argv[2])
  if (by === null) return NOT_FLOAT
  const found = lookupZSet(c.db, argv[1])
  if (isError(found)) return found
  const zset = found ?? new ZSet()
  const score = (zset.scores.get(argv[3]) ?? 0) + by
  if (Number.isNaN(score)) return new ErrorReply('ERR resulting score is not a number (NaN)')
  if (found === undefined) c.db.set(argv[1], zset)
  zset.set(argv[3], score)
  return new DoubleReply(score)
}

const zrem: Handler = (c, argv) => {
  const zset = lookupZSet(c.db, argv[1])
  if (isError(zset)) return zset
  if (zset === undefined) return 0
  let removed = 0
  for (let i = 2; i < argv.length; i++) if (zset.delete(argv[i])) removed++
  dropIfEmpty(c.db, argv[1], zset)
  return removed
}

const zscore: Handler = (c, argv) => {
  const zset = lookupZSet(c.db, argv[1])
  if (isError(zset)) return zset
  const score = zset?.scores.get(argv[2])
  return score === undefined ? null : new DoubleReply(score)
}

const zmscore: Handler = (c, argv) => {
  const zset = lookupZSet(c.db, argv[1])
  if (isError(zset)) return zset
  const out: Reply[] = []
  for (let i = 2; i < argv.length; i++) {
    const score = zset?.scores.get(argv[i])
    out.push(score === undefined ? null : new DoubleReply(score))
  }
  return out
}

const zcard: Handler = (c, argv) => {
  const zset = lookupZSet(c.db, argv[1])
  if (isError(zset)) return zset
  return zset?.size ?? 0
}

function rankCommand(reverse: boolean): Handler {
  return (c, argv) => {
    let withScore = false
    if (argv.length === 4) {
      if (argv[3].toLowerCase() !== 'withscore') return SYNTAX
      withScore = true
    } else if (argv.length > 4) return SYNTAX
    const zset = lookupZSet(c.db, argv[1])
    if (isError(zset)) return zset
    if (zset === undefined) return withScore ? null : null
    const rank = zset.rank(argv[2])
    if (rank < 0) return null
    const r = reverse ? zset.size - 1 - rank : rank
    return withScore ? [r, new DoubleReply(zset.scores.get(argv[2])!)] : r
  }
}

interface ScoreBound {
  value: number
  exclusive: boolean
}

function parseScoreBound(text: string): ScoreBound | null {
  const exclusive = text.startsWith('(')
  const value = parseDouble(exclusive ? text.slice(1) : text)
  return value === null ? null : {value, exclusive}
}

interface LexBound {
  value: string
  exclusive: boolean
  /** -1 = minus infinity, 1 = plus infinity, 0 = a real string. */
  infinity: -1 | 0 | 1
}

function parseLexBound(text: string): LexBound | null {
  if (text === '-') return {value: '', exclusive: false, infinity: -1}
  if (text === '+') return {value: '', exclusive: false, infinity: 1}
  if (text.startsWith('(')) return {value: text.slice(1), exclusive: true, infinity: 0}
  if (text.startsWith('[')) return {value: text.slice(1), exclusive: false, infinity: 0}
  return null
}

function aboveMin(score: number, min: ScoreBound): boolean {
  return min.exclusive ? score > min.value : score >= min.value
}
function belowMax(score: number, max: ScoreBound): boolean {
  return max.exclusive ? score < max.value : score <= max.value
}
function lexAboveMin(member: string, min: LexBound): boolean {
  if (min.infinity !== 0) return min.infinity < 0
  return min.exclusive ? member > min.value : member >= min.value
}
function lexBelowMax(member: string, max: LexBound): boolean {
  if (max.infinity !== 0) return max.infinity > 0
  return max.exclusive ? member < max.value : member <= max.value
}

interface RangeRequest {
  by: 'rank' | 'score' | 'lex'
  reverse: boolean
  withScores: boolean
  offset: number
  count: number
  start: string
  stop: string
}

/** Shared core of ZRANGE and its older variants (Valkey's zrangeGenericCommand). */
function zrangeGeneric(c: Client, key: string, req: RangeRequest): Reply {
  let selected: ZEntry[]
  if (req.by === 'rank') {
    const start = parseInteger(req.start)
    const stop = parseInteger(req.stop)
    if (start === null || stop === null) return NOT_INTEGER
    const found = lookupZSet(c.db, key)
    if (isError(found)) return found
    if (found === undefined) return []
    const n = found.size
    const range = clampRange(start, stop, n)
    if (range === null) return []
    if (req.reverse) selected = found.range(n - 1 - range[1], n - range[0]).reverse()
    else selected = found.range(range[0], range[1] + 1)
  } else if (req.by === 'score') {
    const min = parseScoreBound(req.reverse ? req.stop : req.start)
    const max = parseScoreBound(req.reverse ? req.start : req.stop)
    if (min === null || max === null) return new ErrorReply('ERR min or max is not a float')
    const found = lookupZSet(c.db, key)
    if (isError(found)) return found
    if (found === undefined) return []
    selected = limitedRange(found, scoreRanks(found, min, max), req)
  } else {
    const min = parseLexBound(req.reverse ? req.stop : req.start)
    const max = parseLexBound(req.reverse ? req.start : req.stop)
    if (min === null || max === null) return new ErrorReply('ERR min or max not valid string range item')
    const found = lookupZSet(c.db, key)
    if (isError(found)) return found
    if (found === undefined) return []
    selected = limitedRange(found, lexRanks(found, min, max), req)
  }
  return withScoresReply(c, selected, req.withScores)
}

/** Ranks [from, to) of the entries with scores within [min, max], by binary search. */
function scoreRanks(zset: ZSet, min: ScoreBound, max: ScoreBound): [number, number] {
  const from = zset.countWhile((e) => !aboveMin(e.score, min))
  const to = zset.countWhile((e) => belowMax(e.score, max))
  return [from, Math.max(from, to)]
}

/** The same for members within a lex range (meaningful when all scores are equal, as in Valkey). */
function lexRanks(zset: ZSet, min: LexBound, max: LexBound): [number, number] {
  const from = zset.countWhile((e) => !lexAboveMin(e.member, min))
  const to = zset.countWhile((e) => lexBelowMax(e.member, max))
  return [from, Math.max(from, to)]
}

/** The part of ranks [from, to) that LIMIT offset count selects, walking backwards for REV. */
function limitedRange(zset: ZSet, [from, to]: [number, number], req: RangeRequest): ZEntry[] {
  if (req.offset < 0) return []
  const available = Math.max(0, to - from - req.offset)
  const take = req.count < 0 ? available : Math.min(req.count, available)
  if (take === 0) return []
  if (req.reverse) return zset.range(to - req.offset - take, to - req.offset).reverse()
  return zset.range(from + req.offset, from + req.offset + take)
}

function withScoresReply(c: Client, entries: ZEntry[], withScores: boolean): Reply {
  if (!withScores) return entries.map((e) => e.member)
  const out: Reply[] = []
  if (c.resp === 3) for (const e of entries) out.push([e.member, new DoubleReply(e.score)])
  else for (const e of entries) out.push(e.member, new DoubleReply(e.score))
  return out
}

/** Parses the trailing [WITHSCORES] [LIMIT offset count] (and ZRANGE's BYSCORE, BYLEX, REV) options. */
function parseRangeOptions(argv: string[], from: number, req: RangeRequest, modern: boolean): ErrorReply | null {
  let hasLimit = false
  for (let i = from; i < argv.length; i++) {
    const opt = argv[i].toLowerCase()
    if (opt === 'withscores') req.withScores = true
    else if (opt === 'limit' && i + 2 < argv.length) {
      const offset = parseInteger(argv[i + 1])
      const count = parseInteger(argv[i + 2])
      if (offset === null || count === null) return NOT_INTEGER
      req.offset = offset
      req.count = count
      hasLimit = true
      i += 2
    } else if (modern && opt === 'byscore' && req.by === 'rank') req.by = 'score'
    else if (modern && opt === 'bylex' && req.by === 'rank') req.by = 'lex'
    else if (modern && opt === 'rev') req.reverse = true
    else return SYNTAX
  }
  if (hasLimit && req.by === 'rank') {
    return new ErrorReply('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX')
  }
  if (req.withScores && req.by === 'lex') return new ErrorReply('ERR syntax error, WITHSCORES not supported in combination with BYLEX')
  return null
}

function newRequest(by: RangeRequest['by'], reverse: boolean, argv: string[]): RangeRequest {
  return {by, reverse, withScores: false, offset: 0, count: -1, start: argv[2], stop: argv[3]}
}

const zrange: Handler = (c, argv) => {
  const req = newRequest('rank', false, argv)
  const problem = parseRangeOptions(argv, 4, req, true)
  return problem ?? zrangeGeneric(c, argv[1], req)
}

function legacyRange(by: RangeRequest['by'], reverse: boolean): Handler {
  return (c, argv) => {
    const req = newRequest(by, reverse, argv)
    if (by === 'rank') {
      if (argv.length === 5 && argv[4].toLowerCase() === 'withscores') req.withScores = true
      else if (argv.length !== 4) return SYNTAX
    } else {
      const problem = parseRangeOptions(argv, 4, req, false)
      if (problem) return problem
    }
    return zrangeGeneric(c, argv[1], req)
  }
}

const zcount: Handler = (c, argv) => {
  const min = parseScoreBound(argv[2])
  const max = parseScoreBound(argv[3])
  if (min === null || max === null) return new ErrorReply('ERR min or max is not a float')
  const zset = lookupZSet(c.db, argv[1])
  if (isError(zset)) return zset
  if (zset === undefined) return 0
  const [from, to] = scoreRanks(zset, min, max)
  return to - from
}

const zlexcount: Handler = (c, argv) => {
  const min = parseLexBound(argv[2])
  const max = parseLexBound(argv[3])
  if (min === null || max === null) return new ErrorReply('ERR min or max not valid string range item')
  const zset = lookupZSet(c.db, argv[1])
  if (isError(zset)) return zset
  if (zset === undefined) return 0
  const [from, to] = lexRanks(zset, min, max)
  return to - from
}

/** ZREMRANGEBYRANK / BYSCORE / BYLEX (Valkey's zremrangeGenericCommand): the range is parsed before the key is looked up. */
function removeRange(by: RangeRequest['by']): Handler {
  return (c, argv) => {
    let ranks: (zset: ZSet) => [number, number] | null
    if (by === 'rank') {
      const start = parseInteger(argv[2])
      const stop = parseInteger(argv[3])
      if (start === null || stop === null) return NOT_INTEGER
      ranks = (zset) => {
        const range = clampRange(start, stop, zset.size)
        return range === null ? null : [range[0], range[1] + 1]
      }
    } else if (by === 'score') {
      const min = parseScoreBound(argv[2])
      const max = parseScoreBound(argv[3])
      if (min === null || max === null) return new ErrorReply('ERR min or max is not a float')
      ranks = (zset) => scoreRanks(zset, min, max)
    } else {
      const min = parseLexBound(argv[2])
      const max = parseLexBound(argv[3])
      if (min === null || max === null) return new ErrorReply('ERR min or max not valid string range item')
      ranks = (zset) => lexRanks(zset, min, max)
    }
    const zset = lookupZSet(c.db, argv[1])
    if (isError(zset)) return zset
    if (zset === undefined) return 0
    const range = ranks(zset)
    if (range === null) return 0
    const removed = zset.removeRange(range[0], range[1]).length
    dropIfEmpty(c.db, argv[1], zset)
    return removed
  }
}

const zscan: Handler = (c, argv) => {
  const zset = lookupZSet(c.db, argv[1])
  if (isError(zset)) return zset
  return scanCollection(c, argv, zset, 'zset')
}

export const zsetHandlers: Record<string, Handler> = {
  zadd,
  zincrby,
  zrem,
  zscore,
  zmscore,
  zcard,
  zcount,
  zrank: rankCommand(false),
  zrevrank: rankCommand(true),
  zrange,
  zrevrange: legacyRange('rank', true),
  zrangebyscore: legacyRange('score', false),
  zrevrangebyscore: legacyRange('score', true),
  zrangebylex: legacyRange('lex', false),
  zrevrangebylex: legacyRange('lex', true),
  zlexcount,
  zremrangebyrank: removeRange('rank'),
  zremrangebyscore: removeRange('score'),
  zremrangebylex: removeRange('lex'),
  zscan,
}
