// Errors the ops raise themselves (the plane and dataset modules have their own). Each carries
// the exit code the CLI leaves with (src/cli/exit-codes.ts): 1 a check or pre-condition failed,
// 2 usage or bad input.

export class OpsError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message)
    this.name = 'OpsError'
  }
}
