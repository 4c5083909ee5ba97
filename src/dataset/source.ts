// Opens the input files of a stage or verify: format detection, streaming with byte counts and
// SHA-256 of what was read, validation, and duplicate detection across all files.
import {createHash, type Hash} from 'node:crypto'
import {createReadStream, promises as fs} from 'node:fs'
import {extname} from 'node:path'
import type {Readable} from 'node:stream'
import {csvRecords, type CsvOptions} from './csv.js'
import {DatasetError, quoteForError} from './errors.js'
import {jsonArrayRecords} from './json-array.js'
import {KeyLog} from './key-log.js'
import {hashKey, KEY_HASH, KeySet} from './key-set.js'
import {ndjsonRecords} from './ndjson.js'
import type {DatasetRecord} from './record.js'

/**
 * Bytes read at a time. Every record of a chunk stays alive until the last of them is written;
 * smaller chunks mean fewer records outliving a young-generation GC and being promoted as
 * garbage, so a smaller chunk lowers stage's peak memory (the README has the measurements).
 */
const READ_CHUNK_BYTES = 64 * 1024

export type DatasetFormat = 'ndjson' | 'json' | 'csv'
export const DATASET_FORMATS: readonly DatasetFormat[] = ['ndjson', 'json', 'csv']

/** The name stdin has in file lists and error messages. */
export const STDIN = '-'
export const STDIN_LABEL = 'stdin'

export interface OpenDatasetOptions {
  /** Format of every file; by default from each file's extension (stdin: ndjson). */
  format?: DatasetFormat
  /** Format of each file, by position, when they differ (a manifest records one per file); overrides format. */
  formats?: readonly DatasetFormat[]
  csv?: CsvOptions
  /** Records per yielded batch (default 1000). */
  batchSize?: number
  /** Records in the first batch (default batchSize): 1 tells an empty input from the first record alone. */
  firstBatchSize?: number
  /** Stream to read for "-" (default process.stdin). */
  stdin?: Readable
  /** The largest record accepted, in bytes (default DEFAULT_MAX_RECORD_BYTES). */
  maxRecordBytes?: number
  /** Keep duplicate detection off (verify against a file does its own bookkeeping). */
  allowDuplicates?: boolean
}

export interface SourceFile {
  /** As given by the user; "-" for stdin. */
  path: string
  format: DatasetFormat
  /** Known up front for regular files. */
  size?: number
}

/** What a manifest records about each input once it has been read to the end. */
export interface SourceDigest {
  path: string
  size: number
  sha256: string
}

export interface DatasetReader {
  readonly files: readonly SourceFile[]
  /** Sum of the file sizes when all are known (not for stdin). */
  readonly totalBytes: number | undefined
  /** Bytes read so far, over all files. */
  readonly bytesRead: number
  /** Records in batches, validated, each key once (or a DatasetError). Iterate once. */
  batches(): AsyncGenerator<DatasetRecord[]>
  /** Sizes and SHA-256 of the inputs; complete once batches() has finished. */
  digests(): SourceDigest[]
}

export function formatFromPath(path: string): DatasetFormat | undefined {
  const extension = extname(path).toLowerCase()
  if (extension === '.ndjson' || extension === '.jsonl') return 'ndjson'
  if (extension === '.json') return 'json'
  if (extension === '.csv') return 'csv'
  return undefined
}

function labelOf(path: string): string {
  return path === STDIN ? STDIN_LABEL : path
}

/** Checks every input exists and has a known format, before anything is written anywhere. */
export async function openDataset(paths: readonly string[], options: OpenDatasetOptions = {}): Promise<DatasetReader> {
  if (paths.length === 0) throw new DatasetError('input', 0, 'no input files given')
  if (paths.filter((p) => p === STDIN).length > 1) throw new DatasetError(STDIN_LABEL, 0, 'stdin ("-") can be read only once')
  const files: SourceFile[] = []
  for (const [index, path] of paths.entries()) {
    const format = options.formats?.[index] ?? options.format ?? (path === STDIN ? 'ndjson' : formatFromPath(path))
    if (format === undefined) {
      throw new DatasetError(path, 0, `cannot tell the format from the extension ${quoteForError(extname(path) || '(none)')}: use --format ndjson, json or csv`)
    }
    if (format === 'csv' && options.csv === undefined) throw new DatasetError(labelOf(path), 0, 'CSV needs a key template (--key) and --value COLUMN or --hash')
    if (path === STDIN) {
      files.push({path, format})
      continue
    }
    let size: number
    try {
      const stat = await fs.stat(path)
      if (!stat.isFile()) throw new DatasetError(path, 0, 'cannot read: not a regular file')
      await fs.access(path, fs.constants.R_OK)
      size = stat.size
    } catch (error) {
      if (error instanceof DatasetError) throw error
      throw new DatasetError(path, 0, `cannot read: ${describeFsError(error)}`)
    }
    files.push({path, format, size})
  }
  return new Reader(files, options)
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'EISDIR') return 'is a directory'
  return (error as Error).message
}

class Reader implements DatasetReader {
  readonly files: readonly SourceFile[]
  readonly totalBytes: number | undefined
  bytesRead = 0
  private readonly hashes: Array<{size: number; hash: Hash; sha256?: string}>
  private readonly options: OpenDatasetOptions

  constructor(files: SourceFile[], options: OpenDatasetOptions) {
    this.files = files
    this.options = options
    this.totalBytes = files.every((f) => f.size !== undefined) ? files.reduce((sum, f) => sum + f.size!, 0) : undefined
    this.hashes = files.map(() => ({size: 0, hash: createHash('sha256')}))
  }

  digests(): SourceDigest[] {
    return this.files.map((file, i) => {
      const entry = this.hashes[i]
      entry.sha256 ??= entry.hash.digest('hex')
      return {path: file.path, size: entry.size, sha256: entry.sha256}
    })
  }

  async *batches(): AsyncGenerator<DatasetRecord[]> {
    let batchSize = this.options.firstBatchSize ?? this.options.batchSize ?? 1000
    // Files can be read again to say where a duplicate is: their keys are only logged, and
    // checked once at the end (key-log.ts). Stdin cannot: its keys are checked one by one.
    const rereadable = this.files.every((file) => file.path !== STDIN)
    const log = this.options.allowDuplicates || !rereadable ? undefined : new KeyLog()
    const seen = this.options.allowDuplicates || rereadable ? undefined : new KeySet()
    let batch: DatasetRecord[] = []
    for (let i = 0; i < this.files.length; i++) {
      const file = this.files[i]
      for await (const records of this.recordsOf(file, i)) {
        for (const record of records) {
          if (log !== undefined) log.add(record.key)
          else if (seen !== undefined && !seen.add(record.key)) throw await this.duplicateError(record, i)
          batch.push(record)
          if (batch.length >= batchSize) {
            yield batch
            batch = []
            batchSize = this.options.batchSize ?? 1000
          }
        }
      }
    }
    const duplicates = log?.duplicates()
    if (duplicates !== undefined && duplicates.size > 0) {
      const error = await this.firstDuplicate(duplicates)
      // undefined: only different keys sharing a hash, not a duplicate
      if (error !== undefined) throw error
    }
    if (batch.length > 0) yield batch
  }

  private async duplicateError(record: DatasetRecord, fileIndex: number): Promise<DatasetError> {
    return duplicateKeyError(record, await this.firstOccurrence(record, fileIndex))
  }

  /**
   * For key hashes the log found more than once: re-reads the inputs and names the first record
   * (in input order) whose key appeared before, as the per-key check would have. Undefined when
   * the hashes were only shared by different keys.
   */
  private async firstDuplicate(hashes: Set<string>): Promise<DatasetError | undefined> {
    // Per duplicated hash, the distinct keys met with it so far (one, unless keys share a hash).
    const met = new Map<string, DatasetRecord[]>()
    for await (const {record} of this.reread(this.files.length - 1)) {
      hashKey(record.key)
      const hash = `${KEY_HASH[0]}:${KEY_HASH[1]}`
      if (!hashes.has(hash)) continue
      const earlier = met.get(hash) ?? []
      const first = earlier.find((other) => other.key.equals(record.key))
      if (first !== undefined) return duplicateKeyError(record, `${first.origin.file}:${first.origin.line}`)
      met.set(hash, [...earlier, record])
    }
    return undefined
  }

  /** The records of inputs 0..last read again, in order; stops at stdin, which cannot be read twice. */
  private async *reread(last: number): AsyncGenerator<{fileIndex: number; record: DatasetRecord}> {
    for (let fileIndex = 0; fileIndex <= last; fileIndex++) {
      const file = this.files[fileIndex]
      if (file.path === STDIN) return
      const again = new Reader([file], {...this.options, allowDuplicates: true})
      for await (const records of again.recordsOf(file, 0)) for (const record of records) yield {fileIndex, record}
    }
  }

  private recordsOf(file: SourceFile, index: number): AsyncGenerator<DatasetRecord[]> {
    const label = labelOf(file.path)
    const chunks = this.chunksOf(file, index)
    const max = this.options.maxRecordBytes
    if (file.format === 'ndjson') return ndjsonRecords(chunks, label, max)
    if (file.format === 'json') return jsonArrayRecords(chunks, label, max)
    return csvRecords(chunks, label, this.options.csv!, max)
  }

  private async *chunksOf(file: SourceFile, index: number): AsyncGenerator<Buffer> {
    const stream: Readable =
      file.path === STDIN ? (this.options.stdin ?? process.stdin) : createReadStream(file.path, {highWaterMark: READ_CHUNK_BYTES})
    const entry = this.hashes[index]
    try {
      for await (const chunk of stream) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
        entry.hash.update(buf)
        entry.size += buf.length
        this.bytesRead += buf.length
        yield buf
      }
    } catch (error) {
      throw new DatasetError(labelOf(file.path), 0, `cannot read: ${describeFsError(error)}`)
    } finally {
      if (file.path !== STDIN) stream.destroy()
    }
  }

  /**
   * Where a duplicated key first appeared: re-reads the inputs up to the duplicate (only on this
   * error path; the key set keeps hashes, not positions, to stay small). Not possible for stdin.
   */
  private async firstOccurrence(duplicate: DatasetRecord, upToFile: number): Promise<string | undefined> {
    try {
      for await (const {fileIndex, record} of this.reread(upToFile)) {
        if (record.origin === duplicate.origin || (fileIndex === upToFile && record.origin.line >= duplicate.origin.line)) return undefined
        if (record.key.equals(duplicate.key)) return `${record.origin.file}:${record.origin.line}`
      }
    } catch {
      return undefined
    }
    return undefined
  }
}

/** An input without a single record: staged, it would empty live at the next cutover. */
export function emptyDatasetError(files: readonly SourceFile[]): DatasetError {
  const names = files.map((file) => labelOf(file.path)).join(', ')
  return new DatasetError(names, 0, `no records: refusing to stage an empty dataset, which would empty the live db at cutover (pass --allow-empty to stage 0 keys)`)
}

/** "file:line: duplicate key "k" (first at file:line)"; without the first place when unknown. */
function duplicateKeyError(record: DatasetRecord, firstAt: string | undefined): DatasetError {
  return new DatasetError(
    record.origin.file,
    record.origin.line,
    `duplicate key ${quoteForError(record.key.toString('utf8'))}${firstAt ? ` (first at ${firstAt})` : ''}`,
  )
}
