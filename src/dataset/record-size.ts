// The largest record a source accepts (--max-record-bytes). A reader holds one whole record in
// memory, so without a bound one endless line (or an unclosed JSON string) is read to the end of
// the file before anything is refused. The default is Valkey's proto-max-bulk-len: a larger
// value could not be written in one command anyway. Sizes are written as in valkey.conf.
import {formatSize} from '../util/bytes.js'
import {DatasetError} from './errors.js'

export const DEFAULT_MAX_RECORD_BYTES = 512 * 1024 * 1024

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
}

/** "64mb" → 67108864, as valkey.conf reads sizes (1k = 1000, 1kb = 1024); undefined when not one. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text)
  if (match === null) return undefined
  const unit = UNITS[match[2].toLowerCase()]
  if (unit === undefined) return undefined
  const bytes = Number(match[1]) * unit
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined
}

/** 67108864 → "64mb"; sizes that are not whole kb/mb/gb in bytes. */
export function formatByteSize(bytes: number): string {
  return formatSize(bytes, {exact: true})
}

export function tooLong(file: string, line: number, maxRecordBytes: number): DatasetError {
  return new DatasetError(file, line, `record larger than ${formatByteSize(maxRecordBytes)} (raise --max-record-bytes to read it)`)
}

/**
 * For an error met while building a record's text: a record longer than the longest string V8
 * can hold (~512 MB) is a DatasetError, not a RangeError; any other error is returned as it is.
 * Only a limit raised above the default lets such a record through.
 */
export function textTooLong(file: string, line: number, error: unknown): unknown {
  if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG') {
    return new DatasetError(file, line, 'record too long to read as text (JavaScript strings hold at most ~512 MB)')
  }
  return error
}
