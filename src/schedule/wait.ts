// Getting to the moment on time: Node timers misfire past 2^31-1 ms and drift a few ms under
// load, so the sleeper sleeps in chunks re-reading the wall clock, and spins on setImmediate
// for the final milliseconds. waitForMoment runs pre-flight --prepare before the moment.
import {CutoverCancelledError, CutoverRefusedError} from '../cutover/errors.js'
import type {Schedule} from './parse.js'

export interface Firing {
  scheduledAt: Date
  startedAt: Date
  /** startedAt - scheduledAt in ms (positive = late). 0 for an immediate cutover. */
  driftMs: number
}

export interface WaitOptions {
  signal?: AbortSignal
  /** Called about every `countdownEveryMs` with the ms left (the CLI renders it). */
  onCountdown?: (remainingMs: number) => void
  countdownEveryMs?: number
  /** Clock and timer, for tests (a fake clock that jumps, a fake timer that advances it). */
  now?: () => number
  delay?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/** Longest single timer: well under 2^31-1 ms, and short enough to notice clock jumps (suspend, NTP). */
const MAX_CHUNK_MS = 60_000
/** Within this many ms of the moment, stop trusting timers and spin on setImmediate. */
const FINAL_APPROACH_MS = 40

/**
 * Resolves at `target` (as read from the wall clock, not a monotonic one: the user named a
 * wall-clock moment) and returns the instant it woke. Rejects with CutoverCancelledError when
 * `signal` aborts.
 */
export async function sleepUntil(target: Date | number, options: WaitOptions = {}): Promise<number> {
  const now = options.now ?? Date.now
  const goal = typeof target === 'number' ? target : target.getTime()
  const every = options.countdownEveryMs ?? 1000
  const {signal} = options
  if (signal?.aborted) throw stopReason(signal)
  let nextCountdown = now()
  for (;;) {
    const current = now()
    const remaining = goal - current
    if (remaining <= 0) return current
    if (signal?.aborted) throw stopReason(signal)
    if (options.onCountdown && current >= nextCountdown && remaining > FINAL_APPROACH_MS) {
      options.onCountdown(remaining)
      nextCountdown = current + every
    }
    if (remaining > FINAL_APPROACH_MS) {
      const untilCountdown = options.onCountdown ? Math.max(1, nextCountdown - current) : Infinity
      await (options.delay ?? delay)(Math.min(remaining - FINAL_APPROACH_MS, MAX_CHUNK_MS, untilCountdown), signal)
    } else {
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms)
    function done(): void {
      signal?.removeEventListener('abort', aborted)
      resolve()
    }
    function aborted(): void {
      clearTimeout(timer)
      reject(stopReason(signal!))
    }
    signal?.addEventListener('abort', aborted, {once: true})
  })
}

/** Why the wait stopped: the signal's reason when it says (a lost lock), else a cancellation. */
function stopReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof CutoverCancelledError || reason instanceof CutoverRefusedError ? reason : new CutoverCancelledError()
}

/** What a countdown counts down to: the start of pre-flight (--prepare before the moment) or the switch. */
export type CountdownTarget = 'preflight' | 'cutover'

export interface FireOptions extends Omit<WaitOptions, 'onCountdown'> {
  /** Runs prepareMs before the moment (or at once when the moment is closer): connect, pre-flight, plan. */
  prepare?: () => Promise<void>
  /** The ms left until `target`, about every countdownEveryMs. */
  onCountdown?: (remainingMs: number, target: CountdownTarget) => void
}

/**
 * Wait for the schedule: sleep until `prepareMs` before the moment, run `prepare`, sleep until
 * the moment, then refuse if it is past `notAfter`. Returns the firing's timing; the caller
 * makes its first change right after this resolves.
 */
export async function waitForMoment(schedule: Schedule, options: FireOptions = {}): Promise<Firing> {
  const now = options.now ?? Date.now
  const moment = schedule.scheduledAt.getTime()
  if (schedule.kind !== 'now') {
    const prepareAt = moment - schedule.prepareMs
    const onCountdown = options.onCountdown
    if (now() < prepareAt) await sleepUntil(prepareAt, {...options, onCountdown: onCountdown && ((ms) => onCountdown(ms, 'preflight'))})
  }
  if (options.prepare) await options.prepare()
  if (options.signal?.aborted) throw stopReason(options.signal)
  if (schedule.kind === 'now') {
    const startedAt = now()
    return {scheduledAt: new Date(startedAt), startedAt: new Date(startedAt), driftMs: 0}
  }
  const onCountdown = options.onCountdown
  const woke = await sleepUntil(moment, {...options, onCountdown: onCountdown && ((ms) => onCountdown(ms, 'cutover'))})
  if (schedule.notAfter && woke > schedule.notAfter.getTime()) {
    throw new CutoverRefusedError(
      `too late: woke at ${new Date(woke).toISOString()}, after --not-after ${schedule.notAfter.toISOString()}; nothing was changed`,
    )
  }
  return {scheduledAt: schedule.scheduledAt, startedAt: new Date(woke), driftMs: woke - moment}
}
