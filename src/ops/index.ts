// The stage / verify / diff / status core. Commands call these with plain options and render
// the typed results; nothing here prints.
export {stage, stageFailureOf, type StageOptions, type StageProgress, type StageResult, type StageFailure} from './stage.js'
export {verify, type VerifyOptions, type VerifyProgress, type VerifyResult, type KeyDifference} from './verify.js'
export {OpsError} from './errors.js'
export {diff, describeChange, type DiffOptions, type DiffProgress, type DiffResult, type KeyChange, type PrefixCounts} from './diff.js'
export {status, type StatusOptions, type StatusResult, type DbStatus, type NodeKeys, type ManifestSummary} from './status.js'
export {checksumDb, checksumPlane, type DbChecksum} from './db-checksum.js'
