// The engine's Lua scripting: EVAL / EVALSHA / SCRIPT LOAD|EXISTS|FLUSH run the same scripts
// flip sends to a Valkey 9.1 cluster, in a real Lua VM (fengari, Lua 5.3 in JS, made to behave
// like Valkey's Lua 5.1 where scripts can tell).
//
// The engine supplies a ScriptHost that runs one command as the script's client (its db, its
// cluster checks). Errors the host returns are worded as a client would see them without the
// script (e.g. "ERR Attempted to access a non local key in a cluster node"); when one escapes the
// script through redis.call, this bridge appends Valkey 9.1's " script: on @user_script:<line>.".
//
// Known differences from Valkey's Lua 5.1, none of which flip's scripts meet: bitwise operators
// and for-loop counters are 32-bit integers (numbers otherwise stay exact to 2^53 as 5.1 doubles;
// see fengari.ts), Lua's own error texts follow 5.3 ("attempt to call a nil value (local 'f')"),
// a few 5.3-only functions and operators exist (string.pack, math.tointeger, //, &),
// getfenv/setfenv and cjson/cmsgpack/struct/bit are absent, RESP3 booleans
// returned from a script go out as RESP2 (1 / nil), and a busy script is only stopped through
// host.interrupted() (SCRIPT KILL), never by a timeout of its own.
import {createHash} from 'node:crypto'

import {ErrorReply, type Reply} from '../resp/reply.js'
import {LuaVm, type ScriptLogger} from './lua-vm.js'
import {parseShebang} from './shebang.js'

export type {ScriptLogger} from './lua-vm.js'

/**
 * Runs one command inside the script; returns ErrorReply on error, never throws.
 * The argv Buffers may share memory with Lua strings: treat them as read-only.
 */
export interface ScriptHost {
  call(argv: Buffer[]): Reply
  /** True when every Buffer in call()'s replies is new and never used again by the host: Lua keeps it without a copy. */
  handsOverBuffers?: boolean
  /**
   * Optional: polled every ~100k Lua instructions; returning true aborts the script with
   * "ERR Script killed by user with SCRIPT KILL." (what has been done stays done).
   */
  interrupted?(): boolean
}

/** e.g. 'allow-cross-slot-keys', 'no-writes', 'allow-oom', 'no-cluster', 'allow-stale' */
export interface ScriptFlags {
  shebang: boolean
  flags: Set<string>
}

export interface ScriptEngineOptions {
  /** Receives redis.log() lines; dropped when absent. */
  log?: ScriptLogger
}

interface CachedScript {
  sha: string
  body: Buffer
  flags: ScriptFlags
  ref: number
  /** Added by EVAL only (not SCRIPT LOAD): may be evicted, as Valkey keeps at most 500 of those. */
  evalOnly: boolean
}

const EVAL_SCRIPTS_KEPT = 500

export function sha1hex(body: Buffer): string {
  return createHash('sha1').update(body).digest('hex')
}

export class ScriptEngine {
  private vm: LuaVm
  private readonly scripts = new Map<string, CachedScript>()
  /** Cached bodies by identity: EVALSHA hands back bodyOf()'s Buffer, so it skips hashing. */
  private bodies = new WeakMap<Buffer, CachedScript>()
  /** EVAL-only scripts, least recently used first. */
  private readonly evalScripts = new Set<string>()
  private readonly log: ScriptLogger

  constructor(options: ScriptEngineOptions = {}) {
    this.log = options.log ?? (() => {})
    this.vm = new LuaVm(this.log)
  }

  /** The `#!lua flags=a,b` shebang; Valkey's errors for an unknown engine, option or flag. */
  parseFlags(body: Buffer): ScriptFlags | ErrorReply {
    const cached = this.bodies.get(body)
    if (cached !== undefined) return cached.flags
    const shebang = parseShebang(body)
    if (shebang instanceof ErrorReply) return shebang
    return {shebang: shebang.shebang, flags: shebang.flags}
  }

  /** SCRIPT LOAD: compile-checks and caches the body; returns its lowercase sha1 hex. */
  load(body: Buffer): string | ErrorReply {
    const script = this.cache(body, false)
    return script instanceof ErrorReply ? script : script.sha
  }

  /** SCRIPT EXISTS (case-insensitive, as Valkey's script dict). */
  exists(sha: string): boolean {
    return this.scripts.has(sha.toLowerCase())
  }

  /** SCRIPT FLUSH: forgets every script and starts a fresh Lua state, as Valkey does. */
  flush(): void {
    this.scripts.clear()
    this.evalScripts.clear()
    this.bodies = new WeakMap()
    this.vm = new LuaVm(this.log)
  }

  /** The body cached under `sha` (for EVALSHA), or undefined (NOSCRIPT). */
  bodyOf(sha: string): Buffer | undefined {
    return this.scripts.get(sha.toLowerCase())?.body
  }

  /** EVAL: compiles (or finds) the script, runs it with KEYS and ARGV, returns its reply. */
  run(body: Buffer, keys: Buffer[], args: Buffer[], host: ScriptHost): Reply {
    const script = this.cache(body, true)
    if (script instanceof ErrorReply) return script
    return this.vm.run(script.ref, keys, args, host)
  }

  private cache(body: Buffer, fromEval: boolean): CachedScript | ErrorReply {
    let sha: string | undefined
    let script = this.bodies.get(body)
    if (script === undefined) {
      sha = sha1hex(body)
      script = this.scripts.get(sha)
    } else if (!this.scripts.has(script.sha)) {
      script = undefined // evicted
    }
    if (script !== undefined) {
      if (script.evalOnly) {
        if (fromEval) {
          this.evalScripts.delete(script.sha) // most recently used goes last
          this.evalScripts.add(script.sha)
        } else {
          script.evalOnly = false // SCRIPT LOAD promotes it: never evicted
          this.evalScripts.delete(script.sha)
        }
      }
      return script
    }

    const shebang = parseShebang(body)
    if (shebang instanceof ErrorReply) return shebang
    // Keep a copy: the caller's Buffer may be a view of a socket buffer that gets reused.
    const copy = Buffer.from(body)
    const ref = this.vm.compile(copy, shebang.length)
    if (ref instanceof ErrorReply) return ref

    script = {
      sha: sha ?? sha1hex(copy),
      body: copy,
      flags: {shebang: shebang.shebang, flags: shebang.flags},
      ref,
      evalOnly: fromEval,
    }
    if (fromEval) {
      while (this.evalScripts.size >= EVAL_SCRIPTS_KEPT) this.evict(this.evalScripts.values().next().value as string)
      this.evalScripts.add(script.sha)
    }
    this.scripts.set(script.sha, script)
    this.bodies.set(copy, script)
    return script
  }

  private evict(sha: string): void {
    const script = this.scripts.get(sha)
    this.evalScripts.delete(sha)
    if (script === undefined) return
    this.scripts.delete(sha)
    this.vm.release(script.ref)
  }
}
