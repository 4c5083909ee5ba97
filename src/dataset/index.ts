// Datasets: record sources (NDJSON, JSON, CSV, stdin), checksums and manifests.
export * from './record.js'
export {DatasetError} from './errors.js'
export {DatasetChecksum, keyDigest, canonicalEncoding, canonicalScore} from './checksum.js'
export {parseScoreText} from './parse-record.js'
export {KeySet} from './key-set.js'
export {formatByteSize, parseByteSize} from './record-size.js'
export {openDataset, type OpenDatasetOptions} from './source.js'
export * from './manifest.js'
