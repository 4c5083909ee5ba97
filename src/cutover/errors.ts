// The ways a cutover or rollback stops short, each with the exit code the CLI leaves with.
// Messages are one line and never contain a password.
import {EXIT, FlipError} from '../util/exit-codes.js'

/** Bad --at/--cron/--tz/--not-after/--prepare, unknown plan, file in the way: exit 2. */
export class CutoverUsageError extends FlipError {
  constructor(message: string) {
    super(message, EXIT.usage)
    this.name = 'CutoverUsageError'
  }
}

/** Pre-flight said no (unhealthy target, shadow ≠ manifest, archive not empty, lock held, not confirmed, too late): exit 1. */
export class CutoverRefusedError extends FlipError {
  constructor(message: string) {
    super(message, EXIT.checkFailed)
    this.name = 'CutoverRefusedError'
  }
}

/** Cancelled (Ctrl-C, SIGTERM, AbortSignal) before anything changed: exit 130 like a shell. */
export class CutoverCancelledError extends FlipError {
  constructor(message = 'cancelled before the switch: nothing changed') {
    super(message, EXIT.interrupted)
    this.name = 'CutoverCancelledError'
  }
}

/** The cutover lock stopped being ours (expired, deleted, taken over): stop before the next change. */
export class LockLostError extends CutoverRefusedError {
  constructor(message: string) {
    super(message)
    this.name = 'LockLostError'
  }
}

/** The switch ran but something is wrong afterwards (post-switch verify, conflicts): exit 1. */
export class CutoverFailedError extends FlipError {
  constructor(message: string) {
    super(message, EXIT.checkFailed)
    this.name = 'CutoverFailedError'
  }
}
