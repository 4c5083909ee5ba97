// NDJSON source: one JSON record per line. Blank lines are skipped; a trailing "\r" is allowed.
// Lines are found in the bytes of each chunk; the bytes after the last newline carry over to the
// next chunk. Memory holds one chunk plus one partial line.
//
// The common record shapes — a string or a flat hash of strings, every text plain printable
// ASCII — are read straight from the bytes (fast-record.ts): no text decoding, no JSON objects,
// keys and values are views into the chunk. Every other line (escapes, numbers, non-ASCII, other
// types, a TTL, anything malformed) goes through JSON.parse and recordFromJson, which define the
// behaviour; the fast path only ever accepts lines for which they give the very same record.
import {DatasetError} from './errors.js'
import {DEFAULT_MAX_RECORD_BYTES, textTooLong, tooLong} from './record-size.js'
import {fastRecord} from './fast-record.js'
import {recordFromJson} from './parse-record.js'
import type {DatasetRecord} from './record.js'

const NEWLINE = 0x0a

export async function* ndjsonRecords(
  chunks: AsyncIterable<Buffer>,
  file: string,
  maxRecordBytes: number = DEFAULT_MAX_RECORD_BYTES,
): AsyncGenerator<DatasetRecord[]> {
  let line = 0
  // The start of a line longer than a chunk, in pieces: joined once when its newline comes, so
  // a long line is copied once rather than once per chunk.
  const pending: Buffer[] = []
  let pendingBytes = 0
  for await (const chunk of chunks) {
    const last = chunk.lastIndexOf(NEWLINE)
    if (last < 0) {
      pending.push(chunk)
      pendingBytes += chunk.length
      if (pendingBytes > maxRecordBytes) throw tooLong(file, line + 1, maxRecordBytes)
      continue
    }
    let head = chunk.subarray(0, last)
    if (pending.length > 0) {
      pending.push(head)
      head = Buffer.concat(pending, pendingBytes + head.length)
      pending.length = 0
      pendingBytes = 0
    }
    if (last + 1 < chunk.length) {
      pending.push(chunk.subarray(last + 1))
      pendingBytes = chunk.length - last - 1
    }
    const records: DatasetRecord[] = []
    line = parseLines(head, file, line, records, maxRecordBytes)
    if (pendingBytes > maxRecordBytes) throw tooLong(file, line + 1, maxRecordBytes)
    if (records.length > 0) yield records
  }
  if (pending.length > 0) {
    const records: DatasetRecord[] = []
    parseLines(Buffer.concat(pending, pendingBytes), file, line, records, maxRecordBytes)
    if (records.length > 0) yield records
  }
}

/** Parses every line of `bytes` (no trailing newline); returns the number of the last line. */
function parseLines(bytes: Buffer, file: string, line: number, into: DatasetRecord[], maxRecordBytes: number): number {
  let start = 0
  const length = bytes.length
  for (;;) {
    let end = bytes.indexOf(NEWLINE, start)
    const last = end < 0
    if (last) end = length
    line++
    if (end - start > maxRecordBytes) throw tooLong(file, line, maxRecordBytes)
    const record = fastRecord(bytes, start, end, file, line)
    if (record !== undefined) into.push(record)
    else parseLine(lineText(bytes, start, end, file, line), file, line, into)
    if (last) return line
    start = end + 1
  }
}

function lineText(bytes: Buffer, start: number, end: number, file: string, line: number): string {
  try {
    return bytes.toString('utf8', start, end)
  } catch (error) {
    throw textTooLong(file, line, error)
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
