// The bulk write path: records → per-node RESP batches on raw sockets, windowed.
//
// Each record is routed by its key's slot to the primary that owns it and encoded straight into
// that node's current batch buffer. A full batch (`batchCommands` commands or `batchBytes`
// bytes) joins the node's queue. Each node sends from its own queue on its own pace, keeping up
// to `windowCommands` commands in flight: nodes never wait for each other, so one node that is
// briefly slow (a busy core) does not leave the others idle. The producer waits (write() does not
// resolve) only while some node's queue holds more than `queueCommands` unsent commands, so
// memory stays flat whatever the dataset size.
//
// Replies are only counted; error replies are kept with their command index so a failure names
// the record (file:line and key). MOVED/ASK/TRYAGAIN replies are not failures: those commands are
// re-run through the plane's redirect-aware executor (topology refresh, ASKING) in their original
// order, so a key split over several commands (a long list) is still written in order.
import type {DatasetRecord} from '../dataset/record.js'
import {describeKey} from '../util/key-text.js'
import {keySlot} from '../util/keyslot.js'
import type {NodeConnection} from './connection.js'
import {CommandError, isRetryable, RespError} from './errors.js'
import {ELEMENTS_PER_COMMAND, recordCommands} from './record-commands.js'
import {type Arg, CommandEncoder, type Reply} from './resp.js'

export interface WriterOptions {
  /** Commands per batch (one socket write). Default 2048. */
  batchCommands?: number
  /** Bytes per batch before it is sent early. Default 1 MiB. */
  batchBytes?: number
  /** Commands in flight per node. Default 16384. */
  windowCommands?: number
  /** Unsent commands queued per node before write() waits. Default 2 × windowCommands. */
  queueCommands?: number
}

export interface WriteSummary {
  records: number
  commands: number
  /** Commands re-sent after MOVED/ASK/TRYAGAIN. */
  redirected: number
}

/** What the writer needs from the plane. */
export interface WriteRouter {
  /** The connection of the primary currently serving a slot (throws when none does). */
  connectionForSlot(slot: number): NodeConnection
  /** Runs commands routed by slot, following MOVED/ASK/TRYAGAIN; replies in order, errors as values. */
  execute(commands: Array<{argv: Arg[]; slot: number}>): Promise<Reply[]>
}

const SET = Buffer.from('SET')
const HSET = Buffer.from('HSET')

/**
 * A batch keeps only its encoded bytes and, per command, where its record came from: not the
 * records themselves, which would outlive the parser's batch and pile up in the old generation.
 * The rare error path re-reads a command (key, argv) out of the bytes.
 */
interface Batch {
  bytes: Buffer
  count: number
  origins: Origins
}

interface Origins {
  files: string[]
  lines: number[]
}

interface NodeState {
  connection: NodeConnection
  encoder: CommandEncoder
  /** Origins of the commands in the encoder. */
  origins: Origins
  /** Full batches not sent yet, oldest first. */
  queue: Batch[]
  queuedCommands: number
  inFlightCommands: number
  /** Wakes a producer waiting for this node's queue to shrink. */
  drained: (() => void) | null
}

export class RecordWriter {
  private readonly batchCommands: number
  private readonly batchBytes: number
  private readonly windowCommands: number
  private readonly queueCommands: number
  private readonly nodes = new Map<NodeConnection, NodeState>()
  private readonly outstanding = new Set<Promise<void>>()
  private failure: Error | null = null
  private finished = false
  private readonly summary: WriteSummary = {records: 0, commands: 0, redirected: 0}

  constructor(
    private readonly router: WriteRouter,
    options: WriterOptions = {},
  ) {
    this.batchCommands = options.batchCommands ?? 2048
    this.batchBytes = options.batchBytes ?? 1024 * 1024
    this.windowCommands = options.windowCommands ?? 16384
    this.queueCommands = options.queueCommands ?? 2 * this.windowCommands
  }

  /**
   * Queues records for writing (call it again only after it resolved). Resolves once they are
   * encoded and no node's queue is over its limit (not when the servers have acknowledged them:
   * finish() waits for that). Rejects with the first failure of any earlier batch. `slots`, when
   * the caller has them already, are the records' key slots (keySlot), in order.
   */
  async write(records: readonly DatasetRecord[], slots?: ArrayLike<number>): Promise<void> {
    if (this.finished) throw new Error('RecordWriter.write() after finish()')
    this.throwIfFailed()
    for (let i = 0; i < records.length; i++) {
      const record = records[i]
      const node = this.nodeFor(this.router.connectionForSlot(slots === undefined ? keySlot(record.key) : slots[i]))
      const {files, lines} = node.origins
      if (record.value.type === 'string' && record.ttl === undefined) {
        // The common case without allocating an argv.
        node.encoder.append3(SET, record.key, record.value.value)
        files.push(record.origin.file)
        lines.push(record.origin.line)
      } else if (record.value.type === 'hash' && record.ttl === undefined && record.value.value.length > 0) {
        // Hashes without a TTL: HSET per chunk of fields, encoded without an argv (as recordCommands would split them).
        const fields = record.value.value
        for (let start = 0; start < fields.length; start += ELEMENTS_PER_COMMAND) {
          node.encoder.appendPairs(HSET, record.key, fields, start, Math.min(fields.length, start + ELEMENTS_PER_COMMAND))
          files.push(record.origin.file)
          lines.push(record.origin.line)
        }
      } else {
        for (const argv of recordCommands(record)) {
          node.encoder.append(argv)
          files.push(record.origin.file)
          lines.push(record.origin.line)
        }
      }
      this.summary.records++
      if (node.encoder.count >= this.batchCommands || node.encoder.byteLength >= this.batchBytes) {
        this.enqueue(node)
        while (node.queuedCommands > this.queueCommands && this.failure === null) {
          await new Promise<void>((resolve) => (node.drained = resolve))
        }
        this.throwIfFailed()
      }
    }
  }

  /** Sends what is buffered and waits until every command is acknowledged; throws the first failure. */
  async finish(): Promise<WriteSummary> {
    this.finished = true
    for (const node of this.nodes.values()) if (node.encoder.count > 0) this.enqueue(node)
    while (this.outstanding.size > 0) await Promise.all([...this.outstanding])
    this.throwIfFailed()
    return {...this.summary}
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure
  }

  private nodeFor(connection: NodeConnection): NodeState {
    let node = this.nodes.get(connection)
    if (node === undefined) {
      node = {connection, encoder: new CommandEncoder(256 * 1024), origins: {files: [], lines: []}, queue: [], queuedCommands: 0, inFlightCommands: 0, drained: null}
      this.nodes.set(connection, node)
    }
    return node
  }

  private enqueue(node: NodeState): void {
    const count = node.encoder.count
    node.queue.push({bytes: node.encoder.take(), count, origins: node.origins})
    node.origins = {files: [], lines: []}
    node.queuedCommands += count
    this.summary.commands += count
    this.pump(node)
  }

  /** Sends queued batches while the node's window has room (always at least one batch in flight). */
  private pump(node: NodeState): void {
    while (node.queue.length > 0 && (node.inFlightCommands === 0 || node.inFlightCommands + node.queue[0].count <= this.windowCommands)) {
      const batch = node.queue.shift()!
      node.queuedCommands -= batch.count
      node.inFlightCommands += batch.count
      this.send(node, batch)
    }
    if (node.drained !== null && node.queuedCommands <= this.queueCommands) {
      const wake = node.drained
      node.drained = null
      wake()
    }
  }

  private send(node: NodeState, batch: Batch): void {
    const {bytes, count} = batch
    const done: Promise<void> = node.connection
      .execCountingErrors(bytes, count)
      .then((errors) => this.handleErrors(errors, batch))
      .catch((error: Error) => {
        this.failure ??= error
      })
      .finally(() => {
        node.inFlightCommands -= count
        this.outstanding.delete(done)
        if (this.failure !== null) {
          // Stop sending; wake a waiting producer so write() can report the failure.
          node.queue = []
          node.queuedCommands = 0
        }
        this.pump(node)
      })
    this.outstanding.add(done)
  }

  private async handleErrors(errors: Array<[number, RespError]>, batch: Batch): Promise<void> {
    if (errors.length === 0) return
    const commands = splitCommands(batch.bytes)
    const retry: number[] = []
    for (const [index, error] of errors) {
      if (isRetryable(error)) retry.push(index)
      else {
        this.failure ??= commandFailure(batch, index, commands[index], error)
        return
      }
    }
    this.summary.redirected += retry.length
    // Every write command has its key first: argv[1].
    const replies = await this.router.execute(retry.map((index) => ({argv: commands[index], slot: keySlot(commands[index][1] as Buffer)})))
    replies.forEach((reply, i) => {
      if (reply instanceof RespError) this.failure ??= commandFailure(batch, retry[i], commands[retry[i]], reply)
    })
  }
}

/** The commands of an encoded batch, as argv arrays of Buffers (views into the batch). */
export function splitCommands(bytes: Buffer): Buffer[][] {
  const commands: Buffer[][] = []
  let pos = 0
  const readInt = (): number => {
    const end = bytes.indexOf(13, pos)
    const value = Number(bytes.toString('latin1', pos + 1, end))
    pos = end + 2
    return value
  }
  while (pos < bytes.length) {
    const argc = readInt() // *N
    const argv: Buffer[] = []
    for (let i = 0; i < argc; i++) {
      const length = readInt() // $len
      argv.push(bytes.subarray(pos, pos + length))
      pos += length + 2
    }
    commands.push(argv)
  }
  return commands
}

function commandFailure({origins}: Batch, index: number, argv: Buffer[], error: RespError): CommandError {
  const key = Buffer.from(argv[1])
  return new CommandError(`${origins.files[index]}:${origins.lines[index]}: writing key ${describeKey(key)} failed: ${error.message}`, error.message, key)
}
