// The data plane's public surface: import from here, not from the files behind it.
export {connectPlane, Plane, RecordWriter} from './plane.js'
export type {DbSize, Health, PlaneMode, PlaneOptions, PrimaryInfo, ScanOptions, TargetIdentity, WriteSummary, WriterOptions} from './plane.js'
export {NodeConnection} from './connection.js'
export {CommandError, ConnectionError, DbNotAvailableError, PlaneError, RespError, UsageError} from './errors.js'
export {formatAddress, formatTarget, parseTargetUrl, passwordFromEnv, redactUrl, resolveTargetUrl} from './url.js'
export type {ParsedUrl, Seed, ServerTarget} from './url.js'
export type {Arg, Reply} from './resp.js'
