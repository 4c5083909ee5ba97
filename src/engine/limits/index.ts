// Per-database memory accounting and limits.
export {DbMemory, oomMessage, type WriteScope} from './db-memory.js'
export {estimateEntryBytes, estimateValueBytes, formatSize, parseDbMaxMemory, parseSize} from './estimate.js'
