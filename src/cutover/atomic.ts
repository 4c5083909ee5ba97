// --atomic: one Lua script per primary (shebang `allow-cross-slot-keys`, so it may SELECT and
// MOVE keys of every slot its node owns), all sent in the same tick. A node runs one script
// at a time and serves nobody meanwhile, so each node switches at one instant. Across nodes
// the switch looks instantaneous to readers only if every script has started before any has
// finished: a reader that saw new data on node A (after A's script ended) then reads node B
// after B's script started, i.e. after it ended too. To make that hold, no script ends before
// a common deadline — `minDurationMs` after they are sent, at least 50 ms and several round
// trips (the hard case is a tiny dataset on a fast node, or a node descheduled for a moment on
// a busy machine) — given to each node in its own clock (offset measured with TIME just
// before). Any script that starts before the deadline overlaps every other. Each returns the
// server TIME at its start and end, so the overlap is proven afterwards: latest start <
// earliest end. (Across machines this relies on their clocks agreeing, as NTP keeps them to
// well under a millisecond; the margin is reported.)
//
// A script that fails half-way keeps what it did: the caller then finishes with the batched
// strategy, which is idempotent.
import type {Plane} from '../plane/plane.js'
import {RespError} from '../plane/errors.js'
import type {Reply} from '../plane/resp.js'
import {formatAddress} from '../plane/url.js'
import {crashPoint} from './crash-hook.js'
import type {Journal} from './journal.js'
import type {Dbs} from './state.js'

export type ScriptOp = 'cutover-replace' | 'cutover-merge' | 'rollback-replace'

// Lua 5.1 subset (Valkey embeds 5.1; the bundled engine runs 5.3): no goto, no integer division.
export const SWITCH_SCRIPT = `#!lua flags=allow-cross-slot-keys
local op = ARGV[1]
local live, shadow, archive = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local deadlineUs = tonumber(ARGV[5])
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
local t1 = redis.call('TIME')
while tonumber(t1[1]) * 1000000 + tonumber(t1[2]) < deadlineUs do
  t1 = redis.call('TIME')
end
return {t0[1], t0[2], t1[1], t1[2], first, second, expected}
`

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
  /** Longest time a PING from another client waited on any node during the switch. */
  clientStallMs: number
  minDurationMs: number
}

export interface AtomicOptions {
  plane: Plane
  dbs: Dbs
  op: ScriptOp
  journal: Journal
  phase: 'cutover' | 'rollback'
  /** No script ends sooner than this after the scripts are sent; default 4 × the slowest round trip + 20 ms, at least 50 ms. */
  minDurationMs?: number
}

export async function runAtomic(options: AtomicOptions): Promise<AtomicResult> {
  const {plane, dbs} = options
  const nodes = [...plane.primaries]
  const connections = await Promise.all(nodes.map((node) => plane.dedicated(node, {db: dbs.live})))
  const probes = await Promise.all(nodes.map((node) => plane.dedicated(node, {db: dbs.live})))
  try {
    const clocks = await measureClocks(connections)
    const minDurationMs = options.minDurationMs ?? Math.max(50, 4 * Math.max(...clocks.map((clock) => clock.roundTripMs)) + 20)
    const stall = startStallProbes(probes)
    const deadlineMs = Date.now() + minDurationMs
    // Written to every socket in the same tick: the scripts start as close together as the network allows.
    const replies = connections.map((connection, i) => {
      const deadlineUs = Math.round((deadlineMs + clocks[i].offsetMs) * 1000)
      return connection.call(['EVAL', SWITCH_SCRIPT, 0, options.op, dbs.live, dbs.shadow, dbs.archive, deadlineUs]).catch((error: Error) => new RespError(error.message))
    })
    crashPoint(options.phase === 'rollback' ? 'rollback-script' : 'script')
    const settled: Reply[] = await Promise.all(replies)
    const clientStallMs = await stall.stop()
    const runs: ScriptRun[] = []
    const failures: AtomicResult['failures'] = []
    settled.forEach((reply, i) => {
      const node = formatAddress(nodes[i])
      if (!Array.isArray(reply) || reply.length < 7) {
        failures.push({node, message: reply instanceof RespError ? reply.message : `unexpected reply ${String(reply)}`})
        return
      }
      const n = reply.map((part) => Number(Buffer.isBuffer(part) ? part.toString() : part))
      const run: ScriptRun = {node, startUs: n[0] * 1e6 + n[1], endUs: n[2] * 1e6 + n[3], first: n[4], second: n[5], expected: n[6]}
      runs.push(run)
      options.journal.append({event: 'script', phase: options.phase, node, startUs: run.startUs, endUs: run.endUs, moved: run.second, archived: run.first})
    })
    const latestStart = Math.max(...runs.map((run) => run.startUs))
    const earliestEnd = Math.min(...runs.map((run) => run.endUs))
    return {
      runs,
      failures,
      overlap: {proven: failures.length === 0 && runs.length > 0 && latestStart < earliestEnd, marginMs: runs.length > 0 ? (earliestEnd - latestStart) / 1000 : 0},
      scriptMs: runs.length > 0 ? Math.max(...runs.map((run) => (run.endUs - run.startUs) / 1000)) : 0,
      clientStallMs,
      minDurationMs,
    }
  } finally {
    await Promise.all([...connections, ...probes].map((connection) => connection.close().catch(() => undefined)))
  }
}

/** Per node: the slowest of three TIME round trips, and its clock minus ours (from the fastest). */
async function measureClocks(connections: Array<{call(argv: Array<string | number>): Promise<Reply>}>): Promise<Array<{roundTripMs: number; offsetMs: number}>> {
  return Promise.all(
    connections.map(async (connection) => {
      let slowest = 0
      let best = {roundTripMs: Infinity, offsetMs: 0}
      for (let round = 0; round < 3; round++) {
        const sent = Date.now()
        const start = performance.now()
        const reply = await connection.call(['TIME'])
        const roundTripMs = performance.now() - start
        slowest = Math.max(slowest, roundTripMs)
        if (Array.isArray(reply) && roundTripMs < best.roundTripMs) {
          const serverMs = Number(String(reply[0])) * 1000 + Number(String(reply[1])) / 1000
          best = {roundTripMs, offsetMs: serverMs - (sent + roundTripMs / 2)}
        }
      }
      return {roundTripMs: slowest, offsetMs: best.offsetMs}
    }),
  )
}

/** Another client per node sending PING back to back: the longest wait is the stall readers saw. */
function startStallProbes(probes: Array<{call(argv: Array<string | number>): Promise<Reply>}>): {stop(): Promise<number>} {
  let running = true
  let worst = 0
  const loops = probes.map(async (probe) => {
    while (running) {
      const start = performance.now()
      try {
        await probe.call(['PING'])
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
      return worst
    },
  }
}
