// The bulk write path: records → per-node RESP batches on raw sockets, windowed.
//
// Each record is routed by its key's slot to the primary that owns it and encoded straight into
// that node's current batch buffer. A batch is sent when it holds `batchCommands` commands
// (or `batchBytes` bytes). At most `windowCommands` commands are in flight per node: when a node
// is over its window, write() waits for its oldest batch, so a fast producer is slowed to the
// servers' pace and memory stays flat whatever the dataset size.
//
// Replies are only counted; error replies are kept with their command index so a failure names
// the record (file:line and key). MOVED/ASK/TRYAGAIN replies are not failures: those commands are
// re-run through the plane's redirect-aware executor (topology refresh, ASKING) in their original
// order, so a key split over several commands (a long list) is still written in order.
import type {DatasetRecord} from '../dataset/record.js'
import {keySlot} from '../util/keyslot.js'
import type {NodeConnection} from './connection.js'
import {CommandError, describeKey, isRetryable, RespError} from './errors.js'
import {recordCommands, where} from './record-commands.js'
import {type Arg, CommandEncoder, type Reply} from './resp.js'

export interface WriterOptions {
  /** Commands per batch (one socket write). Default 2048. */
  batchCommands?: number
  /** Bytes per batch before it is sent early. Default 1 MiB. */
  batchBytes?: number
  /** Commands in flight per node before write() waits. Default 16384. */
  windowCommands?: number
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

interface NodeBatch {
  connection: NodeConnection
  encoder: CommandEncoder
  /** The record of each command in the current batch (a record with n commands appears n times in a row). */
  records: DatasetRecord[]
  /** Completions of sent batches, oldest first, with their command counts. */
  inFlight: Array<{done: Promise<void>; count: number}>
  inFlightCommands: number
}

export class RecordWriter {
  private readonly batchCommands: number
  private readonly batchBytes: number
  private readonly windowCommands: number
  private readonly nodes = new Map<NodeConnection, NodeBatch>()
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
  }

  /**
   * Queues records for writing. Resolves once they are encoded and every node is within its
   * window (not when the server has acknowledged them: finish() waits for that). Rejects with
   * the first failure of any earlier batch.
   */
  async write(records: readonly DatasetRecord[]): Promise<void> {
    if (this.finished) throw new Error('RecordWriter.write() after finish()')
    this.throwIfFailed()
    for (const record of records) {
      const node = this.nodeFor(this.router.connectionForSlot(keySlot(record.key)))
      if (record.value.type === 'string' && record.ttl === undefined) {
        // The common case without allocating an argv.
        node.encoder.append3(SET, record.key, record.value.value)
        node.records.push(record)
      } else {
        for (const argv of recordCommands(record)) {
          node.encoder.append(argv)
          node.records.push(record)
        }
      }
      this.summary.records++
      if (node.encoder.count >= this.batchCommands || node.encoder.byteLength >= this.batchBytes) {
        this.send(node)
        while (node.inFlightCommands > this.windowCommands) {
          await node.inFlight[0].done
          this.throwIfFailed()
        }
      }
    }
  }

  /** Sends what is buffered and waits until every command is acknowledged; throws the first failure. */
  async finish(): Promise<WriteSummary> {
    this.finished = true
    for (const node of this.nodes.values()) if (node.encoder.count > 0) this.send(node)
    while (this.outstanding.size > 0) await Promise.all([...this.outstanding])
    this.throwIfFailed()
    return {...this.summary}
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure
  }

  private nodeFor(connection: NodeConnection): NodeBatch {
    let node = this.nodes.get(connection)
    if (node === undefined) {
      node = {connection, encoder: new CommandEncoder(256 * 1024), records: [], inFlight: [], inFlightCommands: 0}
      this.nodes.set(connection, node)
    }
    return node
  }

  private send(node: NodeBatch): void {
    const count = node.encoder.count
    const bytes = node.encoder.take()
    const records = node.records
    node.records = []
    this.summary.commands += count
    node.inFlightCommands += count
    const entry = {done: Promise.resolve(), count}
    const done = node.connection
      .execCountingErrors(bytes, count)
      .then((errors) => this.handleErrors(errors, records))
      .catch((error: Error) => {
        this.failure ??= error
      })
      .finally(() => {
        node.inFlightCommands -= count
        node.inFlight.splice(node.inFlight.indexOf(entry), 1)
        this.outstanding.delete(done)
      })
    entry.done = done
    node.inFlight.push(entry)
    this.outstanding.add(done)
  }

  private async handleErrors(errors: Array<[number, RespError]>, records: DatasetRecord[]): Promise<void> {
    if (errors.length === 0) return
    const retry: number[] = []
    for (const [index, error] of errors) {
      if (isRetryable(error)) retry.push(index)
      else {
        this.failure ??= recordFailure(records[index], error)
        return
      }
    }
    this.summary.redirected += retry.length
    const replies = await this.router.execute(retry.map((index) => ({argv: commandAt(records, index), slot: keySlot(records[index].key)})))
    replies.forEach((reply, i) => {
      if (reply instanceof RespError) {
        this.failure ??= recordFailure(records[retry[i]], reply)
      }
    })
  }
}

/** The argv of command `index` of a batch: which of its record's commands it was, re-derived. */
function commandAt(records: DatasetRecord[], index: number): Arg[] {
  const record = records[index]
  let first = index
  while (first > 0 && records[first - 1] === record) first--
  return recordCommands(record)[index - first]
}

function recordFailure(record: DatasetRecord, error: RespError): CommandError {
  return new CommandError(`${where(record)}: writing key ${describeKey(record.key)} failed: ${error.message}`, error.message, record.key)
}
