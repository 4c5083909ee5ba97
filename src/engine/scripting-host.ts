// What the engine needs from the Lua bridge (src/engine/scripting): the node and the command
// handlers see these shapes only, not the Lua VM behind them.
import type {ErrorReply, Reply} from './resp/reply.js'

export interface ScriptHostLike {
  call(argv: Buffer[]): Reply
  /** Every Buffer in call()'s replies is new and handed over (Lua keeps it without a copy). */
  handsOverBuffers?: boolean
}

export interface ScriptFlagsLike {
  shebang: boolean
  flags: Set<string>
}

export interface ScriptEngineLike {
  parseFlags(body: Buffer): ScriptFlagsLike | ErrorReply
  load(body: Buffer): string | ErrorReply
  exists(sha: string): boolean
  flush(): void
  bodyOf(sha: string): Buffer | undefined
  run(body: Buffer, keys: Buffer[], args: Buffer[], host: ScriptHostLike): Reply
}

/** The Lua bridge a node runs EVAL with, loaded when the node starts. */
export async function loadScriptEngine(): Promise<ScriptEngineLike> {
  const {ScriptEngine} = await import('./scripting/index.js')
  return new ScriptEngine()
}
