import {ScriptEngine} from '../../../src/engine/scripting/index.js'
import type {Reply} from '../../../src/engine/resp/reply.js'
import {MemoryHost} from './memory-host.js'

export type Bytes = string | Buffer

export const bytes = (value: Bytes): Buffer => (typeof value === 'string' ? Buffer.from(value) : value)

/** One engine and one in-memory host, with EVAL-like helpers. */
export function scripting() {
  const engine = new ScriptEngine()
  const host = new MemoryHost()
  const evalScript = (script: Bytes, keys: Bytes[] = [], args: Bytes[] = []): Reply =>
    engine.run(bytes(script), keys.map(bytes), args.map(bytes), host)
  /** The reply with Buffers decoded as UTF-8 text, for readable expectations. */
  const evalText = (script: Bytes, keys: Bytes[] = [], args: Bytes[] = []): unknown => text(evalScript(script, keys, args))
  return {engine, host, evalScript, evalText}
}

export function text(reply: unknown): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString('utf8')
  if (Array.isArray(reply)) return reply.map(text)
  return reply
}
