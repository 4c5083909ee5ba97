// One engine node in this process (a 1-node cluster owning every slot), driven through the same
// path a socket uses (RESP parser → processCommand → reply encoder) with the cutover's commands:
// for profiling (`node --cpu-prof --import tsx test/bench/engine-cutover-inproc.ts`) and for
// steady µs-per-MOVE figures that do not depend on other processes sharing the machine.
//
//   npx tsx test/bench/engine-cutover-inproc.ts [--keys 333000] [--rounds 3] [--only multi|atomic]
import {SWITCH_SCRIPT} from '../../src/cutover/atomic.js'
import {Client} from '../../src/engine/client.js'
import {Topology} from '../../src/engine/cluster/topology.js'
import {processCommand} from '../../src/engine/dispatch.js'
import {EngineNode} from '../../src/engine/node.js'
import {openNodeOps} from '../../src/engine/persist/node-ops.js'
import {RequestParser} from '../../src/engine/resp/parser.js'
import {loadScriptEngine} from '../../src/engine/scripting-host.js'
import {CommandEncoder} from '../../src/plane/resp.js'
import {keySlot} from '../../src/util/keyslot.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)
const KEYS = Number(option('--keys', '333000'))
const ROUNDS = Number(option('--rounds', '3'))
const ONLY = option('--only', '')

const config = {index: 0, mode: 'cluster' as const, databases: 16, host: '127.0.0.1', port: 1}
const opened = openNodeOps(config) // as node-process.ts does (no snapshot dir, no limits)
const node = new EngineNode(config, opened.keyspace)
node.ops = opened.ops
node.topology = new Topology([{index: 0, id: 'a'.repeat(40), shardId: 'b'.repeat(40), host: '127.0.0.1', port: 1, slots: [[0, 16383]]}], 0)
node.scripts = await loadScriptEngine()
const client = new Client(node, '127.0.0.1:2', '127.0.0.1:1')

/** Feeds bytes to the node in 64 KB chunks, as a socket would, and drops the encoded replies. */
function feed(bytes: Buffer): void {
  const parser = new RequestParser()
  const sink = {
    command(argv: string[]): boolean {
      client.writer.reply(processCommand(client, argv), client.resp)
      return true
    },
    protocolError(message: string): void {
      throw new Error(message)
    },
  }
  for (let at = 0; at < bytes.length; at += 65536) {
    parser.feed(bytes.subarray(at, at + 65536), sink)
    client.writer.take()
  }
}

const bySlot = new Map<number, Buffer[]>()
for (let i = 0; i < KEYS; i++) {
  const key = Buffer.from(`price:${i}`)
  const slot = keySlot(key)
  let list = bySlot.get(slot)
  if (list === undefined) bySlot.set(slot, (list = []))
  list.push(key)
}

function encodeLoad(db: number, prefix: string): Buffer {
  const e = new CommandEncoder(1 << 20)
  e.append(['SELECT', db])
  for (const keys of bySlot.values()) {
    const argv: Array<string | Buffer> = ['MSET']
    for (const k of keys) argv.push(k, prefix + k.toString())
    e.append(argv)
  }
  e.append(['SELECT', 0])
  return e.take()
}

function encodeMoves(steps: Array<[number, number]>): Buffer {
  const e = new CommandEncoder(1 << 20)
  const MOVE = Buffer.from('MOVE')
  for (const keys of bySlot.values()) {
    e.append(['MULTI'])
    for (const [from, to] of steps) {
      e.append(['SELECT', from])
      const target = Buffer.from(String(to))
      for (const k of keys) e.append([MOVE, k, target])
    }
    e.append(['SELECT', 0])
    e.append(['EXEC'])
  }
  return e.take()
}

const best = new Map<string, number>()

function measure(label: string, moves: number, run: () => void): void {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  run()
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const cpuMs = (cpu.user + cpu.system) / 1000
  best.set(label, Math.min(best.get(label) ?? Infinity, (cpuMs * 1000) / moves))
  console.log(
    `${label.padEnd(18)} wall ${wall.toFixed(0).padStart(5)} ms  CPU ${cpuMs.toFixed(0).padStart(5)} ms  ` +
      `${((wall * 1000) / moves).toFixed(3)} µs wall, ${((cpuMs * 1000) / moves).toFixed(3)} µs CPU per MOVE`,
  )
}

feed(encodeLoad(0, 'old-'))
feed(encodeLoad(1, 'sale-'))
console.log(`in-process engine node, ${KEYS.toLocaleString('en-US')} keys live + staged (db0 ${node.keyspace.db(0).size}, db1 ${node.keyspace.db(1).size})`)
const moves = 2 * KEYS
const cut = encodeMoves([[0, 2], [1, 0]])
const back = encodeMoves([[0, 1], [2, 0]])
for (let round = 0; round < ROUNDS; round++) {
  if (ONLY !== 'atomic') {
    measure('batched cutover', moves, () => feed(cut))
    measure('batched rollback', moves, () => feed(back))
  }
  if (ONLY !== 'multi') {
    for (const op of ['cutover-replace', 'rollback-replace']) {
      measure(`atomic ${op.split('-')[0]}`, moves, () => {
        const reply = processCommand(client, ['EVAL', SWITCH_SCRIPT, '0', op, '0', '1', '2', '0'])
        if (!Array.isArray(reply) || Number(reply[3]) !== Number(reply[4])) throw new Error(`script: ${String(reply)}`)
      })
    }
  }
}
if (node.keyspace.db(0).size !== KEYS || node.keyspace.db(1).size !== KEYS) throw new Error('keys lost')
console.log('best of each (µs CPU per MOVE): ' + [...best].map(([label, us]) => `${label} ${us.toFixed(3)}`).join(', '))
