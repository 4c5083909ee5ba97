// Exit codes, documented in the README. Errors anywhere in src/ carry one as `exitCode`, so the
// core modules (cutover, init, ops) say how the CLI should exit without importing the CLI.
export const EXIT = {
  ok: 0,
  /** A check ran and failed: verify mismatch, pre-flight refused, post-switch check failed. */
  checkFailed: 1,
  /** Usage or bad input: flags, files, records, times, cron expressions. */
  usage: 2,
  /** The server cannot be reached, refused the password, or lacks the databases asked for. */
  unreachable: 3,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM, like a shell reports a job killed by SIGINT. */
  interrupted: 130,
} as const

/** An error meant for the user: one line, and the exit code to leave with. The base of every flip error. */
export class FlipError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.checkFailed,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'FlipError'
  }
}

/** A check that ran and failed; under --json its full result is the document, with `error` added. */
export class CheckFailedError extends FlipError {
  constructor(message: string, readonly result: object, exitCode: number = EXIT.checkFailed) {
    super(message, exitCode)
    this.name = 'CheckFailedError'
  }
}

/** The exit code an error asks for. oclif's parse errors are recognised in src/cli/base.ts (this module knows nothing of oclif). */
export function exitCodeOf(error: unknown): number {
  const candidate = error as {exitCode?: unknown; oclif?: {exit?: unknown}; code?: unknown}
  if (typeof candidate?.exitCode === 'number') return candidate.exitCode
  if (typeof candidate?.oclif?.exit === 'number') return candidate.oclif.exit
  if (candidate?.code === 'ECONNREFUSED' || candidate?.code === 'ETIMEDOUT' || candidate?.code === 'EHOSTUNREACH') return EXIT.unreachable
  return EXIT.checkFailed
}
