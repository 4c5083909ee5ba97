// JSON source: a top-level array of records, streamed. A small scanner finds where each
// top-level element starts and ends (tracking strings, escapes and nesting), then JSON.parse
// parses that element alone: memory holds one chunk plus one record, whatever the file size.
import {DatasetError} from './errors.js'
import {recordFromJson} from './parse-record.js'
import type {DatasetRecord} from './record.js'

const enum Ch {
  Newline = 0x0a,
  Quote = 0x22,
  Backslash = 0x5c,
  Comma = 0x2c,
  OpenBracket = 0x5b,
  CloseBracket = 0x5d,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
}

export async function* jsonArrayRecords(chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<DatasetRecord[]> {
  let line = 1
  let state = 'before' as 'before' | 'between' | 'element' | 'after'
  let expectElement = true // after "[" or ","
  let depth = 0 // nesting inside the current element
  let inString = false
  let escaped = false
  let elementLine = 0
  let pieces: Buffer[] = []

  const fail = (reason: string, at = line): never => {
    throw new DatasetError(file, at, reason)
  }

  for await (const chunk of chunks) {
    const records: DatasetRecord[] = []
    let elementStart = state === 'element' ? 0 : -1
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]
      if (byte === Ch.Newline) line++
      if (state === 'element') {
        if (inString) {
          if (escaped) escaped = false
          else if (byte === Ch.Backslash) escaped = true
          else if (byte === Ch.Quote) inString = false
          continue
        }
        if (byte === Ch.Quote) inString = true
        else if (byte === Ch.OpenBrace || byte === Ch.OpenBracket) depth++
        else if ((byte === Ch.CloseBrace || byte === Ch.CloseBracket) && depth > 0) depth--
        else if (depth === 0 && (byte === Ch.Comma || byte === Ch.CloseBracket)) {
          pieces.push(chunk.subarray(elementStart, i))
          records.push(parseElement(Buffer.concat(pieces), file, elementLine))
          pieces = []
          state = byte === Ch.Comma ? 'between' : 'after'
          expectElement = byte === Ch.Comma
        }
        continue
      }
      if (isSpace(byte)) continue
      if (state === 'before') {
        if (byte !== Ch.OpenBracket) fail('expected a JSON array of records ("[" …)')
        state = 'between'
      } else if (state === 'after') {
        fail('unexpected content after the closing "]"')
      } else if (byte === Ch.CloseBracket && records.length === 0 && elementLine === 0) {
        state = 'after' // "[]": an empty dataset
      } else if (byte === Ch.CloseBracket || byte === Ch.Comma) {
        fail(`malformed JSON: unexpected "${String.fromCharCode(byte)}"`)
      } else if (!expectElement) {
        fail('malformed JSON: expected "," or "]"')
      } else {
        state = 'element'
        elementStart = i
        elementLine = line
        depth = 0
        inString = false
        escaped = false
        i-- // rescan this byte as part of the element
      }
    }
    if (state === 'element') pieces.push(chunk.subarray(elementStart))
    if (records.length > 0) yield records
  }
  if (state === 'before') fail('expected a JSON array of records, got an empty file', 0)
  if (state !== 'after') fail('unexpected end of file: the JSON array is not closed with "]"')
}

function parseElement(text: Buffer, file: string, line: number): DatasetRecord {
  let json: unknown
  try {
    json = JSON.parse(text.toString('utf8'))
  } catch (error) {
    throw new DatasetError(file, line, `malformed JSON: ${(error as Error).message}`)
  }
  return recordFromJson(json, {file, line})
}
