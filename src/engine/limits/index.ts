// Per-database memory accounting and limits.
export {DbMemory} from './db-memory.js'
export {estimateEntryBytes, formatSize, parseDbMaxMemory, parseSize} from './estimate.js'
