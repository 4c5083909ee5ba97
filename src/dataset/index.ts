// Datasets: record sources (NDJSON, JSON, CSV, stdin), checksums and manifests.
export * from './record.js'
export {DatasetError} from './errors.js'
export {DatasetChecksum, keyDigest, canonicalEncoding, canonicalScore, CHECKSUM_VERSION, EMPTY_CHECKSUM, type SlotSummary} from './checksum.js'
export {parseScoreText} from './parse-record.js'
export {KeySet} from './key-set.js'
export {parseKeyTemplate, type CsvOptions} from './csv.js'
export {DEFAULT_MAX_RECORD_BYTES, formatByteSize, parseByteSize} from './record-size.js'
export {
  emptyDatasetError,
  openDataset,
  formatFromPath,
  DATASET_FORMATS,
  STDIN,
  type DatasetFormat,
  type DatasetReader,
  type OpenDatasetOptions,
  type SourceDigest,
  type SourceFile,
} from './source.js'
export * from './manifest.js'
