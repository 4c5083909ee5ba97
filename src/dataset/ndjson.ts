// NDJSON source: one JSON record per line. Blank lines are skipped; a trailing "\r" is allowed.
// Each chunk is decoded to text once, up to its last newline (so a UTF-8 sequence is never cut),
// and lines are sliced from that text; the bytes after the last newline carry over to the next
// chunk. Memory holds one chunk plus one partial line.
import {DatasetError} from './errors.js'
import {recordFromJson} from './parse-record.js'
import type {DatasetRecord} from './record.js'

const NEWLINE = 0x0a

export async function* ndjsonRecords(chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<DatasetRecord[]> {
  let line = 0
  let carry: Buffer | undefined
  for await (const chunk of chunks) {
    const last = chunk.lastIndexOf(NEWLINE)
    if (last < 0) {
      carry = carry === undefined ? chunk : Buffer.concat([carry, chunk])
      continue
    }
    const head = carry === undefined ? chunk.subarray(0, last) : Buffer.concat([carry, chunk.subarray(0, last)])
    carry = last + 1 < chunk.length ? chunk.subarray(last + 1) : undefined
    const records: DatasetRecord[] = []
    line = parseLines(head.toString('utf8'), file, line, records)
    if (records.length > 0) yield records
  }
  if (carry !== undefined) {
    const records: DatasetRecord[] = []
    parseLines(carry.toString('utf8'), file, line, records)
    if (records.length > 0) yield records
  }
}

/** Parses every line of `text` (no trailing newline); returns the number of the last line. */
function parseLines(text: string, file: string, line: number, into: DatasetRecord[]): number {
  let start = 0
  for (;;) {
    const end = text.indexOf('\n', start)
    line++
    parseLine(end < 0 ? text.slice(start) : text.slice(start, end), file, line, into)
    if (end < 0) return line
    start = end + 1
  }
}

function parseLine(text: string, file: string, line: number, into: DatasetRecord[]): void {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    if (text.trim() === '') return
    throw new DatasetError(file, line, `malformed JSON: ${(error as Error).message}`)
  }
  into.push(recordFromJson(json, {file, line}))
}
