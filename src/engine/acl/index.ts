// A node's ACL state (users are per node, as in a Valkey cluster): the users, the default user
// made from --password, the ACL LOG, and authentication. Users live in memory only: an engine
// restart starts again from the default user (there is no ACL file).
import type {Client} from '../client.js'
import {describeClient} from '../commands/connection.js'
import {AclLog, type DenialContext, type DenialReason} from './log.js'
import {applyRule, setUserRules} from './rules.js'
import {AclUser, hashPassword} from './user.js'

export {AclUser} from './user.js'

export class Acl {
  readonly users = new Map<string, AclUser>()
  readonly log = new AclLog()
  readonly defaultUser: AclUser

  constructor(password: string | undefined) {
    const u = new AclUser('default')
    for (const rule of ['+@all', '~*', '&*', 'on', 'nopass']) applyRule(u, rule)
    if (password !== undefined) {
      applyRule(u, 'resetpass')
      applyRule(u, '>' + password)
    }
    u.refresh()
    this.defaultUser = u
    this.users.set('default', u)
  }

  /** A new connection is logged in as default when default needs no password (and is on). */
  get defaultLoginFree(): boolean {
    return this.defaultUser.nopass && this.defaultUser.enabled
  }

  /** Creates or changes a user; null on success, else the error text without "ERR ". */
  setUser(name: string, rules: string[]): string | null {
    const existing = this.users.get(name)
    const target = existing ?? new AclUser(name)
    if (!existing) target.copyFrom(freshUser(name))
    const error = setUserRules(target, rules)
    if (error === null && !existing) this.users.set(name, target)
    return error
  }

  /** ACLCheckUserCredentials: the user when name/password may log in, else null. */
  credentials(name: string, password: string): AclUser | null {
    const u = this.users.get(name)
    if (u === undefined || !u.enabled) return null
    if (u.nopass) return u
    const hashed = hashPassword(password)
    return u.passwords.includes(hashed) ? u : null
  }

  /** AUTH / HELLO AUTH: logs c in, or records the failure in ACL LOG and returns false. */
  authenticate(c: Client, name: string, password: string, command: string): boolean {
    const u = this.credentials(name, password)
    if (u === null) {
      this.log.add('auth', c.multi !== null ? 'multi' : 'toplevel', command, name, clientInfo(c))
      return false
    }
    c.user = u
    c.authenticated = true
    return true
  }

  /** Records a refused command in ACL LOG. */
  logDenial(c: Client, reason: DenialReason, context: DenialContext, object: string, user: AclUser): void {
    this.log.add(reason, context, object, user.name, clientInfo(c))
  }

  /** Sorted as Valkey's radix tree iterates (byte order). */
  sortedUsers(): AclUser[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }
}

function freshUser(name: string): AclUser {
  // ACLCreateUser: off, sanitize-payload, no keys, resetchannels (acl-pubsub-default), alldbs, -@all.
  const u = new AclUser(name)
  u.refresh()
  return u
}

function clientInfo(c: Client): string {
  return describeClient(c).replace(/\n$/, '')
}
