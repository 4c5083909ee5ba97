// JSON source: a top-level array of records, streamed. A small scanner finds where each
// top-level element starts and ends (tracking strings, escapes and nesting), then JSON.parse
// parses that element alone: memory holds one chunk plus one record, whatever the file size.
// Chunks are decoded to text with a StringDecoder (a UTF-8 sequence split between chunks is
// completed by the next one); inside strings the scanner jumps from quote to quote with indexOf.
import {StringDecoder} from 'node:string_decoder'
import {DatasetError} from './errors.js'
import {recordFromJson} from './parse-record.js'
import {DEFAULT_MAX_RECORD_BYTES, textTooLong, tooLong} from './record-size.js'
import type {DatasetRecord} from './record.js'

const NEWLINE = 10
const QUOTE = 34
const BACKSLASH = 92
const COMMA = 44
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93
const OPEN_BRACE = 123
const CLOSE_BRACE = 125

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09
}

type State = 'before' | 'between' | 'element' | 'after'

export async function* jsonArrayRecords(
  chunks: AsyncIterable<Buffer>,
  file: string,
  maxRecordBytes: number = DEFAULT_MAX_RECORD_BYTES,
): AsyncGenerator<DatasetRecord[]> {
  const decoder = new StringDecoder('utf8')
  let line = 1
  let state = 'before' as State
  let expectElement = true // after "[" or ","
  let sawElement = false
  let depth = 0 // nesting inside the current element
  let inString = false
  let elementLine = 0
  let partial = '' // text of the current element from earlier chunks
  let partialBytes = 0 // its size in UTF-8

  const fail = (reason: string, at = line): never => {
    throw new DatasetError(file, at, reason)
  }

  const scan = (text: string, records: DatasetRecord[]): void => {
    let elementStart = state === 'element' ? 0 : -1
    let i = 0
    while (i < text.length) {
      if (state === 'element' && inString) {
        // Jump to the closing quote, counting the newlines skipped (JSON strings hold none, but
        // a malformed file may) and honouring backslash escapes.
        const quote = text.indexOf('"', i)
        const end = quote < 0 ? text.length : quote
        for (let n = text.indexOf('\n', i); n >= 0 && n < end; n = text.indexOf('\n', n + 1)) line++
        if (quote < 0) {
          i = text.length // the string goes on in the next chunk
          break
        }
        let backslashes = 0
        for (let j = quote - 1; j >= 0 && text.charCodeAt(j) === BACKSLASH; j--) backslashes++
        if (backslashes === quote) backslashes += pendingBackslashes(partial) // the run began in an earlier chunk
        i = quote + 1
        if (backslashes % 2 === 0) inString = false
        continue
      }
      const code = text.charCodeAt(i)
      if (code === NEWLINE) line++
      if (state === 'element') {
        if (code === QUOTE) inString = true
        else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++
        else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && depth > 0) depth--
        else if (depth === 0 && (code === COMMA || code === CLOSE_BRACKET)) {
          let elementText: string
          try {
            elementText = partial + text.slice(elementStart, i)
          } catch (error) {
            throw textTooLong(file, elementLine, error)
          }
          partial = ''
          partialBytes = 0
          // A UTF-16 unit is 1 to 3 bytes in UTF-8: count the bytes only when the limit is near.
          if (elementText.length * 3 > maxRecordBytes && Buffer.byteLength(elementText) > maxRecordBytes) throw tooLong(file, elementLine, maxRecordBytes)
          records.push(parseElement(elementText, file, elementLine))
          state = code === COMMA ? 'between' : 'after'
          expectElement = code === COMMA
        }
        i++
        continue
      }
      i++
      if (isSpace(code)) continue
      if (state === 'before') {
        if (code !== OPEN_BRACKET) fail('expected a JSON array of records ("[" …)')
        state = 'between'
      } else if (state === 'after') {
        fail('unexpected content after the closing "]"')
      } else if (code === CLOSE_BRACKET && !sawElement) {
        state = 'after' // "[]": an empty dataset
      } else if (code === CLOSE_BRACKET || code === COMMA) {
        fail(`malformed JSON: unexpected "${String.fromCharCode(code)}"`)
      } else if (!expectElement) {
        fail('malformed JSON: expected "," or "]"')
      } else {
        state = 'element'
        sawElement = true
        elementStart = i - 1
        elementLine = line
        depth = 0
        inString = false
        i-- // scan this character as part of the element
      }
    }
    if (state === 'element') {
      const rest = text.slice(elementStart)
      try {
        partial += rest
      } catch (error) {
        throw textTooLong(file, elementLine, error)
      }
      partialBytes += Buffer.byteLength(rest)
      if (partialBytes > maxRecordBytes) throw tooLong(file, elementLine, maxRecordBytes)
    }
  }

  for await (const chunk of chunks) {
    const records: DatasetRecord[] = []
    scan(decoder.write(chunk), records)
    if (records.length > 0) yield records
  }
  const records: DatasetRecord[] = []
  scan(decoder.end(), records)
  if (records.length > 0) yield records
  if (state === 'before') fail('expected a JSON array of records, got an empty file', 0)
  if (state !== 'after') fail('unexpected end of file: the JSON array is not closed with "]"')
}

/** Backslashes at the end of the text carried over from earlier chunks. */
function pendingBackslashes(text: string): number {
  let count = 0
  for (let j = text.length - 1; j >= 0 && text.charCodeAt(j) === BACKSLASH; j--) count++
  return count
}

function parseElement(text: string, file: string, line: number): DatasetRecord {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new DatasetError(file, line, `malformed JSON: ${(error as Error).message}`)
  }
  return recordFromJson(json, {file, line})
}
