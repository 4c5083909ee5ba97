// npm run test:faults -- crash [--runs N] [--save-seconds S] [--seed X]
// kill -9 of every engine node at a random moment while writes go on, then a restart from the
// same directory, N times (default 10, snapshots every S = 1 s). Each run checks that the engine
// starts (a torn snapshot would be refused), that every node's keys of that run are a prefix of
// the acknowledged sequence (the snapshot is one point in time, no holes), and reports how many
// acknowledged writes were lost. Fails (exit 1) when a start fails or a node shows a hole. Starts
// may take long on a loaded machine: the start timeout is 120 s (a refused snapshot fails at once).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startEngine, type EngineHandle} from '../../src/engine/index.js'
import {keySlot} from '../../src/util/keyslot.js'
import {RespClient, encodeCommand} from '../engine/support/resp-client.js'
import {rng} from './fuzz-lib.js'

/** A hash tag whose keys land on the node serving `slots`. */
function tagFor(slots: Array<[number, number]>): string {
  for (let i = 0; ; i++) {
    const slot = keySlot(`t${i}`)
    if (slots.some(([a, b]) => slot >= a && slot <= b)) return `t${i}`
  }
}

const keyOf = (tag: string, run: number, n: number) => `{${tag}}:${run}:${n}`

/** Writes SET key n in pipelined batches until stopped; counts the acknowledged ones (in order). */
function writer(port: number, tag: string, run: number): {acked: () => number; stop: () => Promise<void>} {
  let acked = 0
  let stopped = false
  const done = (async () => {
    let c: RespClient
    try {
      c = await RespClient.connect(port)
    } catch {
      return
    }
    while (!stopped && !c.closed) {
      const batch = Buffer.concat(Array.from({length: 50}, (_, i) => encodeCommand(['SET', keyOf(tag, run, acked + i), 'v'])))
      c.write(batch)
      for (let i = 0; i < 50; i++) {
        const reply = await Promise.race([c.next(), c.untilClosed().then(() => null)])
        if (reply !== '+OK') return
        acked++
      }
    }
    c.close()
  })()
  return {acked: () => acked, stop: async () => {
    stopped = true
    await done
  }}
}

async function present(port: number, tag: string, run: number, acked: number): Promise<{count: number; hole: boolean}> {
  const c = await RespClient.connect(port)
  try {
    // The keys of one run form a prefix 0..count-1 of what was acknowledged (plus maybe unacked ones).
    let lo = 0
    let hi = acked + 100
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((await c.call('EXISTS', keyOf(tag, run, mid))) === ':1') lo = mid + 1
      else hi = mid
    }
    const count = lo
    // Spot-check below the boundary: a hole would mean a torn or mixed snapshot.
    let hole = false
    for (let i = 0; i < 50 && count > 0; i++) {
      const n = Math.floor((i / 50) * count)
      if ((await c.call('EXISTS', keyOf(tag, run, n))) !== ':1') hole = true
    }
    return {count, hole}
  } finally {
    c.close()
  }
}

export async function crashMain(args: string[]): Promise<number> {
  const opt = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? Number(args[i + 1]) : fallback
  }
  const runs = opt('runs', 10)
  const saveSeconds = opt('save-seconds', 1)
  const r = rng(opt('seed', 1))
  const dir = mkdtempSync(join(tmpdir(), 'flip-crash-'))
  const problems: string[] = []
  console.log(`crash-restart: ${runs} runs, 3 nodes, snapshots every ${saveSeconds} s, kill -9 of every node at a random moment`)
  console.log('run  killed after  acked writes  restored  lost  lost %')
  let engine: EngineHandle | null = null
  try {
    const history: Array<{run: number; acked: number[]}> = []
    for (let run = 1; run <= runs; run++) {
      engine = await startEngine({nodes: 3, snapshotDir: dir, saveSeconds, startTimeoutMs: 120_000})
      const tags = engine.nodes.map((n) => tagFor(n.slots))
      // What earlier runs restored must still be there (each restart loads the last snapshot).
      for (const past of history.slice(-1)) {
        for (let i = 0; i < 3; i++) {
          const {hole} = await present(engine.nodes[i].port, tags[i], past.run, past.acked[i])
          if (hole) problems.push(`run ${run}: keys of run ${past.run} on node ${i} have a hole`)
        }
      }
      const writers = engine.nodes.map((n, i) => writer(n.port, tags[i], run))
      const after = 1500 + Math.floor(r() * 4500)
      await new Promise((res) => setTimeout(res, after))
      await Promise.all(engine.nodes.map((_, i) => engine!.killNode(i, 'SIGKILL')))
      const acked = writers.map((w) => w.acked())
      await Promise.all(writers.map((w) => w.stop()))
      try {
        engine = await startEngine({nodes: 3, snapshotDir: dir, saveSeconds, startTimeoutMs: 120_000})
      } catch (error) {
        problems.push(`run ${run}: the engine did not start again: ${(error as Error).message}`)
        engine = null
        break
      }
      let restored = 0
      for (let i = 0; i < 3; i++) {
        const p = await present(engine.nodes[i].port, tags[i], run, acked[i])
        if (p.hole) problems.push(`run ${run}: node ${i} restored keys with a hole`)
        restored += Math.min(p.count, acked[i])
      }
      const total = acked.reduce((a, b) => a + b, 0)
      const lost = total - restored
      console.log(`${String(run).padStart(3)}  ${String(after).padStart(9)} ms  ${String(total).padStart(12)}  ${String(restored).padStart(8)}  ${String(lost).padStart(4)}  ${((lost / Math.max(1, total)) * 100).toFixed(1).padStart(5)}`)
      history.push({run, acked})
      await engine.stop()
      engine = null
    }
  } finally {
    await engine?.stop()
    rmSync(dir, {recursive: true, force: true})
  }
  for (const p of problems) console.log(`PROBLEM: ${p}`)
  return problems.length ? 1 : 0
}
