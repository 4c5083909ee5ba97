// The dataset checksum (checksum.ts) with the per-key SHA-256 in a worker thread.
//
// SHA-256 through node:crypto costs about 1 µs a key, mostly the call itself, and is the largest
// single cost of stage and verify. Here the calling thread only counts the key and writes its
// canonical encoding into a batch buffer; the worker hashes each encoding and sums the digests
// (total and per slot); the sums come back at finish() and join the counts. Same definition,
// same result: sums are order-independent, so which thread adds a digest does not matter.
//
// Small inputs never pay for a thread: the first `workerAfterKeys` keys are summed in this
// thread, and only then a worker starts. Batch buffers travel to the worker and back (transferred,
// not copied) and at most a few are in flight: ready() waits while the worker is behind.
import {Worker} from 'node:worker_threads'
import {SLOT_COUNT, keySlot} from '../util/keyslot.js'
import {addLimbs, canonicalScratch, DatasetChecksum, encodeCanonical} from './checksum.js'
import type {DatasetValue} from './record.js'

export interface ParallelChecksumOptions {
  /** Keys summed in this thread before the worker starts (default 50,000; Infinity: never). */
  workerAfterKeys?: number
}

const BATCH_BYTES = 256 * 1024
const MAX_IN_FLIGHT = 4
/** Per key in a batch: u16 slot, u32 length (little-endian), then the canonical encoding. */
const ENTRY_HEADER = 6

// The worker's whole program. addLimbs is this module's own (one definition of the arithmetic).
// Valid as a CommonJS script and as an ES module (node --input-type=module makes eval code one).
const WORKER_SOURCE = `
${addLimbs.toString()}
void (async () => {
const {parentPort, workerData} = await import('node:worker_threads')
const {hash} = await import('node:crypto')
const total = new Uint32Array(4)
const slotSums = new Uint32Array(workerData.slots * 4)
parentPort.on('message', (message) => {
  if (message === 'finish') {
    parentPort.postMessage({total, slotSums}, [total.buffer, slotSums.buffer])
    return
  }
  const bytes = Buffer.from(message.buffer, 0, message.length)
  for (let at = 0; at < message.length; ) {
    const slot = bytes[at] | (bytes[at + 1] << 8)
    const size = bytes[at + 2] | (bytes[at + 3] << 8) | (bytes[at + 4] << 16) | (bytes[at + 5] << 24)
    const d = hash('sha256', bytes.subarray(at + 6, at + 6 + size), 'buffer')
    const d0 = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0
    const d1 = ((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7]) >>> 0
    const d2 = ((d[8] << 24) | (d[9] << 16) | (d[10] << 8) | d[11]) >>> 0
    const d3 = ((d[12] << 24) | (d[13] << 16) | (d[14] << 8) | d[15]) >>> 0
    addLimbs(total, 0, d0, d1, d2, d3)
    addLimbs(slotSums, slot * 4, d0, d1, d2, d3)
    at += 6 + size
  }
  parentPort.postMessage(message.buffer, [message.buffer])
})
})()
`

interface Sums {
  total: Uint32Array
  slotSums: Uint32Array
}

export class ParallelChecksum {
  /** Counts are live; digests join at finish(). */
  readonly sum = new DatasetChecksum()
  private workerAfterKeys: number
  private worker: Worker | undefined
  private failure: Error | undefined
  private buffer: Buffer | undefined
  private length = 0
  private readonly spare: ArrayBuffer[] = []
  private inFlight = 0
  private wake: (() => void) | undefined
  private sums: ((sums: Sums) => void) | undefined
  private failed: ((error: Error) => void) | undefined

  constructor(options: ParallelChecksumOptions = {}) {
    this.workerAfterKeys = options.workerAfterKeys ?? 50_000
  }

  get keys(): number {
    return this.sum.keys
  }

  /** Adds one key (see checksum.ts for what is covered). */
  add(key: Uint8Array, value: DatasetValue, hasTtl: boolean, slot = keySlot(key)): void {
    if (this.worker === undefined) {
      if (this.sum.keys < this.workerAfterKeys || !this.startWorker()) {
        this.sum.add(key, value, hasTtl, slot)
        return
      }
    }
    this.sum.countKey(slot, value.type)
    const size = encodeCanonical(key, value, hasTtl)
    const encoding = canonicalScratch()
    if (this.buffer === undefined || this.length + ENTRY_HEADER + size > this.buffer.length) this.post(ENTRY_HEADER + size)
    const buffer = this.buffer!
    let at = this.length
    buffer[at] = slot & 0xff
    buffer[at + 1] = slot >>> 8
    buffer[at + 2] = size & 0xff
    buffer[at + 3] = (size >>> 8) & 0xff
    buffer[at + 4] = (size >>> 16) & 0xff
    buffer[at + 5] = size >>> 24
    at += ENTRY_HEADER
    if (size <= 64) for (let i = 0; i < size; i++) buffer[at + i] = encoding[i]
    else encoding.copy(buffer, at, 0, size)
    this.length = at + size
  }

  /** Resolves when the worker has caught up enough to take more; rejects if it failed. */
  async ready(): Promise<void> {
    while (this.inFlight >= MAX_IN_FLIGHT && this.failure === undefined) await new Promise<void>((resolve) => (this.wake = resolve))
    if (this.failure !== undefined) throw this.failure
  }

  /** Every key added so far, counted and summed. The worker (if any) is stopped. */
  async finish(): Promise<DatasetChecksum> {
    const worker = this.worker
    if (worker === undefined) return this.sum
    if (this.length > 0) this.post(0)
    const sums = await new Promise<Sums>((resolve, reject) => {
      if (this.failure !== undefined) return reject(this.failure)
      this.sums = resolve
      this.failed = reject
      worker.postMessage('finish')
    })
    this.close()
    this.sum.addSums(sums.total, sums.slotSums)
    return this.sum
  }

  /** Stops the worker without waiting for it (on an error path; finish() does it too). */
  close(): void {
    const worker = this.worker
    this.worker = undefined
    this.failure ??= new Error('checksum closed')
    if (worker !== undefined) void worker.terminate()
  }

  private startWorker(): boolean {
    try {
      const worker = new Worker(WORKER_SOURCE, {eval: true, workerData: {slots: SLOT_COUNT}, execArgv: [], resourceLimits: {maxYoungGenerationSizeMb: 4}})
      worker.unref() // never what keeps a process alive
      worker.on('message', (message: ArrayBuffer | Sums) => {
        if (message instanceof ArrayBuffer) {
          this.inFlight--
          if (message.byteLength === BATCH_BYTES) this.spare.push(message)
          this.wakeProducer()
        } else {
          this.sums?.(message)
        }
      })
      const fail = (error: Error) => {
        this.failure ??= error
        this.wakeProducer()
        this.failed?.(this.failure)
      }
      worker.on('error', fail)
      worker.on('exit', (code) => fail(new Error(`checksum worker exited (code ${code})`)))
      this.worker = worker
      return true
    } catch {
      this.workerAfterKeys = Infinity // no thread to be had: sum in this thread
      return false
    }
  }

  private wakeProducer(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Sends the current batch (if any) and starts a new one with room for `need` bytes. */
  private post(need: number): void {
    if (this.buffer !== undefined && this.length > 0) {
      const buffer = this.buffer.buffer as ArrayBuffer
      this.worker!.postMessage({buffer, length: this.length}, [buffer])
      this.inFlight++
    }
    this.length = 0
    this.buffer = undefined
    if (need === 0) return
    const spare = need <= BATCH_BYTES ? this.spare.pop() : undefined
    this.buffer = Buffer.from(spare ?? new ArrayBuffer(Math.max(BATCH_BYTES, need)))
  }
}
