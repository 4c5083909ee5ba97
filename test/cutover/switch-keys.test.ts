// How the batched switch names the keys it could not move (the conflicts of a cutover result):
// the one key printing of src/util/key-text.ts, so a key holding a newline or an escape
// sequence cannot split the result's lines or drive the terminal that shows them.
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Journal} from '../../src/cutover/journal.js'
import type {CutoverPlan} from '../../src/cutover/plan.js'
import {openSession, type Session, type SlotKeys} from '../../src/cutover/state.js'
import {switchForward} from '../../src/cutover/switch.js'
import {keySlot} from '../../src/util/keyslot.js'
import {hasRedisServer, startRedisServer, type RedisServer} from '../support/redis-server.js'
import {DBS, tempDir} from './support.js'

describe.skipIf(!hasRedisServer())('switch conflicts', () => {
  let server: RedisServer
  let session: Session

  beforeAll(async () => {
    server = await startRedisServer()
    session = await openSession({url: server.url, env: {}}, DBS)
  })
  afterAll(async () => {
    await session?.close()
    await server?.stop()
  })

  it('names a conflicting key with control characters in hex, like every other key flip prints', async () => {
    const key = Buffer.from('price:1\n\u001b[31mred')
    const text = Buffer.from('price:2')
    // Both keys were written to live after the key lists were read: the staged ones cannot move in.
    for (const k of [key, text]) {
      await session.live.command(session.live.primaries[0], ['SET', k, 'live'])
      await session.shadow.command(session.shadow.primaries[0], ['SET', k, 'staged'])
    }
    const staged: SlotKeys = []
    for (const k of [key, text]) (staged[keySlot(k)] ??= []).push(k)
    const plan = {strategy: 'move', mode: 'replace', dbs: DBS} as CutoverPlan
    const journal = Journal.open(join(tempDir(), 'plan.journal'))
    const outcome = await switchForward({session, loaded: {path: '', plan, journal, phase: 'planned'}, phase: 'cutover'}, {staged, live: []})
    expect(outcome.conflicts.count).toBe(2)
    expect(outcome.conflicts.keys.sort()).toEqual([`0x${key.toString('hex')}`, 'price:2'])
  })
})
