// --atomic: one Lua script per primary (shebang `allow-cross-slot-keys`, so it may SELECT and
// MOVE keys of every slot its node owns), all sent in the same tick. A node runs one script
// at a time and serves nobody meanwhile, so each node switches at one instant. Across nodes
// the switch looks instantaneous to readers only if every script has started before any has
// finished: a reader that saw new data on node A (after A's script ended) then reads node B
// after B's script started, i.e. after it ended too.
//
// To make that hold, each script keeps running for `minDurationMs` after its work (at least
// 50 ms and several round trips: the hard case is a tiny dataset on a fast node, or a node
// descheduled for a moment on a busy machine). A script cannot watch a clock — Valkey serves
// TIME from a clock it updates only between top-level commands, so TIME inside a script is
// its start — so the wait is an empty Lua loop whose speed is measured on each node just
// before (TIME, EVAL loop, TIME pipelined). The overlap is then proven from server clocks:
// each script returns TIME (its start), and a TIME pipelined right after it gives its end;
// latest start < earliest end. (Across machines this relies on their clocks agreeing, as NTP
// keeps them to well under a millisecond; the margin is reported.)
//
// A script that fails half-way keeps what it did: the caller then finishes with the batched
// strategy, which is idempotent.
import type {Plane} from '../plane/plane.js'
import {RespError} from '../plane/errors.js'
import type {Reply} from '../plane/resp.js'
import {formatAddress} from '../plane/url.js'
import {crashPoint} from './crash-hook.js'
import type {Journal} from './journal.js'
import {waitForReplicas, type ReplicaAck} from './replicas.js'
import type {Dbs} from './state.js'

export type ScriptOp = 'cutover-replace' | 'cutover-merge' | 'rollback-replace'

// Lua 5.1 subset (Valkey embeds 5.1; the bundled engine runs 5.3): no goto, no integer division.
export const SWITCH_SCRIPT = `#!lua flags=allow-cross-slot-keys
local op = ARGV[1]
local live, shadow, archive = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local pad = tonumber(ARGV[5])
local t0 = redis.call('TIME')
local function scanAll(db)
  redis.call('SELECT', db)
  local keys, cursor = {}, '0'
  repeat
    local page = redis.call('SCAN', cursor, 'COUNT', 1000)
    cursor = page[1]
    local found = page[2]
    for i = 1, #found do keys[#keys + 1] = found[i] end
  until cursor == '0'
  return keys
end
local function moveAll(keys, from, to)
  redis.call('SELECT', from)
  local n = 0
  for i = 1, #keys do n = n + redis.call('MOVE', keys[i], to) end
  return n
end
local first, second, expected = 0, 0, 0
if op == 'cutover-replace' then
  local staged = scanAll(shadow)
  local old = scanAll(live)
  first = moveAll(old, live, archive)
  second = moveAll(staged, shadow, live)
  expected = #staged
elseif op == 'cutover-merge' then
  local staged = scanAll(shadow)
  first = moveAll(staged, live, archive)
  second = moveAll(staged, shadow, live)
  expected = #staged
elseif op == 'rollback-replace' then
  local new = scanAll(live)
  local old = scanAll(archive)
  first = moveAll(new, live, shadow)
  second = moveAll(old, archive, live)
  expected = #old
else
  return redis.error_reply('ERR unknown flip switch op ' .. tostring(op))
end
-- Keep running until every other node's script has surely started (see atomic.ts).
for i = 1, pad do end
return {t0[1], t0[2], first, second, expected}
`

/** An empty loop of ARGV[1] rounds: measures how fast a node runs the padding loop. */
const PAD_SCRIPT = 'local n = tonumber(ARGV[1]) for i = 1, n do end return n'

export interface ScriptRun {
  node: string
  /** Server TIME in µs since the epoch at the script's start and end. */
  startUs: number
  endUs: number
  /** cutover: keys archived / staged keys moved to live; rollback: new keys back to shadow / old keys back to live. */
  first: number
  second: number
  /** Keys the second step should have moved (a shortfall means conflicts). */
  expected: number
}

export interface AtomicResult {
  runs: ScriptRun[]
  failures: Array<{node: string; message: string}>
  /** Every script started before any finished (latest start < earliest end), and by how much. */
  overlap: {proven: boolean; marginMs: number}
  /** Longest script, by the server's own clock. */
  scriptMs: number
  /** From sending the scripts to the last reply (the switch itself; the speed measurement before is not part of it). */
  switchMs: number
  /** Longest time a PING from another client waited for PONG on any node during the switch. */
  clientStallMs: number
  /** BUSY errors other clients got meanwhile (Valkey answers BUSY once a script runs past busy-reply-threshold, 5 s by default). */
  busyReplies: number
  minDurationMs: number
  /** Per primary whose script ran: its replicas' acknowledgement, timed from that script's reply. */
  replicas: ReplicaAck[]
  /** From the last script reply to the last replica acknowledgement (null: no replicas). */
  replicasCaughtUpMs: number | null
}

export interface AtomicOptions {
  plane: Plane
  dbs: Dbs
  op: ScriptOp
  journal: Journal
  phase: 'cutover' | 'rollback'
  /** How long each script keeps running after its work; default 4 × the slowest round trip + 20 ms, at least 50 ms. */
  minDurationMs?: number
  /** After its script, each primary waits this long for its online replicas (replicas.ts). */
  replicaTimeoutMs?: number
}

export async function runAtomic(options: AtomicOptions): Promise<AtomicResult> {
  const {plane, dbs} = options
  const nodes = [...plane.primaries]
  const connections = await Promise.all(nodes.map((node) => plane.dedicated(node, {db: dbs.live})))
  const probes = await Promise.all(nodes.map((node) => plane.dedicated(node, {db: dbs.live})))
  try {
    const speeds = await measurePadSpeed(connections)
    const minDurationMs = options.minDurationMs ?? Math.max(50, 4 * Math.max(...speeds.map((speed) => speed.roundTripMs)) + 20)
    const stall = startStallProbes(probes)
    // Written to every socket in the same tick: the scripts start as close together as the
    // network allows. The TIME behind each script runs the moment it ends.
    const sentAt = performance.now()
    const repliedAt: number[] = nodes.map(() => sentAt)
    const replies = connections.map((connection, i) => {
      const pad = Math.min(MAX_PAD, Math.ceil(minDurationMs * speeds[i].roundsPerMs))
      return connection
        .pipeline([['EVAL', SWITCH_SCRIPT, 0, options.op, dbs.live, dbs.shadow, dbs.archive, pad], ['TIME']])
        .then((reply) => {
          repliedAt[i] = performance.now()
          return reply
        })
        .catch((error: Error) => [new RespError(error.message), null] as Reply[])
    })
    crashPoint(options.phase === 'rollback' ? 'rollback-script' : 'script')
    const settled: Reply[][] = await Promise.all(replies)
    const switchMs = performance.now() - sentAt
    const {stallMs: clientStallMs, busyReplies} = await stall.stop()
    const runs: ScriptRun[] = []
    const failures: AtomicResult['failures'] = []
    settled.forEach(([reply, time], i) => {
      const node = formatAddress(nodes[i])
      if (!Array.isArray(reply) || reply.length < 5) {
        failures.push({node, message: reply instanceof RespError ? reply.message : `unexpected reply ${String(reply)}`})
        return
      }
      const n = reply.map((part) => Number(Buffer.isBuffer(part) ? part.toString() : part))
      const run: ScriptRun = {node, startUs: n[0] * 1e6 + n[1], endUs: microsOf(time) ?? n[0] * 1e6 + n[1], first: n[2], second: n[3], expected: n[4]}
      runs.push(run)
      options.journal.append({event: 'script', phase: options.phase, node, startUs: run.startUs, endUs: run.endUs, moved: run.second, archived: run.first})
    })
    // Each script's effects reach its replicas as one transaction; WAIT on the connection that ran it.
    const ran = nodes.map((_, i) => runs.some((run) => run.node === formatAddress(nodes[i])))
    const acks = await Promise.all(
      nodes.map(async (node, i) => {
        const ack = ran[i] ? await waitForReplicas(connections[i], node, repliedAt[i], options.replicaTimeoutMs) : undefined
        return ack && {ack, at: performance.now()}
      }),
    )
    const acked = acks.filter((entry) => entry !== undefined)
    const lastPrimary = Math.max(...repliedAt.filter((_, i) => ran[i]))
    const replicasCaughtUpMs = acked.length > 0 ? Math.round((Math.max(...acked.map((entry) => entry.at)) - lastPrimary) * 100) / 100 : null
    const latestStart = Math.max(...runs.map((run) => run.startUs))
    const earliestEnd = Math.min(...runs.map((run) => run.endUs))
    return {
      runs,
      failures,
      overlap: {proven: failures.length === 0 && runs.length > 0 && latestStart < earliestEnd, marginMs: runs.length > 0 ? (earliestEnd - latestStart) / 1000 : 0},
      scriptMs: runs.length > 0 ? Math.max(...runs.map((run) => (run.endUs - run.startUs) / 1000)) : 0,
      switchMs,
      clientStallMs,
      busyReplies,
      minDurationMs,
      replicas: acked.map((entry) => entry.ack),
      replicasCaughtUpMs,
    }
  } finally {
    await Promise.all([...connections, ...probes].map((connection) => connection.close().catch(() => undefined)))
  }
}

/** Padding rounds never exceed this (a safety net should a speed measurement go wrong). */
const MAX_PAD = 2_000_000_000

/**
 * Per node: the slowest of three PING round trips, and how many padding-loop rounds run per ms
 * (TIME, EVAL loop, TIME pipelined; the loop grows until it takes a few ms).
 */
async function measurePadSpeed(connections: Array<{pipeline(commands: Array<Array<string | number>>): Promise<Reply[]>}>): Promise<Array<{roundsPerMs: number; roundTripMs: number}>> {
  return Promise.all(
    connections.map(async (connection) => {
      let roundTripMs = 0
      for (let i = 0; i < 3; i++) {
        const start = performance.now()
        await connection.pipeline([['PING']])
        roundTripMs = Math.max(roundTripMs, performance.now() - start)
      }
      const timed = async (rounds: number): Promise<number> => {
        const [before, ran, after] = await connection.pipeline([['TIME'], ['EVAL', PAD_SCRIPT, 0, rounds], ['TIME']])
        if (ran instanceof RespError) throw new Error(`the padding loop failed: ${ran.message}`)
        return (microsOf(after) ?? 0) - (microsOf(before) ?? 0)
      }
      let rounds = 100_000
      let tookUs = await timed(rounds)
      while (tookUs < 3000 && rounds < 100_000_000) tookUs = await timed((rounds *= 10))
      // Measured twice, the faster run counts: a node slowed by a busy moment would pad too little.
      tookUs = Math.min(tookUs, await timed(rounds))
      return {roundsPerMs: rounds / Math.max(tookUs / 1000, 0.001), roundTripMs}
    }),
  )
}

function microsOf(reply: Reply | undefined): number | undefined {
  if (!Array.isArray(reply) || reply.length < 2) return undefined
  return Number(String(reply[0])) * 1e6 + Number(String(reply[1]))
}

/**
 * Another client per node sending PING back to back: the longest wait for a PONG is the stall
 * readers saw. A BUSY reply (the script ran past busy-reply-threshold) is counted and the wait
 * goes on: such a client got an error instead of its data.
 */
function startStallProbes(probes: Array<{call(argv: Array<string | number>): Promise<Reply>}>): {stop(): Promise<{stallMs: number; busyReplies: number}>} {
  let running = true
  let worst = 0
  let busyReplies = 0
  const loops = probes.map(async (probe) => {
    while (running) {
      const start = performance.now()
      try {
        let reply = await probe.call(['PING'])
        while (reply instanceof RespError && reply.code === 'BUSY') {
          busyReplies++
          await new Promise((resolve) => setTimeout(resolve, 1))
          reply = await probe.call(['PING'])
        }
      } catch {
        return
      }
      worst = Math.max(worst, performance.now() - start)
    }
  })
  return {
    async stop() {
      running = false
      await Promise.all(loops)
      return {stallMs: worst, busyReplies}
    },
  }
}
