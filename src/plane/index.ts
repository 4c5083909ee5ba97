// The data plane's public surface: import from here, not from the files behind it.
export {connectPlane, Plane} from './plane.js'
export type {PrimaryInfo, TargetIdentity, WriterOptions} from './plane.js'
export {CommandError, ConnectionError, DbNotAvailableError, PermissionError, PlaneError, RespError} from './errors.js'
export {formatAddress, passwordFromEnv, resolveTargetUrl} from './url.js'
export type {ServerTarget} from './url.js'
