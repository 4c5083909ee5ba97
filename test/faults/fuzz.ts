// npm run test:faults -- fuzz [--frames N] [--seed S] [--connections C] [--nodes N]
// The RESP fuzzer (fuzz-lib.ts) against a fresh engine cluster: defaults 1,000,000 frames, seed 1,
// 32 connections, 3 nodes. Fails (exit 1) on a crashed node, a session the server never closed, a
// control PING slower than 5 s or failed, an internal-error reply, or a node above 1 GB RSS.
import {startEngine} from '../../src/engine/index.js'
import {runFuzz, type FuzzReport} from './fuzz-lib.js'

export const PING_BOUND_MS = 5000
export const RSS_BOUND_BYTES = 1024 * 1024 * 1024

export function problems(report: FuzzReport): string[] {
  const out: string[] = []
  report.nodesAlive.forEach((ok, i) => ok || out.push(`node ${i} crashed`))
  if (report.stuckSessions) out.push(`${report.stuckSessions} session(s) never closed by the server`)
  if (report.pingsFailed) out.push(`${report.pingsFailed} control PING(s) failed`)
  if (report.maxPingMs > PING_BOUND_MS) out.push(`a control PING took ${report.maxPingMs} ms (bound ${PING_BOUND_MS})`)
  if (report.internalErrors) out.push(`${report.internalErrors} internal-error replies, e.g. ${JSON.stringify(report.internalErrorSamples[0])}`)
  report.peakRssBytes.forEach((b, i) => b > RSS_BOUND_BYTES && out.push(`node ${i} peaked at ${Math.round(b / 1048576)} MB RSS`))
  return out
}

export async function fuzzMain(args: string[]): Promise<number> {
  const opt = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? Number(args[i + 1]) : fallback
  }
  const frames = opt('frames', 1_000_000)
  const seed = opt('seed', 1)
  const connections = opt('connections', 32)
  const nodes = opt('nodes', 3)
  const engine = await startEngine({nodes})
  try {
    process.stderr.write(`fuzz: ${frames} frames, seed ${seed}, ${connections} connections, ${nodes}-node engine cluster\n`)
    const report = await runFuzz({
      ports: engine.nodes.map((n) => n.port),
      pids: engine.nodes.map((n) => n.pid),
      frames,
      seed,
      connections,
      progress: (line) => process.stderr.write(line + '\n'),
    })
    const mb = (b: number) => `${Math.round(b / 1048576)} MB`
    console.log(`frames sent        ${report.framesSent} (${mb(report.bytesSent)}) in ${report.sessions} sessions, seed ${report.seed}`)
    console.log(`frame kinds        ${Object.entries(report.kinds).map(([k, n]) => `${k} ${n}`).join(', ')}`)
    console.log(`commands executed  ${report.commandsProcessed}`)
    console.log(`crashes            ${report.nodesAlive.filter((a) => !a).length}`)
    console.log(`stuck sessions     ${report.stuckSessions}`)
    console.log(`internal errors    ${report.internalErrors}`)
    console.log(`control PING max   ${report.maxPingMs} ms (failed ${report.pingsFailed})`)
    console.log(`peak RSS per node  ${report.peakRssBytes.map(mb).join(', ')}`)
    console.log(`duration           ${(report.durationMs / 1000).toFixed(1)} s`)
    const found = problems(report)
    for (const p of found) console.log(`PROBLEM: ${p}`)
    return found.length ? 1 : 0
  } finally {
    await engine.stop()
  }
}
