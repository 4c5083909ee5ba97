// Errors the ops raise themselves (the plane and dataset modules have their own). A FlipError,
// so each carries the exit code the CLI leaves with (src/util/exit-codes.ts).
import {EXIT, FlipError} from '../util/exit-codes.js'

export class OpsError extends FlipError {
  constructor(message: string, exitCode: typeof EXIT.checkFailed | typeof EXIT.usage) {
    super(message, exitCode)
    this.name = 'OpsError'
  }
}
