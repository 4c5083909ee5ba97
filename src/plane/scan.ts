// SCAN over one node, and merging several nodes' streams into one.
import {KeySet} from '../dataset/key-set.js'
import type {NodeConnection} from './connection.js'
import {CommandError, RespError} from './errors.js'
import type {Arg} from './resp.js'

export interface ScanOptions {
  match?: string
  /** SCAN COUNT hint (default 1000). */
  count?: number
  /**
   * Leave out keys this scan already returned. SCAN may return a key twice when the server
   * resizes its table during the scan; filtering costs a key-hash table (9-13 bytes a key).
   */
  distinct?: boolean
}

/** SCAN one node page by page, the next page requested while the caller handles this one. */
export async function* scanNode(connection: NodeConnection, options: ScanOptions): AsyncGenerator<Buffer[]> {
  const extra: Arg[] = options.match === undefined ? [] : ['MATCH', options.match]
  extra.push('COUNT', options.count ?? 1000)
  const page = (cursor: string) => {
    const reply = connection.call(['SCAN', cursor, ...extra])
    reply.catch(() => undefined) // awaited below
    return reply
  }
  const seen = options.distinct ? new KeySet() : undefined
  let next = page('0')
  for (;;) {
    const reply = await next
    if (reply instanceof RespError) throw new CommandError(`${connection.address} refused SCAN: ${reply.message}`, reply.message)
    const [cursorReply, scanned] = reply as [Buffer, Buffer[]]
    const cursor = cursorReply.toString()
    if (cursor !== '0') next = page(cursor)
    const keys = seen === undefined ? scanned : scanned.filter((key) => seen.add(key))
    if (keys.length > 0) yield keys
    if (cursor === '0') return
  }
}

/** Interleaves several async iterators, yielding items as they arrive (one pending next() each). */
export async function* merge<T>(sources: Array<AsyncIterator<T>>): AsyncGenerator<T> {
  const pending = new Map<number, Promise<{index: number; result: IteratorResult<T>}>>()
  const pull = (index: number) => pending.set(index, sources[index].next().then((result) => ({index, result})))
  sources.forEach((_, index) => pull(index))
  try {
    while (pending.size > 0) {
      const {index, result} = await Promise.race(pending.values())
      if (result.done) {
        pending.delete(index)
        continue
      }
      pull(index)
      yield result.value
    }
  } finally {
    for (const [index, next] of pending) {
      next.catch(() => undefined)
      sources[index].return?.(undefined).catch(() => undefined)
    }
  }
}

