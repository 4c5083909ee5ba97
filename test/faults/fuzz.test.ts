// The RESP fuzzer's small run in the default suite (20,000 frames, fixed seed): no crash, no stuck
// session, no internal-error reply, control PINGs answered, RSS bounded. The full run (1M frames)
// is `npm run test:faults -- fuzz`.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {makeSession, rng, runFuzz} from './fuzz-lib.js'
import {problems} from './fuzz.js'

describe('RESP fuzzer (small run)', () => {
  let engine: TestEngine
  beforeAll(async () => {
    engine = await startTestEngine({nodes: 3})
  })
  afterAll(() => engine?.stop())

  it('the same seed makes the same frames', () => {
    const a = rng(7)
    const b = rng(7)
    for (let i = 0; i < 20; i++) {
      const x = Buffer.concat(makeSession(a, 200).map((f) => f.bytes))
      expect(x.equals(Buffer.concat(makeSession(b, 200).map((f) => f.bytes)))).toBe(true)
    }
  })

  it('20,000 frames over 16 connections: no crash, no hang, bounded memory', async () => {
    const report = await runFuzz({
      ports: engine.nodes.map((n) => n.port),
      pids: engine.nodes.map((n) => n.pid),
      frames: 20_000,
      seed: 13,
      connections: 16,
    })
    expect(problems(report)).toEqual([])
    expect(report.framesSent).toBe(20_000)
    expect(report.commandsProcessed).toBeGreaterThan(5000)
  })
})
