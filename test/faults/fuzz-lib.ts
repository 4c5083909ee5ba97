// A seeded, reproducible RESP fuzzer against an engine cluster: sessions of pipelined frames
// (valid commands, the same mutated, hostile lengths, random bytes, inline garbage) over many
// connections at once, each session ending with a half-close so the server answers what it
// parsed and closes. Meanwhile a control client per node PINGs and its worst latency is kept,
// and every node's RSS is sampled. The same seed gives the same frames.
import {readFileSync} from 'node:fs'
import {createConnection} from 'node:net'
import {RespClient} from '../engine/support/resp-client.js'
import {seededRandom} from '../support/random.js'
import {alive} from '../support/process.js'

/** The fuzzer's and the crash run's generator (seeded, replays). */
export const rng = seededRandom

type Rand = () => number
const int = (r: Rand, n: number) => Math.floor(r() * n)
const pick = <T>(r: Rand, items: readonly T[]): T => items[int(r, items.length)]

function word(r: Rand, max = 12): string {
  const n = int(r, max) + 1
  let s = ''
  for (let i = 0; i < n; i++) s += String.fromCharCode(int(r, 256))
  return s
}

const key = (r: Rand) => `fz:${int(r, 5000)}`
const num = (r: Rand) => String(int(r, 2000) - 1000)

/**
 * Commands the fuzzer builds on. Left out on purpose: CONFIG, ACL, AUTH, CLIENT (a mutated frame
 * must not change the node's settings or kill the control client), DEBUG, SHUTDOWN, blocking
 * commands, and SETRANGE/SETBIT (a valid huge offset allocates as much on Valkey too).
 */
const COMMANDS: Array<(r: Rand) => string[]> = [
  (r) => ['SET', key(r), word(r, 64)],
  (r) => ['SET', key(r), word(r), 'EX', String(int(r, 100) + 1)],
  (r) => ['GET', key(r)],
  (r) => ['INCR', key(r)],
  (r) => ['INCRBY', key(r), num(r)],
  (r) => ['APPEND', key(r), word(r)],
  (r) => ['DEL', key(r), key(r)],
  (r) => ['EXPIRE', key(r), num(r)],
  (r) => ['TTL', key(r)],
  (r) => ['HSET', key(r), word(r), word(r)],
  (r) => ['HGETALL', key(r)],
  (r) => ['HINCRBY', key(r), word(r, 3), num(r)],
  (r) => ['LPUSH', key(r), word(r), word(r)],
  (r) => ['LRANGE', key(r), num(r), num(r)],
  (r) => ['LPOP', key(r), String(int(r, 5))],
  (r) => ['SADD', key(r), word(r, 4)],
  (r) => ['SMEMBERS', key(r)],
  (r) => ['SRANDMEMBER', key(r), num(r)],
  (r) => ['ZADD', key(r), String(r() * 100), word(r, 4)],
  (r) => ['ZRANGE', key(r), '0', num(r), 'WITHSCORES'],
  (r) => ['ZRANGEBYSCORE', key(r), '-inf', '+inf', 'LIMIT', '0', String(int(r, 20))],
  (r) => ['MGET', key(r), key(r), key(r)],
  (r) => ['MSET', key(r), word(r), key(r), word(r)],
  (r) => ['EXISTS', key(r)],
  (r) => ['TYPE', key(r)],
  (r) => ['GETRANGE', key(r), num(r), num(r)],
  (r) => ['STRLEN', key(r)],
  (r) => ['SCAN', '0', 'MATCH', 'fz:1*', 'COUNT', String(int(r, 50) + 1)],
  (r) => ['SELECT', String(int(r, 16))],
  (r) => ['HELLO', pick(r, ['2', '3'])],
  () => ['MULTI'],
  () => ['EXEC'],
  () => ['DISCARD'],
  (r) => ['WATCH', key(r)],
  (r) => ['EVAL', "return redis.call('GET', KEYS[1])", '1', key(r)],
  (r) => ['EVAL', 'return {1, ARGV[1], {2}}', '0', word(r)],
  () => ['PING'],
  (r) => ['ECHO', word(r, 100)],
  () => ['DBSIZE'],
  () => ['CLUSTER', 'SLOTS'],
  () => ['CLUSTER', 'SHARDS'],
  () => ['INFO', 'keyspace'],
  () => ['COMMAND', 'COUNT'],
  (r) => ['OBJECT', 'ENCODING', key(r)],
  (r) => ['COPY', key(r), key(r), 'DB', String(int(r, 16))],
  (r) => ['RENAME', key(r), key(r)],
  (r) => [word(r, 8), word(r)],
]

const HOSTILE_LENGTHS = ['2147483647', '2147483648', '536870912', '536870913', '1048577', '-1', '-0', '0', '', 'x', '99999999999999999999', '00', '+5']

function encode(argv: string[]): Buffer {
  let s = `*${argv.length}\r\n`
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`
  return Buffer.from(s, 'latin1')
}

/** What a frame was made as (counted in the report). */
export const FRAME_KINDS = ['valid', 'garbled-args', 'flipped', 'truncated', 'inserted', 'duplicated', 'hostile-length', 'random', 'inline'] as const
export type FrameKind = (typeof FRAME_KINDS)[number]

const ODD_ARGS = ['', '-1', '0', '-0', '1e400', 'inf', '-inf', 'nan', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '0x10', ' 1', '1.5', '(1', '[a', '+', '-', '*', 'WITHSCORES', 'LIMIT', 'COUNT', 'MATCH', 'EX', 'PX', 'NX', 'XX', 'KEEPTTL', 'GET', 'BYSCORE', 'REV']

/** A well-framed command whose arguments are garbage: exercises the handlers, not the parser. */
function garbled(r: Rand): Buffer {
  const argv = pick(r, COMMANDS)(r)
  for (let i = int(r, 3) + 1; i > 0; i--) {
    const at = int(r, argv.length)
    const how = int(r, 4)
    if (how === 0) argv[at] = pick(r, ODD_ARGS)
    else if (how === 1) argv.splice(at, 1)
    else if (how === 2) argv.splice(at, 0, argv[int(r, argv.length)] ?? '')
    else argv[at] = word(r, 20)
  }
  return encode(argv.length ? argv : ['PING'])
}

/** A frame the session can go on after (the parser stays in step). */
export function makeFrame(r: Rand): {kind: FrameKind; bytes: Buffer} {
  return r() < 0.7 ? {kind: 'valid', bytes: encode(pick(r, COMMANDS)(r))} : {kind: 'garbled-args', bytes: garbled(r)}
}

/** A frame that breaks the framing (most end the connection with a protocol error). */
export function makeHostileFrame(r: Rand): {kind: FrameKind; bytes: Buffer} {
  const roll = r()
  const base = () => encode(pick(r, COMMANDS)(r))
  if (roll < 0.2) {
    const b = base()
    for (let i = int(r, 3) + 1; i > 0; i--) b[int(r, b.length)] = int(r, 256)
    return {kind: 'flipped', bytes: b}
  }
  if (roll < 0.3) {
    const b = base()
    return {kind: 'truncated', bytes: b.subarray(0, int(r, b.length))}
  }
  if (roll < 0.4) {
    const b = base()
    const at = int(r, b.length)
    return {kind: 'inserted', bytes: Buffer.concat([b.subarray(0, at), Buffer.from(word(r, 16), 'latin1'), b.subarray(at)])}
  }
  if (roll < 0.5) {
    const b = base()
    const from = int(r, b.length)
    return {kind: 'duplicated', bytes: Buffer.concat([b, b.subarray(from, from + int(r, 32))])}
  }
  if (roll < 0.7) {
    const text = base().toString('latin1')
    const headers = [...text.matchAll(/[*$](-?\d+)\r\n/g)]
    const h = pick(r, headers)
    const at = h.index! + 1
    const replaced = text.slice(0, at) + pick(r, HOSTILE_LENGTHS) + text.slice(at + h[1].length)
    return {kind: 'hostile-length', bytes: Buffer.from(replaced, 'latin1')}
  }
  if (roll < 0.85) {
    const b = Buffer.alloc(int(r, 200) + 1)
    for (let i = 0; i < b.length; i++) b[i] = int(r, 256)
    return {kind: 'random', bytes: b}
  }
  const pieces = ['SET', 'GET', 'PING', 'ECHO', '"', "'", '\\', '\\x4', '\\x41', ' ', 'a', '\t', 'fz:1', '"\\"']
  let line = ''
  for (let i = int(r, 12); i >= 0; i--) line += pick(r, pieces)
  return {kind: 'inline', bytes: Buffer.from(line + pick(r, ['\r\n', '\n', '\r\r\n']), 'latin1')}
}

/**
 * One session's frames: well-framed ones (valid or with garbage arguments), a few hostile ones
 * mixed in, and most sessions end with one (the server usually closes there).
 */
export function makeSession(r: Rand, count: number): Array<{kind: FrameKind; bytes: Buffer}> {
  const frames = []
  for (let i = 0; i < count; i++) {
    const last = i === count - 1
    frames.push((last && r() < 0.8) || r() < 0.005 ? makeHostileFrame(r) : makeFrame(r))
  }
  return frames
}

export interface FuzzOptions {
  ports: number[]
  pids: number[]
  frames: number
  seed: number
  connections: number
  /** Frames per session (one connection, ended by a half-close). */
  framesPerSession?: number
  /** A session not closed by the server within this long counts as stuck. */
  sessionTimeoutMs?: number
  /** Progress lines (stderr); none when omitted. */
  progress?: (line: string) => void
}

export interface FuzzReport {
  seed: number
  framesSent: number
  bytesSent: number
  kinds: Record<FrameKind, number>
  sessions: number
  stuckSessions: number
  /** Replies that reported an internal error (a handler threw): each is a finding. */
  internalErrors: number
  internalErrorSamples: string[]
  /** Worst PING latency of the control clients, ms. */
  maxPingMs: number
  pingsFailed: number
  peakRssBytes: number[]
  nodesAlive: boolean[]
  commandsProcessed: number
  durationMs: number
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}


const INTERNAL = Buffer.from('internal error')

function runSession(port: number, payload: Buffer, timeoutMs: number): Promise<{stuck: boolean; internal: string[]}> {
  return new Promise((resolve) => {
    const socket = createConnection({port, host: '127.0.0.1'})
    const internal: string[] = []
    let tail = Buffer.alloc(0)
    const timer = setTimeout(() => finish(true), timeoutMs)
    let done = false
    function finish(stuck: boolean) {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve({stuck, internal})
    }
    socket.on('data', (chunk: Buffer) => {
      const text = tail.length ? Buffer.concat([tail, chunk]) : chunk
      let at = text.indexOf(INTERNAL)
      while (at >= 0) {
        const end = text.indexOf('\r\n', at)
        internal.push(text.latin1Slice(Math.max(0, at - 30), end < 0 ? at + 120 : end))
        at = text.indexOf(INTERNAL, at + 1)
      }
      tail = Buffer.from(text.subarray(Math.max(0, text.length - INTERNAL.length)))
    })
    socket.on('close', () => finish(false))
    socket.on('error', () => {})
    socket.once('connect', () => socket.end(payload))
  })
}

async function commandsProcessed(ports: number[]): Promise<number> {
  let total = 0
  for (const port of ports) {
    const c = await RespClient.connect(port)
    const m = /total_commands_processed:(\d+)/.exec(String(await c.call('INFO', 'stats')))
    total += m ? Number(m[1]) : 0
    c.close()
  }
  return total
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const {ports, pids, frames, seed, connections} = options
  const perSession = options.framesPerSession ?? 200
  const timeoutMs = options.sessionTimeoutMs ?? 30_000
  const started = Date.now()
  const commandsBefore = await commandsProcessed(ports)
  const report: FuzzReport = {
    seed,
    framesSent: 0,
    bytesSent: 0,
    kinds: Object.fromEntries(FRAME_KINDS.map((k) => [k, 0])) as Record<FrameKind, number>,
    sessions: 0,
    stuckSessions: 0,
    internalErrors: 0,
    internalErrorSamples: [],
    maxPingMs: 0,
    pingsFailed: 0,
    peakRssBytes: pids.map(rssOf),
    nodesAlive: [],
    commandsProcessed: 0,
    durationMs: 0,
  }

  // Control clients: one PING per node every 100 ms, never two in flight.
  const controls = await Promise.all(ports.map((p) => RespClient.connect(p)))
  let stop = false
  const pingLoops = controls.map(async (c) => {
    while (!stop) {
      const t0 = Date.now()
      let timer: NodeJS.Timeout | undefined
      const reply = await Promise.race([c.call('PING'), new Promise((r) => (timer = setTimeout(() => r('timeout'), 10_000)))])
      clearTimeout(timer)
      const ms = Date.now() - t0
      if (reply !== '+PONG') report.pingsFailed++
      if (ms > report.maxPingMs) report.maxPingMs = ms
      if (reply === 'timeout') return
      await new Promise((r) => setTimeout(r, 100))
    }
  })
  const sampler = setInterval(() => {
    pids.forEach((pid, i) => (report.peakRssBytes[i] = Math.max(report.peakRssBytes[i], rssOf(pid))))
  }, 250)

  // One generator for every session, drawn in session order: the frames depend on the seed only.
  const r = rng(seed)
  let next = 0
  let lastProgress = Date.now()
  const worker = async () => {
    while (report.framesSent < frames) {
      const count = Math.min(perSession, frames - report.framesSent)
      report.framesSent += count
      const parts: Buffer[] = []
      for (const f of makeSession(r, count)) {
        report.kinds[f.kind]++
        parts.push(f.bytes)
      }
      const payload = Buffer.concat(parts)
      report.bytesSent += payload.length
      const port = ports[next++ % ports.length]
      const result = await runSession(port, payload, timeoutMs)
      report.sessions++
      if (result.stuck) report.stuckSessions++
      report.internalErrors += result.internal.length
      for (const s of result.internal) if (report.internalErrorSamples.length < 10) report.internalErrorSamples.push(s)
      if (options.progress && Date.now() - lastProgress > 10_000) {
        lastProgress = Date.now()
        const rss = report.peakRssBytes.map((b) => `${Math.round(b / 1048576)}MB`).join('/')
        options.progress(`fuzz: ${report.framesSent} frames, ${report.sessions} sessions, max PING ${report.maxPingMs} ms, peak RSS ${rss}`)
      }
    }
  }
  await Promise.all(Array.from({length: connections}, worker))
  stop = true
  await Promise.all(pingLoops)
  clearInterval(sampler)
  for (const c of controls) c.close()
  report.nodesAlive = pids.map(alive)
  report.commandsProcessed = report.nodesAlive.every(Boolean) ? (await commandsProcessed(ports)) - commandsBefore : -1
  report.durationMs = Date.now() - started
  return report
}
