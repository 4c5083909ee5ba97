import {EXIT, FlipError} from '../util/exit-codes.js'

/** Anything wrong with `flip init`'s input or a file in the way: exit 2, one line. */
export class InitError extends FlipError {
  constructor(message: string) {
    super(message, EXIT.usage)
    this.name = 'InitError'
  }
}
