// The bundled engine on exactly the commands a cluster cutover sends, without flip's client cost.
//
//   npx tsx test/bench/engine-cutover-path.ts [--keys 1000000] [--rounds 2] [--only multi|atomic]
//
// 3-node engine (child processes, as `flip engine start`), N keys in live (db 0) and N in the
// shadow (db 1). Every request is encoded before the clock starts, so the figures are the
// engine's: wall time, and CPU time of the node processes (/proc/<pid>/stat, every thread) per MOVE.
//   batched: per slot one MULTI of SELECT 0, MOVE k 2 …, SELECT 1, MOVE k 0 …, SELECT 0, EXEC
//            (src/cutover/move.ts), all nodes in parallel, ~8192 MOVEs per write, 2 writes in flight;
//            then the rollback (live → shadow, archive → live) the same way.
//   atomic:  SWITCH_SCRIPT (src/cutover/atomic.ts) cutover-replace on every node at once, then
//            rollback-replace; script time from its TIME to a TIME pipelined behind it.
import {readFileSync} from 'node:fs'
import {connect, type Socket} from 'node:net'
import {SWITCH_SCRIPT} from '../../src/cutover/atomic.js'
import {startEngine} from '../../src/engine/index.js'
import {CommandEncoder, ReplyReader, type Reply} from '../../src/plane/resp.js'
import {keySlot} from '../../src/util/keyslot.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)
const KEYS = Number(option('--keys', '1000000'))
const ROUNDS = Number(option('--rounds', '2'))
const ONLY = option('--only', '')

interface Pending {
  replies: Reply[]
  count: number
  resolve: (replies: Reply[]) => void
}

class Conn {
  private readonly waiting: Pending[] = []
  private head = 0
  private readonly reader = new ReplyReader((reply) => {
    const p = this.waiting[this.head]
    p.replies.push(reply)
    if (p.replies.length === p.count) {
      this.waiting[this.head++] = undefined as unknown as Pending
      p.resolve(p.replies)
    }
  })
  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => this.reader.feed(chunk))
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new Conn(socket)))
      socket.setNoDelay(true)
      socket.once('error', reject)
    })
  }
  /** Sends pre-encoded bytes holding `count` commands; resolves with their replies. */
  send(bytes: Buffer, count: number): Promise<Reply[]> {
    return new Promise((resolve) => {
      this.waiting.push({replies: [], count, resolve})
      this.socket.write(bytes)
    })
  }
  call(...argv: Array<string | number | Buffer>): Promise<Reply> {
    const e = new CommandEncoder(1024)
    e.append(argv)
    return this.send(e.take(), 1).then((r) => r[0])
  }
  close(): void {
    this.socket.destroy()
  }
}

interface Batch {
  bytes: Buffer
  count: number
}

/** CPU time of a process, all threads (GC helpers included), in ns (10 ms resolution). */
const cpuNs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1e7
}

const engine = await startEngine({nodes: 3})
const conns = await Promise.all(engine.nodes.map((n) => Conn.open(n.port)))
const owner = new Int16Array(16384)
for (const n of engine.nodes) for (const [a, b] of n.slots) owner.fill(n.index, a, b + 1)

// keys per node per slot
const slotsByNode: Array<Map<number, Buffer[]>> = engine.nodes.map(() => new Map())
for (let i = 0; i < KEYS; i++) {
  const key = Buffer.from(`price:${i}`)
  const slot = keySlot(key)
  const bySlot = slotsByNode[owner[slot]]
  let list = bySlot.get(slot)
  if (list === undefined) bySlot.set(slot, (list = []))
  list.push(key)
}

function loadBatches(node: number, db: number, prefix: string): Batch[] {
  const e = new CommandEncoder(1 << 20)
  e.append(['SELECT', db])
  for (const keys of slotsByNode[node].values()) {
    const argv: Array<string | Buffer> = ['MSET']
    for (const k of keys) argv.push(k, prefix + k.toString())
    e.append(argv)
  }
  e.append(['SELECT', 0])
  const count = e.count
  return [{bytes: e.take(), count}]
}

/** The batched switch of one node: [from, to] steps per slot, as src/cutover/move.ts encodes it. */
function moveBatches(node: number, steps: Array<[number, number]>, home: number): Batch[] {
  const batches: Batch[] = []
  let e = new CommandEncoder(256 * 1024)
  let moves = 0
  for (const keys of slotsByNode[node].values()) {
    e.append(['MULTI'])
    for (const [from, to] of steps) {
      e.append(['SELECT', from])
      const target = Buffer.from(String(to))
      for (const k of keys) e.append([Buffer.from('MOVE'), k, target])
    }
    e.append(['SELECT', home])
    e.append(['EXEC'])
    moves += keys.length * steps.length
    if (moves >= 8192) {
      const count = e.count
      batches.push({bytes: e.take(), count})
      e = new CommandEncoder(256 * 1024)
      moves = 0
    }
  }
  if (e.count > 0) {
    const count = e.count
    batches.push({bytes: e.take(), count})
  }
  return batches
}

async function sendWindowed(conn: Conn, batches: Batch[]): Promise<void> {
  const inFlight: Array<Promise<Reply[]>> = []
  for (const b of batches) {
    inFlight.push(conn.send(b.bytes, b.count))
    if (inFlight.length >= 2) check(await inFlight.shift()!)
  }
  while (inFlight.length) check(await inFlight.shift()!)
}

function check(replies: Reply[]): void {
  for (const r of replies) if (r instanceof Error) throw new Error(`engine error: ${r.message}`)
}

async function measure(label: string, moves: number, run: () => Promise<void>): Promise<void> {
  const cpu0 = engine.nodes.map((n) => cpuNs(n.pid))
  const t0 = performance.now()
  await run()
  const wall = performance.now() - t0
  const cpu = engine.nodes.map((n, i) => (cpuNs(n.pid) - cpu0[i]) / 1e6)
  const total = cpu.reduce((a, b) => a + b, 0)
  console.log(
    `${label.padEnd(22)} wall ${wall.toFixed(0).padStart(6)} ms   node CPU ${cpu.map((c) => c.toFixed(0)).join('/')} ms   ` +
      `${((total * 1000) / moves).toFixed(3)} µs CPU per MOVE`,
  )
}

async function time(conn: Conn): Promise<number> {
  const t = (await conn.call('TIME')) as Buffer[]
  return Number(t[0].toString()) * 1e6 + Number(t[1].toString())
}

try {
  console.log(`engine cutover path, ${KEYS.toLocaleString('en-US')} keys live + staged, 3 nodes; load ${(await import('node:os')).loadavg()[0].toFixed(2)}`)
  const t0 = performance.now()
  await Promise.all(conns.map(async (c, i) => {
    for (const b of loadBatches(i, 0, 'old-')) check(await c.send(b.bytes, b.count))
    for (const b of loadBatches(i, 1, 'sale-')) check(await c.send(b.bytes, b.count))
  }))
  console.log(`loaded in ${(performance.now() - t0).toFixed(0)} ms`)
  const moves = 2 * KEYS
  for (let round = 0; round < ROUNDS; round++) {
    if (ONLY !== 'atomic') {
      const cut = conns.map((_, i) => moveBatches(i, [[0, 2], [1, 0]], 0))
      const back = conns.map((_, i) => moveBatches(i, [[0, 1], [2, 0]], 0))
      await measure('batched cutover', moves, () => Promise.all(conns.map((c, i) => sendWindowed(c, cut[i]))).then(() => undefined))
      await measure('batched rollback', moves, () => Promise.all(conns.map((c, i) => sendWindowed(c, back[i]))).then(() => undefined))
    }
    if (ONLY !== 'multi') {
      for (const op of ['cutover-replace', 'rollback-replace']) {
        const scriptMs: number[] = []
        await measure(`atomic ${op.split('-')[0]}`, moves, async () => {
          await Promise.all(conns.map(async (c) => {
            const e = new CommandEncoder(8192)
            e.append(['EVAL', SWITCH_SCRIPT, 0, op, 0, 1, 2, 0])
            e.append(['TIME'])
            const [reply, after] = await c.send(e.take(), 2)
            if (!Array.isArray(reply)) throw new Error(`script failed: ${String(reply)}`)
            const start = Number(String(reply[0])) * 1e6 + Number(String(reply[1]))
            const end = Number(String((after as Buffer[])[0])) * 1e6 + Number(String((after as Buffer[])[1]))
            scriptMs.push((end - start) / 1000)
            if (Number(reply[3]) !== Number(reply[4])) throw new Error(`script moved ${String(reply[3])} of ${String(reply[4])}`)
          }))
        })
        console.log(`${''.padEnd(22)} script ms per node ${scriptMs.map((m) => m.toFixed(0)).join('/')}`)
      }
    }
  }
  void time
} finally {
  for (const c of conns) c.close()
  await engine.stop()
}
