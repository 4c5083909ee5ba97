// Snapshots of a node's keyspace: format, save, load, the node's save/load lifecycle.
export {SnapshotError, FORMAT_VERSION, snapshotPath, type SnapshotMeta} from './format.js'
export {saveSnapshot, saveSnapshotSync, type SnapshotStats} from './writer.js'
export {loadSnapshot, readSnapshotMeta, type LoadedSnapshot, type LoadOptions} from './reader.js'
export {NodePersistence, type LoadReport, type PersistenceConfig} from './node-persistence.js'
export {openNodeOps, NodeOps, type NodeOpsConfig} from './node-ops.js'
