// The conformance suite is data: each case is a list of commands with the reply a Valkey 9.1
// cluster (or a standalone server) gives, in the notation of ../support/resp-client.ts.
import type {Wire} from '../support/resp-client.js'

/** An exact reply, a pattern an error/status/bulk line must match, or any reply at all. */
export type Expected = Wire | RegExp | typeof ANY | Expected[]

export const ANY = Symbol('any reply')

export interface Case {
  name: string
  /** Commands and the replies they must get, in order, on one connection. */
  steps: Array<[argv: string[], expected: Expected]>
  /** Debian's redis-server 7.0 words this differently (or lacks the command): engine/Valkey only. */
  notOnRedis7?: string
  /** Not run against an external Valkey cluster (says why). */
  engineOnly?: string
  /** Commands run afterwards on a fresh default-user connection, even when a step failed (e.g. ACL DELUSER). */
  cleanup?: string[][]
}

/** Matches an expected reply against an actual one (RegExp: on string replies; arrays element-wise). */
export function matches(expected: Expected, actual: Wire): boolean {
  if (expected === ANY) return true
  if (expected instanceof RegExp) return typeof actual === 'string' && expected.test(actual)
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matches(e, actual[i]))
  }
  return JSON.stringify(expected) === JSON.stringify(actual)
}

/** A pause inside a case (e.g. to let a TTL run out): the runner sleeps instead of sending. */
export const SLEEP = '__sleep'
export function sleep(ms: number): [string[], Expected] {
  return [[SLEEP, String(ms)], ANY]
}

/**
 * Switches the following steps to the connection called `name` (opened, and AUTHed with the
 * target's password when it has one, on first use); the first connection is called 'default'.
 */
export const USE = '__use'
export function use(name: string): [string[], Expected] {
  return [[USE, name], ANY]
}
