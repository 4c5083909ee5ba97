// NDJSON source: one JSON record per line. Blank lines are skipped; a trailing "\r" is allowed.
// Works on raw chunks, so memory holds one chunk plus one partial line.
import {DatasetError} from './errors.js'
import {recordFromJson} from './parse-record.js'
import type {DatasetRecord} from './record.js'

const NEWLINE = 0x0a

export async function* ndjsonRecords(chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<DatasetRecord[]> {
  let line = 0
  let carry: Buffer | undefined
  for await (const chunk of chunks) {
    const records: DatasetRecord[] = []
    let start = 0
    let end = chunk.indexOf(NEWLINE)
    if (carry !== undefined && end < 0) {
      carry = Buffer.concat([carry, chunk])
      continue
    }
    while (end >= 0) {
      line++
      if (carry !== undefined) {
        const whole = Buffer.concat([carry, chunk.subarray(0, end)])
        carry = undefined
        parseLine(whole, 0, whole.length, file, line, records)
      } else {
        parseLine(chunk, start, end, file, line, records)
      }
      start = end + 1
      end = chunk.indexOf(NEWLINE, start)
    }
    if (start < chunk.length) carry = chunk.subarray(start)
    if (records.length > 0) yield records
  }
  if (carry !== undefined) {
    const records: DatasetRecord[] = []
    parseLine(carry, 0, carry.length, file, line + 1, records)
    if (records.length > 0) yield records
  }
}

function parseLine(buf: Buffer, start: number, end: number, file: string, line: number, into: DatasetRecord[]): void {
  const text = buf.toString('utf8', start, end)
  if (text.trim() === '') return
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new DatasetError(file, line, `malformed JSON: ${(error as Error).message}`)
  }
  into.push(recordFromJson(json, {file, line}))
}
