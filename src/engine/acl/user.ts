// One ACL user as Valkey 9.1 keeps it (acl.c): flags, password hashes, and the root selector's
// key patterns, channels, databases and command rules, plus any "(...)" selectors.
import {createHash} from 'node:crypto'
import type {Command} from '../commands/command.js'

export interface KeyPattern {
  pattern: string
  read: boolean
  write: boolean
}

export function hashPassword(cleartext: string): string {
  return createHash('sha256').update(Buffer.from(cleartext, 'latin1')).digest('hex')
}

/** One set of permissions: a user's root rules, or a "(...)" selector added to them. */
export class AclSelector {
  allKeys = false
  keys: KeyPattern[] = []
  allChannels = false
  channels: string[] = []
  allDbs = true
  /** Allowed databases when !allDbs (empty after resetdbs). */
  dbs = new Set<number>()
  /** Set only by +@all: commands run without looking at `allowed` (cleared by any removal). */
  allCommands = false
  /** +@all was the last of +@all / -@all: the user may run "future" commands (ACL LIST starts with +@all). */
  futureCommands = false
  allowed = new Set<Command>()
  /** First arguments allowed for an otherwise blocked command (+select|0). */
  firstArgs: Map<Command, string[]> | null = null
  /** The ordered command rules after +@all / -@all, as ACL LIST shows them ("+@all -@admin +get"). */
  rules: string[] = []

  copySelectorFrom(src: AclSelector): void {
    this.allKeys = src.allKeys
    this.keys = src.keys.map((k) => ({...k}))
    this.allChannels = src.allChannels
    this.channels = [...src.channels]
    this.allDbs = src.allDbs
    this.dbs = new Set(src.dbs)
    this.allCommands = src.allCommands
    this.futureCommands = src.futureCommands
    this.allowed = new Set(src.allowed)
    this.firstArgs = src.firstArgs === null ? null : new Map([...src.firstArgs].map(([c, a]) => [c, [...a]]))
    this.rules = [...src.rules]
  }

  describeKeys(): string[] {
    if (this.allKeys) return ['~*']
    return this.keys.map((k) => (k.read && k.write ? '~' : k.read ? '%R~' : '%W~') + k.pattern)
  }

  describeChannels(): string[] {
    return this.allChannels ? ['&*'] : this.channels.map((c) => '&' + c)
  }

  /** "alldbs", "" (resetdbs) or "db=0,1,2" as ACL GETUSER shows it. */
  describeDbs(): string {
    if (this.allDbs) return 'alldbs'
    if (this.dbs.size === 0) return ''
    return 'db=' + [...this.dbs].sort((a, b) => a - b).join(',')
  }

  describeCommands(): string {
    return [this.futureCommands ? '+@all' : '-@all', ...this.rules].join(' ')
  }

  /** Keys, channels, databases and commands as ACL LIST writes them. */
  describeSelector(): string {
    const parts = this.describeKeys()
    if (this.allChannels) parts.push('&*')
    else parts.push('resetchannels', ...this.describeChannels())
    parts.push(this.describeDbs() || 'resetdbs')
    parts.push(this.describeCommands())
    return parts.join(' ')
  }
}

/** A user: flags and passwords, its root permissions (the class itself) and extra selectors. */
export class AclUser extends AclSelector {
  /** Valkey keeps both an "on" and an "off" bit; a new user is off. */
  enabled = false
  nopass = false
  skipSanitizePayload = false
  /** SHA-256 hex digests, in the order they were added. */
  passwords: string[] = []
  /** "(...)" selectors: a command runs when the root rules or any selector allow it. */
  selectors: AclSelector[] = []
  /** Root rules are allCommands && allKeys && allDbs: the per-command check is skipped (the default user's case). */
  unrestricted = false

  constructor(readonly name: string) {
    super()
  }

  copyFrom(src: AclUser): void {
    this.enabled = src.enabled
    this.nopass = src.nopass
    this.skipSanitizePayload = src.skipSanitizePayload
    this.passwords = [...src.passwords]
    this.copySelectorFrom(src)
    this.selectors = src.selectors.map((s) => {
      const copy = new AclSelector()
      copy.copySelectorFrom(s)
      return copy
    })
    this.refresh()
  }

  refresh(): void {
    this.unrestricted = this.allCommands && this.allKeys && this.allDbs
  }

  /** Valkey's ACLUserFlags order: on, off, nopass, skip-sanitize-payload, sanitize-payload. */
  flagNames(): string[] {
    const out = [this.enabled ? 'on' : 'off']
    if (this.nopass) out.push('nopass')
    out.push(this.skipSanitizePayload ? 'skip-sanitize-payload' : 'sanitize-payload')
    return out
  }

  /** The user as one ACL LIST / ACL file line after "user <name> ". */
  describe(): string {
    const parts = [...this.flagNames(), ...this.passwords.map((p) => '#' + p), this.describeSelector()]
    for (const s of this.selectors) parts.push(`(${s.describeSelector()})`)
    return parts.join(' ')
  }
}
