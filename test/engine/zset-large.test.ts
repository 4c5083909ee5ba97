// Large sorted sets (> 10k members) on the bundled engine give the same replies as redis-server:
// one seeded sequence of ZADD (all flags), ZINCRBY, ZREM, ZREMRANGEBY{RANK,SCORE,LEX} and every
// range form (by rank, score and lex, REV, LIMIT, WITHSCORES), ZCOUNT, ZLEXCOUNT and ZRANK runs on
// both and every reply is compared.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {hasRedisServer, startRedisServer, type RedisServer} from '../support/redis-server.js'
import {RespClient, type Wire} from './support/resp-client.js'
import {seededRandom} from '../support/random.js'


const MEMBERS = 16_000

/** Scores that print alike everywhere (integers and halves), with many ties. */
function scoreText(rand: () => number): string {
  const r = rand()
  if (r < 0.01) return '-inf'
  if (r < 0.02) return '+inf'
  const n = Math.floor(rand() * 2000) - 1000
  return r < 0.5 ? String(n) : `${n}.5`
}

function boundText(rand: () => number): string {
  const r = rand()
  if (r < 0.1) return '-inf'
  if (r < 0.2) return '+inf'
  const n = String(Math.floor(rand() * 2200) - 1100)
  return r < 0.6 ? n : `(${n}`
}

function lexBound(rand: () => number): string {
  const r = rand()
  if (r < 0.1) return '-'
  if (r < 0.2) return '+'
  return `${r < 0.6 ? '[' : '('}w${Math.floor(rand() * MEMBERS)}`
}

function member(rand: () => number): string {
  return `m${Math.floor(rand() * MEMBERS * 1.1)}`
}

function randomCommand(rand: () => number): string[] {
  const k = '{z}big'
  const r = rand()
  if (r < 0.2) {
    const flags = [[], ['NX'], ['XX'], ['GT'], ['LT'], ['CH'], ['XX', 'GT', 'CH'], ['NX', 'CH']][Math.floor(rand() * 8)]
    const pairs = Array.from({length: 1 + Math.floor(rand() * 4)}, () => [scoreText(rand), member(rand)]).flat()
    return ['ZADD', k, ...flags, ...pairs]
  }
  if (r < 0.25) return ['ZADD', k, 'INCR', String(Math.floor(rand() * 20) - 10), member(rand)]
  if (r < 0.3) return ['ZINCRBY', k, `${Math.floor(rand() * 200) - 100}.5`, member(rand)]
  if (r < 0.38) return ['ZREM', k, member(rand), member(rand), member(rand)]
  if (r < 0.48) {
    const start = Math.floor(rand() * (MEMBERS + 40)) - MEMBERS / 2
    const stop = rand() < 0.1 ? -1 : start + Math.floor(rand() * 150)
    return ['ZRANGE', k, String(start), String(stop), ...(rand() < 0.5 ? ['REV'] : []), ...(rand() < 0.5 ? ['WITHSCORES'] : [])]
  }
  if (r < 0.52) {
    const start = Math.floor(rand() * (MEMBERS + 40)) - MEMBERS / 2
    return ['ZREVRANGE', k, String(start), String(rand() < 0.05 ? -1 : start + Math.floor(rand() * 150) - 10), ...(rand() < 0.3 ? ['WITHSCORES'] : [])]
  }
  if (r < 0.64) {
    const limit = rand() < 0.8 ? ['LIMIT', String(Math.floor(rand() * 300) - 5), String(Math.floor(rand() * 120) - 1)] : []
    const rev = rand() < 0.5
    const [a, b] = [boundText(rand), boundText(rand)]
    if (rand() < 0.5) return ['ZRANGE', k, a, b, 'BYSCORE', ...(rev ? ['REV'] : []), ...limit, ...(rand() < 0.5 ? ['WITHSCORES'] : [])]
    return [rev ? 'ZREVRANGEBYSCORE' : 'ZRANGEBYSCORE', k, a, b, ...(rand() < 0.5 ? ['WITHSCORES'] : []), ...limit]
  }
  if (r < 0.72) return ['ZCOUNT', k, boundText(rand), boundText(rand)]
  if (r < 0.8) return [rand() < 0.5 ? 'ZRANK' : 'ZREVRANK', k, member(rand)]
  if (r < 0.84) return ['ZSCORE', k, member(rand)]
  if (r < 0.86) return ['ZCARD', k]
  if (r < 0.88) return ['ZREM', '{z}lex', `w${Math.floor(rand() * MEMBERS)}`]
  if (r < 0.885) {
    const start = Math.floor(rand() * (MEMBERS + 40)) - MEMBERS / 2
    return ['ZREMRANGEBYRANK', k, String(start), String(start + Math.floor(rand() * 40) - 5)]
  }
  if (r < 0.89) {
    const n = Math.floor(rand() * 2000) - 1000
    return ['ZREMRANGEBYSCORE', k, rand() < 0.5 ? `(${n}` : String(n), String(n + Math.floor(rand() * 3))]
  }
  if (r < 0.895) return ['ZREMRANGEBYLEX', '{z}lex', lexBound(rand), lexBound(rand)]
  if (r < 0.9) return ['ZLEXCOUNT', '{z}lex', lexBound(rand), lexBound(rand)]
  if (r < 0.91) {
    const limit = rand() < 0.7 ? ['LIMIT', String(Math.floor(rand() * 100)), String(Math.floor(rand() * 60) - 1)] : []
    return [rand() < 0.5 ? 'ZRANGEBYLEX' : 'ZREVRANGEBYLEX', '{z}lex', lexBound(rand), lexBound(rand), ...limit]
  }
  const limit = rand() < 0.7 ? ['LIMIT', String(Math.floor(rand() * 100)), String(Math.floor(rand() * 60) - 1)] : []
  const rev = rand() < 0.5
  const [a, b] = [lexBound(rand), lexBound(rand)]
  return ['ZRANGE', '{z}lex', rev ? b : a, rev ? a : b, 'BYLEX', ...(rev ? ['REV'] : []), ...limit]
}

/** Sends a batch pipelined and returns the replies in order. */
function pipeline(client: RespClient, commands: string[][]): Promise<Wire[]> {
  return Promise.all(commands.map((argv) => client.call(...argv)))
}

describe.skipIf(!hasRedisServer())('large sorted sets: the engine answers as redis-server 7 does', () => {
  let engine: TestEngine
  let redis: RedisServer
  let clients: RespClient[] = []
  beforeAll(async () => {
    ;[engine, redis] = await Promise.all([startTestEngine({mode: 'standalone', databases: 16}), startRedisServer()])
    clients = await Promise.all([RespClient.connect(engine.nodes[0].port), RespClient.connect(redis.port)])
  })
  afterAll(async () => {
    for (const c of clients) c.close()
    await Promise.all([engine?.stop(), redis?.stop()])
  })

  async function both(commands: string[][]): Promise<void> {
    const [mine, theirs] = await Promise.all(clients.map((c) => pipeline(c, commands)))
    for (let i = 0; i < commands.length; i++) {
      if (JSON.stringify(mine[i]) !== JSON.stringify(theirs[i])) {
        expect({command: commands[i], reply: mine[i]}).toEqual({command: commands[i], reply: theirs[i]})
      }
    }
  }

  it('fills 16k members with ties, then agrees on 4,000 random updates and ranges', async () => {
    const rand = seededRandom(7)
    const fill: string[][] = []
    for (let from = 0; from < MEMBERS; from += 500) {
      const big = ['ZADD', '{z}big']
      const lex = ['ZADD', '{z}lex']
      for (let i = from; i < from + 500; i++) {
        big.push(scoreText(rand), `m${i}`)
        lex.push('0', `w${i}`)
      }
      fill.push(big, lex)
    }
    await both(fill)
    for (let batch = 0; batch < 20; batch++) await both(Array.from({length: 200}, () => randomCommand(rand)))
    await both([
      ['ZCARD', '{z}big'],
      ['ZRANGE', '{z}big', '0', '-1', 'WITHSCORES'],
      ['ZRANGE', '{z}big', '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', '100', '-1'],
      ['ZRANGE', '{z}lex', '-', '+', 'BYLEX', 'LIMIT', '15000', '-1'],
    ])
  })

  it('agrees on LIMIT edges, ties by member and moves across the whole order', async () => {
    const commands: string[][] = [['DEL', '{z}t', '{z}str']]
    for (let from = 0; from < 12_000; from += 1000) {
      commands.push(['ZADD', '{z}t', ...Array.from({length: 1000}, (_, i) => [String((from + i) % 7), `t${String(from + i).padStart(5, '0')}`]).flat()])
    }
    commands.push(
      ['ZRANGEBYSCORE', '{z}t', '3', '3', 'LIMIT', '0', '5'],
      ['ZRANGEBYSCORE', '{z}t', '(3', '5', 'LIMIT', '1713', '4', 'WITHSCORES'],
      ['ZREVRANGEBYSCORE', '{z}t', '5', '(3', 'LIMIT', '1713', '4'],
      ['ZRANGEBYSCORE', '{z}t', '-inf', '+inf', 'LIMIT', '11998', '10'],
      ['ZRANGEBYSCORE', '{z}t', '-inf', '+inf', 'LIMIT', '12000', '10'],
      ['ZRANGEBYSCORE', '{z}t', '-inf', '+inf', 'LIMIT', '-1', '10'],
      ['ZRANGEBYSCORE', '{z}t', '-inf', '+inf', 'LIMIT', '5', '0'],
      ['ZRANGEBYSCORE', '{z}t', '5', '3'],
      ['ZCOUNT', '{z}t', '(2', '(4'],
      ['ZADD', '{z}t', '-1', 't11999', '100', 't00000', '3', 't00003'],
      ['ZRANK', '{z}t', 't11999'],
      ['ZRANK', '{z}t', 't00000'],
      ['ZREVRANK', '{z}t', 't00000'],
      ['ZRANK', '{z}t', 't06001'],
      ['ZRANGE', '{z}t', '0', '2', 'WITHSCORES'],
      ['ZRANGE', '{z}t', '-3', '-1', 'WITHSCORES'],
      ['ZRANGE', '{z}t', '5999', '6003', 'REV'],
      ['ZREM', '{z}t', ...Array.from({length: 3000}, (_, i) => `t${String(i * 4).padStart(5, '0')}`)],
      ['ZCARD', '{z}t'],
      ['ZREMRANGEBYSCORE', '{z}t', '(1', '2'],
      ['ZREMRANGEBYSCORE', '{z}t', '5', '(5'],
      ['ZREMRANGEBYRANK', '{z}t', '-1000', '-501'],
      ['ZREMRANGEBYRANK', '{z}t', '10', '5'],
      ['ZREMRANGEBYRANK', '{z}t', '0', '0'],
      ['ZREMRANGEBYSCORE', '{z}t', 'x', '1'],
      ['ZREMRANGEBYRANK', '{z}t', '1.5', '1'],
      ['ZREMRANGEBYLEX', '{z}t', 'a', '[b'],
      ['ZLEXCOUNT', '{z}t', '-', '+'],
      ['ZRANGEBYLEX', '{z}t', '-', '+', 'WITHSCORES'],
      ['ZREMRANGEBYSCORE', '{z}missing', '-inf', '+inf'],
      ['SET', '{z}str', 'x'],
      ['ZREMRANGEBYRANK', '{z}str', '0', '-1'],
      ['ZREMRANGEBYRANK', '{z}str', 'x', '-1'],
      ['ZCARD', '{z}t'],
      ['ZRANGE', '{z}t', '0', '-1', 'WITHSCORES'],
      ['ZREMRANGEBYRANK', '{z}t', '0', '-1'],
      ['EXISTS', '{z}t'],
    )
    await both(commands)
  })
})
