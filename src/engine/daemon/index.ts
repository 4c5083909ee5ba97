// Running the engine in the background (or the foreground) with its files in one directory.
export {runEngine, AlreadyRunningError, type DaemonOptions} from './run.js'
export {startDaemon, StartError} from './launcher.js'
export {stopDaemon, engineStatus, type EngineStatus} from './control.js'
export type {DaemonState} from './files.js'
export {isLoopback} from './bind.js'
