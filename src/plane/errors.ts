// Errors of the data plane: FlipErrors carrying the exit code the CLI leaves with (EXIT)
// and a one-line message that never contains a password: messages name servers as host:port
// and URLs only in their redacted form.
import {EXIT, FlipError} from '../util/exit-codes.js'

export class PlaneError extends FlipError {
  constructor(message: string, exitCode: number) {
    super(message, exitCode)
    this.name = 'PlaneError'
  }
}

/** Bad --url, bad db number, bad option: exit 2. */
export class UsageError extends PlaneError {
  constructor(message: string) {
    super(message, EXIT.usage)
    this.name = 'UsageError'
  }
}

/**
 * The server refused this user a command, a key or a database (ACL: NOPERM). Exit 3, like a
 * wrong password or a missing db: the target cannot be used as given and the fix is on the
 * server (the user's ACL rules), not in the data; retrying cannot help. Raised before a change
 * wherever flip can find out first (SELECT in every handshake, the lock's script at lock time).
 */
export class PermissionError extends PlaneError {
  constructor(message: string) {
    super(message, EXIT.unreachable)
    this.name = 'PermissionError'
  }
}

/** Whether a reply is an ACL refusal. */
export function isNoPerm(reply: unknown): reply is RespError {
  return reply instanceof RespError && reply.code === 'NOPERM'
}

/**
 * The ACL rule that would allow what a NOPERM reply refused: "+move" for a command (Valkey
 * names it: "… no permissions to run the 'move' command"), or undefined when it is a key or a
 * database (the caller knows which one).
 */
export function missingRule(reply: RespError): string | undefined {
  const command = /permissions to run the '([^']+)' command/.exec(reply.message)
  return command ? `+${command[1].toLowerCase()}` : undefined
}

/** Server unreachable, connection lost, wrong password, NOAUTH, cluster not serving a slot: exit 3. */
export class ConnectionError extends PlaneError {
  constructor(message: string) {
    super(message, EXIT.unreachable)
    this.name = 'ConnectionError'
  }
}

/**
 * The db cannot be used: out of range, or the server refuses SELECT (a cluster without
 * numbered databases). Exit 3: the target lacks what flip needs; the fix is on the server.
 */
export class DbNotAvailableError extends PlaneError {
  constructor(
    /** What the server said, without the remedy. */
    readonly detail: string,
    readonly db: number,
    /** What to change on the server, which depends on the server (valkey.conf, the bundled engine's flags). */
    readonly remedy?: string,
  ) {
    super(remedy ? `${detail}: ${remedy}` : detail, EXIT.unreachable)
    this.name = 'DbNotAvailableError'
  }
}

/** The remedy for a db beyond a cluster's count: Valkey's setting. */
export function clusterDatabasesRemedy(db: number): string {
  return `numbered databases in cluster mode need Valkey 9+ with "cluster-databases ${db + 1}" or more in valkey.conf`
}

/** The remedy for a db beyond the bundled engine's count: its own flag. */
export function engineDatabasesRemedy(db: number): string {
  return `the bundled engine serves fewer databases; restart it with more: flip engine stop && flip engine start --databases ${db + 1}`
}

/**
 * The server answered a command with an error (WRONGTYPE, OOM, …) that retrying cannot fix.
 * `key` and `origin` name the record when the command wrote one.
 */
export class CommandError extends PlaneError {
  readonly reply: string
  readonly key?: Buffer

  constructor(message: string, reply: string, key?: Buffer) {
    // NOPERM: the user's ACL, not the data, is what failed (exit 3 as PermissionError).
    super(message, reply.startsWith('NOPERM') ? EXIT.unreachable : EXIT.checkFailed)
    this.name = 'CommandError'
    this.reply = reply
    this.key = key
  }
}

/** An error reply from the server, kept as a value inside pipelined results (never thrown by the reader). */
export class RespError {
  constructor(readonly message: string) {}

  /** First word of the reply: ERR, WRONGTYPE, MOVED, ASK, TRYAGAIN, NOAUTH, … */
  get code(): string {
    const space = this.message.indexOf(' ')
    return space < 0 ? this.message : this.message.slice(0, space)
  }
}

/**
 * The one classification of "ask again" replies: 'moved' / 'ask' — another node serves the
 * slot; 'wait' — the same node, shortly (TRYAGAIN, CLUSTERDOWN, LOADING); 'busy' — a script
 * runs past busy-reply-threshold. undefined: the command itself failed (or did not fail).
 */
export type RetryKind = 'moved' | 'ask' | 'wait' | 'busy'

const RETRY_KINDS: ReadonlyMap<string, RetryKind> = new Map([
  ['MOVED', 'moved'],
  ['ASK', 'ask'],
  ['TRYAGAIN', 'wait'],
  ['CLUSTERDOWN', 'wait'],
  ['LOADING', 'wait'],
  ['BUSY', 'busy'],
])

export function retryKind(reply: unknown): RetryKind | undefined {
  return reply instanceof RespError ? RETRY_KINDS.get(reply.code) : undefined
}

/**
 * Replies the routed executor (Plane.execute) retries: redirects and "try again shortly". BUSY
 * is not among them: a script may hold the node longer than the executor's few short waits;
 * the batched cutover (cutover/move.ts), which retries for longer, does wait for it.
 */
export function isRetryable(reply: unknown): reply is RespError {
  const kind = retryKind(reply)
  return kind !== undefined && kind !== 'busy'
}

/** A reply in an error message: short, printable. */
export function describeReply(reply: unknown): string {
  if (reply instanceof RespError) return reply.message
  if (Buffer.isBuffer(reply)) return JSON.stringify(reply.toString('utf8').slice(0, 80))
  return JSON.stringify(reply)
}
