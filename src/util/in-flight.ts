// The "N requests in flight" loop: start an operation per item of a stream, keep up to `limit`
// of them running, hand their results back in the order they were started. The consumer's loop
// body runs before the next item is pulled, so whatever it does (journal a batch, wait for a
// test hook) happens before the next operation starts, exactly as a hand-written loop would.

/**
 * Runs `start(item)` for each item of `source`, at most `limit` pending at a time, and yields
 * their results in order. `limit` may depend on how many operations were started so far
 * (counting the one just started), e.g. to run the first one alone. A failed operation throws
 * from the iteration when its turn comes; the ones still pending are then dropped unobserved.
 */
export async function* inFlight<S, T>(
  source: AsyncIterable<S> | Iterable<S>,
  start: (item: S) => Promise<T>,
  limit: number | ((started: number) => number),
): AsyncGenerator<T> {
  const limitAfter = typeof limit === 'number' ? () => limit : limit
  const pending: Array<Promise<T>> = []
  let started = 0
  try {
    for await (const item of source) {
      const operation = start(item)
      operation.catch(() => undefined) // awaited below in its turn; this only silences "unhandled" while queued
      pending.push(operation)
      started++
      if (pending.length >= limitAfter(started)) yield await pending.shift()!
    }
    while (pending.length > 0) yield await pending.shift()!
  } finally {
    pending.length = 0
  }
}
