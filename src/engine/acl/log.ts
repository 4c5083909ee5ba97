// ACL LOG (Valkey acl.c addACLLogEntry): the newest entry first, at most 128 entries; a denial
// like one of the 10 newest (same reason, context, object and user, within 60 s) bumps its count.

export type DenialReason = 'command' | 'key' | 'channel' | 'auth' | 'database'
export type DenialContext = 'toplevel' | 'multi' | 'lua'

export interface AclLogEntry {
  count: number
  reason: DenialReason
  context: DenialContext
  object: string
  username: string
  /** When the entry was last bumped (ms). */
  updated: number
  created: number
  entryId: number
  clientInfo: string
}

const MAX_ENTRIES = 128
const GROUPING_MS = 60_000
const SCAN_FOR_DUPLICATES = 10

export class AclLog {
  entries: AclLogEntry[] = []
  private nextId = 0

  add(reason: DenialReason, context: DenialContext, object: string, username: string, clientInfo: string): void {
    const now = Date.now()
    const limit = Math.min(SCAN_FOR_DUPLICATES, this.entries.length)
    for (let i = 0; i < limit; i++) {
      const e = this.entries[i]
      if (
        e.reason === reason && e.context === context && Math.abs(e.updated - now) <= GROUPING_MS &&
        e.object === object && e.username === username
      ) {
        this.entries.splice(i, 1)
        this.entries.unshift(e)
        e.clientInfo = clientInfo
        e.updated = now
        e.count++
        return
      }
    }
    this.entries.unshift({count: 1, reason, context, object, username, updated: now, created: now, entryId: this.nextId++, clientInfo})
    if (this.entries.length > MAX_ENTRIES) this.entries.length = MAX_ENTRIES
  }

  reset(): void {
    this.entries = []
  }
}
