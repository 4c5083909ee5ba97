// Snapshots of a node's keyspace: format, save, load, the node's save/load lifecycle.
export {SnapshotError, snapshotPath} from './format.js'
export {saveSnapshot, saveSnapshotSync} from './writer.js'
export {loadSnapshot, readSnapshotMeta} from './reader.js'
export {openNodeOps} from './node-ops.js'
