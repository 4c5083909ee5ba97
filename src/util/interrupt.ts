// Stopping work when the user asks (Ctrl-C, SIGTERM): the error every layer throws for it, and
// the two ways a core function notices an AbortSignal — a check between steps, and a race
// around an await that may take long (a scan, a prompt, a read from stdin).
import {EXIT, FlipError} from './exit-codes.js'

/** Stopped at the user's request (exit 130). */
export class InterruptedError extends FlipError {
  constructor(message = 'interrupted') {
    super(message, EXIT.interrupted)
    this.name = 'InterruptedError'
  }
}

/** The error an aborted signal stands for: its reason when that is an Error, else an InterruptedError. */
export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError()
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal)
}

/**
 * Settles like `work`, or rejects with the abort error as soon as `signal` aborts. The work
 * itself goes on (its later failure is swallowed): callers close what it uses afterwards.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work
  work.catch(() => undefined)
  if (signal.aborted) return Promise.reject(abortError(signal))
  return new Promise<T>((resolve, reject) => {
    const aborted = () => reject(abortError(signal))
    signal.addEventListener('abort', aborted, {once: true})
    work.then(
      (value) => {
        signal.removeEventListener('abort', aborted)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', aborted)
        reject(error)
      },
    )
  })
}

/** Each item of `source`, but stop waiting for the next one as soon as `signal` aborts. */
export async function* abortableIterable<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]()
  try {
    for (;;) {
      throwIfAborted(signal)
      const next = await abortable(iterator.next(), signal)
      if (next.done) return
      yield next.value
    }
  } finally {
    // Let the source close its file; a source blocked on a read may not answer, so do not wait.
    void Promise.resolve(iterator.return?.()).catch(() => undefined)
  }
}
