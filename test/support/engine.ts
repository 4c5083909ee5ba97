// Starts the bundled engine for a test file on ephemeral ports, and stops it afterwards.
import {startEngine, type EngineHandle, type EngineOptions} from '../../src/engine/index.js'

export type TestEngine = EngineHandle

/** A 3-node cluster by default; every node on a free loopback port. */
export async function startTestEngine(options: EngineOptions = {}): Promise<TestEngine> {
  return startEngine({...options, ports: undefined, basePort: undefined})
}

/** The node of `engine` serving `slot`. */
export function nodeForSlot(engine: EngineHandle, slot: number) {
  const node = engine.nodes.find((n) => n.slots.some(([from, to]) => slot >= from && slot <= to))
  if (!node) throw new Error(`no node serves slot ${slot}`)
  return node
}
