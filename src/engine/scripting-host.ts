// What the engine needs from the Lua bridge (src/engine/scripting, written separately). The bridge
// is loaded at runtime so the engine builds and serves even before/without it.
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

/** Loads the bridge if it is present; null when it is not (EVAL then answers an error). */
export async function loadScriptEngine(): Promise<ScriptEngineLike | null> {
  const path = './scripting/index.js'
  try {
    const mod = (await import(path)) as {ScriptEngine?: new () => ScriptEngineLike}
    return mod.ScriptEngine ? new mod.ScriptEngine() : null
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return null
    throw error
  }
}
