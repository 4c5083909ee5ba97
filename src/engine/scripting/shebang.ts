// The `#!lua flags=a,b` first line of a script, parsed as Valkey's evalExtractShebangFlags does.
import {ErrorReply} from '../resp/reply.js'

/** The flags Valkey 9 knows (script.c scripts_flags_def). */
export const KNOWN_SCRIPT_FLAGS: ReadonlySet<string> = new Set([
  'no-writes',
  'allow-oom',
  'allow-stale',
  'no-cluster',
  'allow-cross-slot-keys',
])

export interface Shebang {
  /** True when the script starts with a `#!lua` line (no compatibility mode). */
  shebang: boolean
  flags: Set<string>
  /** Bytes to skip before compiling: the shebang line without its '\n' (keeps line numbers). */
  length: number
}

const NEWLINE = 0x0a
const HASH = 0x23
const BANG = 0x21

export function parseShebang(body: Buffer): Shebang | ErrorReply {
  if (body.length < 2 || body[0] !== HASH || body[1] !== BANG) {
    return {shebang: false, flags: new Set(), length: 0}
  }
  const end = body.indexOf(NEWLINE)
  if (end < 0) return new ErrorReply('ERR Invalid script shebang')
  const parts = splitArgs(body.toString('latin1', 0, end))
  if (parts === null || parts.length === 0) return new ErrorReply('ERR Invalid engine in script shebang')
  // Valkey 9 looks the engine up by name (eval.c): an unknown one is "Could not find scripting engine".
  if (parts[0] !== '#!lua') return new ErrorReply(`ERR Could not find scripting engine '${parts[0].slice(2)}'`)

  const flags = new Set<string>()
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return new ErrorReply(`ERR Unknown lua shebang option: ${part}`)
    const list = part.slice('flags='.length)
    if (list === '') continue // "flags=" declares no flags
    for (const flag of list.split(',')) {
      if (!KNOWN_SCRIPT_FLAGS.has(flag)) return new ErrorReply(`ERR Unexpected flag in script shebang: ${flag}`)
      flags.add(flag)
    }
  }
  return {shebang: true, flags, length: end}
}

/**
 * Splits a line into words like sdssplitargs: blanks separate, "double" and 'single' quotes
 * group (with \" and \' escapes). Returns null for unbalanced quotes, as sdssplitargs does.
 */
function splitArgs(line: string): string[] | null {
  const words: string[] = []
  let i = 0
  while (true) {
    while (i < line.length && /\s/.test(line[i])) i++
    if (i >= line.length) return words
    let word = ''
    let quote: '"' | "'" | null = null
    for (;;) {
      const ch = line[i]
      if (quote !== null) {
        if (ch === undefined) return null
        if (ch === '\\' && line[i + 1] === quote) {
          word += quote
          i += 2
          continue
        }
        if (ch === quote) {
          // a closing quote must be followed by a blank or the end
          if (i + 1 < line.length && !/\s/.test(line[i + 1])) return null
          i++
          break
        }
        word += ch
        i++
        continue
      }
      if (ch === undefined || /\s/.test(ch)) break
      if (ch === '"' || ch === "'") quote = ch
      else word += ch
      i++
    }
    words.push(word)
  }
}
