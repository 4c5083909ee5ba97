// One error class for everything wrong with an input dataset. Its message is the one line a
// user sees: "prices.ndjson:42: unknown type "sett" (expected string, hash, set, zset or list)".
// line 0 means the problem is the file as a whole (missing, unreadable, unknown format).
import {EXIT, FlipError} from '../util/exit-codes.js'

/** Bad input: the CLI exits 2. */
export class DatasetError extends FlipError {
  readonly file: string
  readonly line: number
  readonly reason: string

  constructor(file: string, line: number, reason: string) {
    reason = reason.replace(/\s*[\r\n]+\s*/g, ' ').trim() // always one line
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`, EXIT.usage)
    this.name = 'DatasetError'
    this.file = file
    this.line = line
    this.reason = reason
  }
}

/** Shortens a user-supplied string for an error message (keys can be long or binary). */
export function quoteForError(text: string, max = 60): string {
  const shown = text.length > max ? `${text.slice(0, max)}…` : text
  return JSON.stringify(shown)
}
