// TEST-ONLY: lets the crash tests kill a cutover or rollback at a precise point.
//
//   FLIP_TEST_CRASH_AT=<point>[:<n>]
//
// points: "planned" (plan + journal on disk, nothing changed), "batch:N" (after the Nth
// journaled batch), "unjournaled:N" (the Nth batch ran on the server but is not journaled),
// "script" (atomic scripts sent, replies not read), "swapdb" (SWAPDB sent, not journaled),
// "switched" (all moved, before the post-switch check), "archive-flushed" (archive rotation:
// the old rollback data deleted, not journaled yet). Rollback uses the same points with the
// prefix "rollback-". The process SIGKILLs itself, as `kill -9` or a power cut would.
// Unset (always, outside tests) it costs one property read. FLIP_TEST_SWITCH_DELAY_MS and
// FLIP_TEST_BATCH_COMMANDS (below) make a switch slow and finely batched for the failover tests.

let batches = 0

export function crashPoint(point: string): void {
  const wanted = process.env.FLIP_TEST_CRASH_AT
  if (wanted === undefined || wanted === '') return
  if (wanted === point) die()
}

/** Counts batches of a phase; crashes after the Nth when asked to. */
export function crashAfterBatch(prefix: string, journaled: boolean): void {
  const wanted = process.env.FLIP_TEST_CRASH_AT
  if (wanted === undefined || wanted === '') return
  if (journaled) batches++
  const [point, n] = wanted.split(':')
  const count = journaled ? batches : batches + 1
  if (point === `${prefix}${journaled ? 'batch' : 'unjournaled'}` && Number(n) === count) die()
}

/**
 * TEST-ONLY: FLIP_TEST_HOLD_SWITCH=1 holds each node's batched switch after every journaled
 * batch until `stop` aborts (at most a minute), so a test can interrupt a switch in the middle
 * without racing it.
 */
export async function holdAfterBatch(stop: AbortSignal | undefined): Promise<void> {
  // FLIP_TEST_SWITCH_DELAY_MS=N: a pause after every journaled batch, so a failover test can
  // kill a primary while the switch (or rollback) is surely still running.
  const delay = Number(process.env.FLIP_TEST_SWITCH_DELAY_MS)
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
  if (!process.env.FLIP_TEST_HOLD_SWITCH || !stop || stop.aborted) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 60_000)
    stop.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    }, {once: true})
  })
}

/** TEST-ONLY: FLIP_TEST_BATCH_COMMANDS=N overrides the batched switch's MOVEs per write (many small batches). */
export function testBatchCommands(): number | undefined {
  const n = Number(process.env.FLIP_TEST_BATCH_COMMANDS)
  return n > 0 ? n : undefined
}

function die(): never {
  process.kill(process.pid, 'SIGKILL')
  // SIGKILL is not deliverable to ourselves synchronously on every platform; never go on.
  for (;;) {
    /* wait for the signal */
  }
}
