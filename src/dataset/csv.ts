// CSV source: a header row, then one key per row (csv-parse, streaming).
//
// The key comes from a template in which {column} is replaced by that column's value of the
// row; "{{" and "}}" stand for literal braces, so a Valkey hash tag is written
// 'product:{{{sku}}}' → "product:{A1}". Then either
//   value: COLUMN  → a string key holding that column, or
//   hash: true     → a hash of every column not used in the key template.
import {parse} from 'csv-parse'
import {DatasetError, quoteForError} from './errors.js'
import type {DatasetRecord} from './record.js'
import {DEFAULT_MAX_RECORD_BYTES, tooLong} from './record-size.js'

export interface CsvOptions {
  /** Key template, e.g. 'product:{sku}:price'. */
  key: string
  /** Column holding the value of a string key. */
  value?: string
  /** Make each row a hash of the columns not used in the key. */
  hash?: boolean
  /** Optional column holding a TTL in seconds (empty = no expiry). */
  ttl?: string
}

type TemplatePart = string | {column: string}

/** Splits 'product:{sku}:price' into literal text and column references; throws on bad braces. */
export function parseKeyTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = []
  let literal = ''
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]
    if (ch === '{' && template[i + 1] === '{') {
      literal += '{'
      i++
    } else if (ch === '}' && template[i + 1] === '}') {
      literal += '}'
      i++
    } else if (ch === '{') {
      const close = template.indexOf('}', i + 1)
      if (close < 0) throw new Error(`key template ${quoteForError(template)} has an unclosed "{"`)
      const column = template.slice(i + 1, close)
      if (column === '') throw new Error(`key template ${quoteForError(template)} has an empty "{}"`)
      if (literal) parts.push(literal)
      literal = ''
      parts.push({column})
      i = close
    } else if (ch === '}') {
      throw new Error(`key template ${quoteForError(template)} has a "}" without "{" (write "}}" for a literal brace)`)
    } else {
      literal += ch
    }
  }
  if (literal) parts.push(literal)
  if (!parts.some((part) => typeof part !== 'string')) {
    throw new Error(`key template ${quoteForError(template)} names no column: every row would get the same key`)
  }
  return parts
}

export async function* csvRecords(
  chunks: AsyncIterable<Buffer>,
  file: string,
  options: CsvOptions,
  maxRecordBytes: number = DEFAULT_MAX_RECORD_BYTES,
): AsyncGenerator<DatasetRecord[]> {
  let template: TemplatePart[]
  try {
    template = parseKeyTemplate(options.key)
  } catch (error) {
    throw new DatasetError(file, 0, (error as Error).message)
  }
  if (options.value === undefined && !options.hash) throw new DatasetError(file, 0, 'CSV needs a value column (--value COLUMN) or --hash')
  if (options.value !== undefined && options.hash) throw new DatasetError(file, 0, 'CSV takes either a value column (--value) or --hash, not both')

  // csv-parse's stream wrapper costs more than the parsing itself (an info object per record,
  // stream buffering): drive its parser core directly, chunk by chunk. `parser.info.lines` is
  // live, so at each record it is the line the record ends on.
  const parser = parse({bom: true, relax_column_count: true, skip_empty_lines: true, max_record_size: maxRecordBytes}) as unknown as CsvParserCore
  const rows: Array<[row: string[], line: number]> = []
  const push = (row: string[]) => rows.push([row, parser.info.lines])

  let header: string[] | undefined
  let keyColumns: Array<string | number> = []
  let valueColumn = -1
  let ttlColumn = -1
  let hashColumns: number[] = []
  let fieldNames: Buffer[] = [] // header names as bytes, shared by every row's hash
  let batch: DatasetRecord[] = []

  // Rows parsed before a syntax error are handled first, so the first problem in the file wins.
  const parseChunk = (chunk: Buffer | undefined): void => {
    const error = parser.api.parse(chunk, chunk === undefined, push, () => {})
    for (const [row, line] of rows) handle(row, line)
    rows.length = 0
    if (error?.code === 'CSV_MAX_RECORD_SIZE') throw tooLong(file, error.lines ?? parser.info.lines, maxRecordBytes)
    if (error !== undefined) {
      throw new DatasetError(file, error.lines ?? parser.info.lines, `malformed CSV: ${error.message.replace(/\.$/, '')}`)
    }
  }

  const handle = (row: string[], line: number): void => {
    if (header === undefined) {
      header = row
      const index = new Map<string, number>()
      row.forEach((name, i) => {
        if (index.has(name)) throw new DatasetError(file, line, `header names column ${quoteForError(name)} twice`)
        index.set(name, i)
      })
      const columnIndex = (name: string, role: string): number => {
        const at = index.get(name)
        if (at === undefined) {
          throw new DatasetError(file, line, `missing column ${quoteForError(name)} (${role}); the header has ${row.map((c) => quoteForError(c, 20)).join(', ')}`)
        }
        return at
      }
      keyColumns = template.map((part) => (typeof part === 'string' ? part : columnIndex(part.column, 'used in the key template')))
      if (options.value !== undefined) valueColumn = columnIndex(options.value, 'named by --value')
      if (options.ttl !== undefined) ttlColumn = columnIndex(options.ttl, 'named as the TTL column')
      const used = new Set<number>(keyColumns.filter((c): c is number => typeof c === 'number'))
      if (ttlColumn >= 0) used.add(ttlColumn)
      hashColumns = row.map((_, i) => i).filter((i) => !used.has(i))
      fieldNames = row.map((name) => Buffer.from(name, 'utf8'))
      if (options.hash && hashColumns.length === 0) throw new DatasetError(file, line, 'no columns left for the hash: every column is used in the key')
      return
    }
    if (row.length !== header.length) {
      throw new DatasetError(file, line, `row has ${row.length} field${row.length === 1 ? '' : 's'}, the header has ${header.length}`)
    }
    let key = ''
    for (const part of keyColumns) key += typeof part === 'string' ? part : row[part]
    if (key === '') throw new DatasetError(file, line, 'empty key')
    let ttl: number | undefined
    if (ttlColumn >= 0 && row[ttlColumn] !== '') {
      ttl = Number(row[ttlColumn])
      if (!Number.isFinite(ttl) || ttl <= 0) {
        throw new DatasetError(file, line, `TTL must be a positive number of seconds, got ${quoteForError(row[ttlColumn], 30)}`)
      }
    }
    const origin = {file, line}
    const keyBytes = Buffer.from(key, 'utf8')
    if (valueColumn >= 0) {
      batch.push({key: keyBytes, value: {type: 'string', value: Buffer.from(row[valueColumn], 'utf8')}, ttl, origin})
    } else {
      const fields: Array<[Buffer, Buffer]> = hashColumns.map((i) => [fieldNames[i], Buffer.from(row[i], 'utf8')])
      batch.push({key: keyBytes, value: {type: 'hash', value: fields}, ttl, origin})
    }
  }

  for await (const chunk of chunks) {
    parseChunk(chunk)
    if (batch.length > 0) {
      yield batch
      batch = []
    }
  }
  parseChunk(undefined)
  if (batch.length > 0) yield batch
}

/** The part of csv-parse's Parser used here (its `api` is public at runtime but not typed). */
interface CsvParserCore {
  info: {lines: number}
  api: {
    parse(chunk: Buffer | undefined, end: boolean, push: (row: string[]) => void, close: () => void): (Error & {lines?: number; code?: string}) | undefined
  }
}
