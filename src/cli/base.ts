// The base of every flip command: --json with a stable error shape, one-line errors,
// and the documented exit codes (oclif alone would exit 1 for everything in --json mode).
import {Command, Flags} from '@oclif/core'
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

  /** Errors as one line on stderr (or {"error": …} on stdout with --json), then the right exit code. */
  async catch(error: Error & {exitCode?: number}): Promise<void> {
    const code = exitCodeOf(error)
    const message = oneLine(error)
    if (this.jsonEnabled()) {
      this.logJson({error: {code, message}})
    } else {
      process.stderr.write(`${colorStderr.red('Error:')} ${message}\n`)
      if (process.env.FLIP_DEBUG && error.stack) process.stderr.write(error.stack + '\n')
    }
    this.exit(code === EXIT.ok ? EXIT.checkFailed : code)
  }

  /** A warning on stderr (also under --json, which keeps stdout for the result). */
  protected warnLine(message: string): void {
    process.stderr.write(`${colorStderr.yellow('Warning:')} ${message}\n`)
  }
}

function oneLine(error: Error): string {
  const message = error?.message ? String(error.message) : String(error)
  // oclif parse errors span several lines ("Nonexistent flag: --x\nSee more help with --help").
  return message.split('\n').map((line) => line.trim()).filter(Boolean).join(' — ')
}
