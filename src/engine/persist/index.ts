// Snapshots of a node's keyspace: format, save, load, and where the files live.
import {join} from 'node:path'

export {SnapshotError, FORMAT_VERSION, type SnapshotMeta} from './format.js'
export {saveSnapshot, saveSnapshotSync, type SnapshotStats} from './writer.js'
export {loadSnapshot, readSnapshotMeta, type LoadedSnapshot, type LoadOptions} from './reader.js'

/** One snapshot file per node in the engine directory. */
export function snapshotPath(dir: string, nodeIndex: number): string {
  return join(dir, `node-${nodeIndex}.snapshot`)
}
