// The flags of the commands that read dataset files (stage, verify --source), defined once:
// --format, the CSV mapping (--key, --value, --hash, --ttl) and --max-record-bytes, with the
// checks that turn them into the options of openDataset (the checks, not oclif's `exclusive`, so the
// message is one line).
import {Flags} from '@oclif/core'
import type {CsvOptions} from '../dataset/csv.js'
import {DEFAULT_MAX_RECORD_BYTES, formatByteSize, parseByteSize} from '../dataset/record-size.js'
import {DATASET_FORMATS, type DatasetFormat} from '../dataset/source.js'
import {EXIT, FlipError} from '../util/exit-codes.js'

export const datasetFlags = {
  format: Flags.string({summary: 'Input format (default: from each file extension; stdin: ndjson).', options: [...DATASET_FORMATS]}),
  key: Flags.string({summary: "CSV: key template, e.g. 'product:{sku}:price'."}),
  value: Flags.string({summary: 'CSV: column holding the value (string keys).'}),
  hash: Flags.boolean({summary: 'CSV: make each row a hash of its columns not used in the key.'}),
  ttl: Flags.string({summary: 'CSV: column holding a TTL in seconds.'}),
  'max-record-bytes': Flags.string({
    summary: `Refuse a record (line, array element, CSV row) larger than this, e.g. 64mb (default ${formatByteSize(DEFAULT_MAX_RECORD_BYTES)}).`,
    description: 'Sizes as in valkey.conf: 1k = 1000 bytes, 1kb = 1024, likewise m/mb and g/gb.',
  }),
}

export interface DatasetFlagValues {
  format?: string
  key?: string
  value?: string
  hash?: boolean
  ttl?: string
  'max-record-bytes'?: string
}

export interface DatasetInputOptions {
  format?: DatasetFormat
  csv?: CsvOptions
  maxRecordBytes: number
}

/** Checks the dataset flags together; a FlipError (exit 2) names what is wrong. */
export function datasetInputOptions(flags: DatasetFlagValues): DatasetInputOptions {
  if ((flags.value !== undefined || flags.hash || flags.ttl !== undefined) && flags.key === undefined) {
    throw new FlipError('--value, --hash and --ttl need --key (the CSV key template)', EXIT.usage)
  }
  if (flags.value !== undefined && flags.hash) throw new FlipError('--value and --hash exclude each other: a CSV row is a string or a hash', EXIT.usage)
  let maxRecordBytes = DEFAULT_MAX_RECORD_BYTES
  if (flags['max-record-bytes'] !== undefined) {
    const parsed = parseByteSize(flags['max-record-bytes'])
    if (parsed === undefined) {
      throw new FlipError(`--max-record-bytes ${JSON.stringify(flags['max-record-bytes'])} is not a size: write e.g. 1048576, 64mb or 1gb`, EXIT.usage)
    }
    maxRecordBytes = parsed
  }
  return {
    format: flags.format as DatasetFormat | undefined,
    csv: flags.key === undefined ? undefined : {key: flags.key, value: flags.value, hash: flags.hash, ttl: flags.ttl},
    maxRecordBytes,
  }
}
