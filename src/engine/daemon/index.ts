// Running the engine in the background (or the foreground) with its files in one directory.
export {runEngine, AlreadyRunningError, type DaemonOptions, type PersistenceOptions, type RunningEngine} from './run.js'
export {startDaemon, StartError, type StartResult} from './launcher.js'
export {stopDaemon, engineStatus, type EngineStatus, type NodeStatus, type StopResult} from './control.js'
export {logPath, pidPath, statePath, readState, type DaemonState, type DaemonNode} from './files.js'
export {isLoopback} from './bind.js'
