// Benchmark (not a test): how fast a script can SELECT and MOVE keys through redis.call.
// flip's atomic cutover runs one such script per primary with ~333k keys (1M keys on 3 nodes).
// Run: npx tsx test/engine/scripting/bench-move.ts [keys]
import {ScriptEngine, type ScriptHost} from '../../../src/engine/scripting/index.js'
import {ErrorReply, OK, type Reply} from '../../../src/engine/resp/reply.js'

const KEYS = Number(process.argv[2] ?? 300_000)

// A trivial in-memory host: a few databases, SELECT, MOVE, SCAN and TIME. Keys are kept as
// latin1 strings, as the engine does.
function makeHost(keys: Buffer[]): ScriptHost {
  const dbs = [new Map<string, true>(), new Map<string, true>(), new Map<string, true>()]
  for (const key of keys) dbs[1].set(key.toString('latin1'), true)
  let selected = 0
  let scanned: string[] = []
  return {
    call(argv: Buffer[]): Reply {
      const name = argv[0].toString('latin1').toUpperCase()
      switch (name) {
        case 'MOVE': {
          const key = argv[1].toString('latin1')
          const target = dbs[Number(argv[2].toString('latin1'))]
          if (!dbs[selected].delete(key) || target.has(key)) return 0
          target.set(key, true)
          return 1
        }
        case 'SELECT':
          selected = Number(argv[1].toString('latin1'))
          return OK
        case 'SCAN': {
          // cursor = position in a snapshot taken at cursor 0; fine for a db nobody writes meanwhile
          const from = Number(argv[1].toString('latin1'))
          const count = Number(argv[3].toString('latin1'))
          if (from === 0) scanned = [...dbs[selected].keys()]
          const page = scanned.slice(from, from + count)
          const next = from + count >= scanned.length ? 0 : from + count
          return [Buffer.from(String(next)), page.map((key) => Buffer.from(key, 'latin1'))]
        }
        case 'TIME': {
          const us = BigInt(Date.now()) * 1000n
          return [Buffer.from(String(us / 1_000_000n)), Buffer.from(String(us % 1_000_000n))]
        }
        default:
          return new ErrorReply(`ERR unknown command '${name}'`)
      }
    },
  }
}

// 1) The keys come in ARGV.
const MOVE_ARGV = Buffer.from(`#!lua flags=allow-cross-slot-keys
redis.call('SELECT', ARGV[1])
local moved = 0
for i = 3, #ARGV do
  moved = moved + redis.call('MOVE', ARGV[i], ARGV[2])
end
return moved
`)

// 2) The shape of flip's switch script (src/cutover/atomic.ts): SCAN the shadow db, then MOVE.
const SCAN_AND_MOVE = Buffer.from(`#!lua flags=allow-cross-slot-keys
local shadow, live = tonumber(ARGV[1]), tonumber(ARGV[2])
local t0 = redis.call('TIME')
redis.call('SELECT', shadow)
local keys, cursor = {}, '0'
repeat
  local page = redis.call('SCAN', cursor, 'COUNT', 1000)
  cursor = page[1]
  local found = page[2]
  for i = 1, #found do keys[#keys + 1] = found[i] end
until cursor == '0'
local n = 0
for i = 1, #keys do n = n + redis.call('MOVE', keys[i], live) end
return n
`)

const keys = Array.from({length: KEYS}, (_, i) => Buffer.from(`price:{${i % 16384}}:${i}`))
const engine = new ScriptEngine()

function measure(label: string, run: () => Reply): void {
  // CPU time too: on a shared 2-core machine wall time mostly measures the neighbours.
  const cpuBefore = process.cpuUsage()
  const started = process.hrtime.bigint()
  const reply = run()
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const cpu = process.cpuUsage(cpuBefore)
  const cpuMs = (cpu.user + cpu.system) / 1000
  console.log(
    `${label}: ${KEYS} MOVEs in ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU = ` +
      `${((cpuMs * 1000) / KEYS).toFixed(2)} µs CPU/key, ${Math.round(KEYS / (cpuMs / 1000)).toLocaleString('en')} keys per CPU-second (reply ${String(reply)})`,
  )
}

for (let round = 1; round <= 3; round++) {
  measure(`keys in ARGV, round ${round}`, () => engine.run(MOVE_ARGV, [], [Buffer.from('1'), Buffer.from('0'), ...keys], makeHost(keys)))
  measure(`SCAN + MOVE, round ${round}`, () => engine.run(SCAN_AND_MOVE, [], [Buffer.from('1'), Buffer.from('0')], makeHost(keys)))
}

// The bare bridge cost: a host that does nothing.
const nullHost: ScriptHost = {call: () => 1}
const loop = Buffer.from(`local n = 0 for i = 1, #ARGV do n = n + redis.call('MOVE', ARGV[i], '0') end return n`)
measure('bridge only (host returns 1)', () => engine.run(loop, [], keys, nullHost))
