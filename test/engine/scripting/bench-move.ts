// Benchmark (not a test): how fast a script can SELECT and MOVE keys through redis.call.
// flip's atomic cutover runs one such script per primary with ~333k keys (1M keys on 3 nodes).
// Run: npx tsx test/engine/scripting/bench-move.ts [keys]
import {ScriptEngine, type ScriptHost} from '../../../src/engine/scripting/index.js'
import {ErrorReply, OK, type Reply} from '../../../src/engine/resp/reply.js'

const KEYS = Number(process.argv[2] ?? 300_000)

// A trivial in-memory host: two databases, MOVE and SELECT only.
function makeHost(keys: Buffer[]): ScriptHost & {moved: number} {
  const dbs = [new Set<string>(), new Set<string>()]
  for (const key of keys) dbs[1].add(key.toString('latin1'))
  let selected = 0
  return {
    moved: 0,
    call(argv: Buffer[]): Reply {
      const name = argv[0].toString('latin1').toUpperCase()
      if (name === 'SELECT') {
        selected = Number(argv[1].toString('latin1'))
        return OK
      }
      if (name === 'MOVE') {
        const key = argv[1].toString('latin1')
        const target = Number(argv[2].toString('latin1'))
        if (!dbs[selected].delete(key)) return 0
        dbs[target].add(key)
        this.moved++
        return 1
      }
      return new ErrorReply(`ERR unknown command '${name}'`)
    },
  }
}

const SCRIPT = Buffer.from(`#!lua flags=allow-cross-slot-keys
redis.call('SELECT', ARGV[1])
local moved = 0
for i = 3, #ARGV do
  moved = moved + redis.call('MOVE', ARGV[i], ARGV[2])
end
return moved
`)

const keys = Array.from({length: KEYS}, (_, i) => Buffer.from(`price:{${i % 16384}}:${i}`))
const engine = new ScriptEngine()

for (let round = 1; round <= 3; round++) {
  const host = makeHost(keys)
  const rssBefore = process.memoryUsage().rss
  const started = process.hrtime.bigint()
  const reply = engine.run(SCRIPT, [], [Buffer.from('1'), Buffer.from('0'), ...keys], host)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const rssMb = (process.memoryUsage().rss - rssBefore) / 1e6
  console.log(
    `round ${round}: ${KEYS} MOVEs in ${ms.toFixed(0)} ms = ${((ms * 1000) / KEYS).toFixed(2)} µs/call, ` +
      `${Math.round(KEYS / (ms / 1000)).toLocaleString('en')} calls/s, reply ${String(reply)}, rss +${rssMb.toFixed(0)} MB`,
  )
}

// The bare bridge cost: a host that does nothing.
const nullHost: ScriptHost = {call: () => 1}
const loop = Buffer.from(`local n = 0 for i = 1, #ARGV do n = n + redis.call('MOVE', ARGV[i], '0') end return n`)
const started = process.hrtime.bigint()
engine.run(loop, [], keys, nullHost)
const ms = Number(process.hrtime.bigint() - started) / 1e6
console.log(`bridge only: ${KEYS} calls in ${ms.toFixed(0)} ms = ${((ms * 1000) / KEYS).toFixed(2)} µs/call`)
