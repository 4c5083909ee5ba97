// The base of every flip command: --json with a stable error shape, one-line errors,
// and the documented exit codes (oclif alone would exit 1 for everything in --json mode).
import {Command, Errors, Flags} from '@oclif/core'
import {notify} from '../cutover/notify.js'
import {markDocumentWritten} from './interrupt.js'
import {notificationText} from './notify.js'
import {colorStderr} from './output.js'
import {EXIT, exitCodeOf} from '../util/exit-codes.js'

export abstract class BaseCommand extends Command {
  static enableJsonFlag = true

  static baseFlags = {
    'state-dir': Flags.string({
      summary: 'Directory for manifests, plans, journals and the engine record.',
      env: 'FLIP_STATE_DIR',
      helpGroup: 'GLOBAL',
    }),
  }

  /** Webhooks that hear about this run (set by commands with --notify, after parsing). */
  private webhooks: string[] = []
  /** The --json document of a failed run, kept for the notification. */
  private failureDocument?: Record<string, unknown>

  protected notifyTo(webhooks: string[]): void {
    this.webhooks = webhooks
  }

  /** Runs the command, then notifies its webhooks of the outcome (after all the work, never failing it). */
  protected async _run<T>(): Promise<T> {
    let result: T
    try {
      result = await super._run<T>()
    } catch (error) {
      if (this.failureDocument) await this.sendNotifications(this.failureDocument)
      throw error
    }
    if (isRecord(result)) await this.sendNotifications(result)
    return result
  }

  private async sendNotifications(document: Record<string, unknown>): Promise<void> {
    if (this.webhooks.length === 0) return
    const outcomes = await notify(this.webhooks, {text: notificationText(this.id ?? 'flip', document), document})
    for (const outcome of outcomes) {
      if (!outcome.ok) this.warnLine(`notification to ${outcome.webhook} failed (${outcome.error}, ${outcome.attempts} attempt${outcome.attempts === 1 ? '' : 's'})`)
    }
  }

  /**
   * Errors as one line on stderr, or under --json as the one document on stdout: the failed
   * command's full result (when the error carries one, e.g. a verify mismatch) plus
   * `error: {code, message}`. Then the right exit code.
   */
  async catch(error: Error & {exitCode?: number; result?: unknown}): Promise<void> {
    // An exit asked for on purpose has nothing left to say.
    if (error instanceof Errors.ExitError) throw error
    const code = isParseError(error) ? EXIT.usage : exitCodeOf(error)
    const message = oneLine(error)
    this.failureDocument = {...(isRecord(error.result) ? error.result : {}), error: {code, message}}
    if (this.jsonEnabled()) {
      this.logJson(this.failureDocument)
    } else {
      process.stderr.write(`${colorStderr.red('Error:')} ${message}\n`)
      if (process.env.FLIP_DEBUG && error.stack) process.stderr.write(error.stack + '\n')
    }
    this.exit(code === EXIT.ok ? EXIT.checkFailed : code)
  }

  /** Every --json document goes through here: one per run, so leaving at once afterwards must not print another. */
  logJson(json: unknown): void {
    markDocumentWritten()
    super.logJson(json)
  }

  /** A warning on stderr (also under --json, which keeps stdout for the result). */
  protected warnLine(message: string): void {
    process.stderr.write(`${colorStderr.yellow('Warning:')} ${message}\n`)
  }
}

/**
 * oclif's parse and validation errors (unknown flag, missing argument, bad option value): every
 * one is a CLIParseError, a CLIError that carries the parser's `parse` input. oclif does not
 * export CLIParseError itself, so the type is recognised by that shape.
 */
function isParseError(error: unknown): boolean {
  return error instanceof Errors.CLIError && 'parse' in error
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function oneLine(error: Error): string {
  const message = error?.message ? String(error.message) : String(error)
  // oclif parse errors span several lines ("Missing 1 required arg:\nfile  Dataset file(s)…\nSee more help with --help").
  const lines = message.split('\n').map((line) => line.trim()).filter(Boolean)
  if (lines.length > 1 && lines[0].endsWith(':')) {
    // "file  Dataset file(s)…" (a name and its description) reads as "file (Dataset file(s)…)".
    const [head, ...rest] = lines
    const named = rest.map((line) => line.replace(/^(\S+)\s{2,}(.+?)\.?$/, '$1 ($2)'))
    return `${head} ${named.join('. ')}`
  }
  return lines.join(' — ')
}
