// The stage / verify / diff / status core. Commands call these with plain options and render
// the typed results; nothing here prints.
export {stage, stageFailureOf, type StageOptions, type StageProgress, type StageResult, type StageFailure} from './stage.js'
export {verify, type VerifyOptions, type VerifyProgress, type VerifyResult, type KeyDifference} from './verify.js'
export {OpsError} from './errors.js'
export {keyText} from './key-text.js'
export type {PlaneTarget} from './target.js'
