// Ctrl-C and SIGTERM for the commands that run a while (stage, verify, cutover): one place that
// turns the signals into an AbortSignal the core honours, so every command stops the same way.
//
// Once a listener is installed Node no longer dies on SIGINT/SIGTERM by itself, so the first
// signal only asks the work to stop (the core then leaves things consistent: a manifest marked
// incomplete, a lock released); what a further signal does is the command's choice, by
// default it leaves at once with exit 130 (useful when the work is stuck somewhere that does
// not look at the signal).
import {EXIT} from '../util/exit-codes.js'
import {InterruptedError} from '../util/interrupt.js'

export type InterruptName = 'SIGINT' | 'SIGTERM'

export interface InterruptTrap {
  /** Aborted at the first signal; its reason is an InterruptedError naming it. */
  readonly signal: AbortSignal
  /** Signals received so far. */
  readonly count: number
  /**
   * Decide what each signal does instead of the default (first: abort `signal`; then exit 130).
   * The handler runs synchronously in the signal's event.
   */
  handle(handler: ((count: number, name: InterruptName) => void) | undefined): void
  /** Abort `signal` now (what the default does at the first signal). */
  abort(name?: InterruptName): void
  /** Remove the listeners (Node's default behaviour comes back). */
  dispose(): void
}

export function describeSignal(name: InterruptName): string {
  return name === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'
}

export function trapInterrupts(): InterruptTrap {
  const controller = new AbortController()
  let count = 0
  let handler: ((count: number, name: InterruptName) => void) | undefined
  const abort = (name: InterruptName = 'SIGINT') => {
    if (!controller.signal.aborted) controller.abort(new InterruptedError(`interrupted (${describeSignal(name)})`))
  }
  const onSignal = (name: InterruptName) => {
    count++
    if (handler) return handler(count, name)
    if (count === 1) return abort(name)
    exitInterrupted(`${describeSignal(name)} again: stopped at once`)
  }
  const onInt = () => onSignal('SIGINT')
  const onTerm = () => onSignal('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  return {
    signal: controller.signal,
    get count() {
      return count
    },
    handle(next) {
      handler = next
    },
    abort,
    dispose() {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
    },
  }
}

/** Whether this process already printed its --json document (then leaving at once adds nothing to stdout). */
let documentWritten = false

export function markDocumentWritten(): void {
  documentWritten = true
}

/**
 * Leaves at once with exit 130 (a second Ctrl-C, work stuck where it cannot look at the signal).
 * Under --json the one document is still printed, as on every other path.
 */
export function exitInterrupted(message: string): never {
  if (process.argv.includes('--json') && !documentWritten) {
    process.stdout.write(JSON.stringify({error: {code: EXIT.interrupted, message}}, null, 2) + '\n')
  } else {
    process.stderr.write(`\n${message}\n`)
  }
  process.exit(EXIT.interrupted)
}
