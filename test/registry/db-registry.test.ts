// The db registry in the metadata db: leases never collide, skip role and named dbs, expire and
// are reaped (their db emptied before reuse), need their token, and damaged keys are named.
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {connectPlane, type Plane} from '../../src/plane/index.js'
import {DbSession, collectGarbage, leaseDb, nameDb, releaseLease, renewLease, unnameDb} from '../../src/registry/db-service.js'
import {backends, type Backend} from '../ops/backends.js'

const META = 15
const roles = {live: 0, shadow: 1, archive: 2}

for (const kind of backends) {
  describe.skipIf(kind.skip !== undefined)(`the db registry on ${kind.name}`, () => {
    let backend: Backend
    let session: DbSession
    let meta: Plane

    beforeAll(async () => {
      backend = await kind.start()
      meta = await connectPlane({url: backend.url, db: META})
    })
    afterAll(async () => {
      await session?.close()
      await meta?.flushdb()
      await meta?.close()
      await backend?.stop()
    })
    beforeEach(async () => {
      await session?.close()
      await meta.flushdb()
      session = await DbSession.open({url: backend.url}, {metaDb: META, roles})
    })

    it('hands out the lowest free dbs, never a role, lock, metadata or named db, and reuses released ones', async () => {
      await nameDb(session, 'prices-live', 4)
      const got: number[] = []
      for (let i = 0; i < 5; i++) got.push((await leaseDb(session, {ttlMs: 60_000})).db)
      // 0-2 roles, 4 named; 15 is the metadata db and the lock's default.
      expect(got).toEqual([3, 5, 6, 7, 8])
      expect(session.roleDbs.sort((a, b) => a - b)).toEqual([0, 1, 2, 15])
      const leases = await session.registry.leases()
      expect(leases.map((l) => l.db)).toEqual(got)
    })

    it('refuses with the count and the earliest expiry when no db is free', async () => {
      const a = await leaseDb(session, {ttlMs: 60_000, from: 5, to: 6})
      await leaseDb(session, {ttlMs: 120_000, from: 5, to: 6})
      await expect(leaseDb(session, {ttlMs: 60_000, from: 5, to: 6})).rejects.toThrow(new RegExp(`no free db in 5-6: 2 leased; the earliest expires at ${a.expiresAt.replace(/\./g, '\\.')}`))
      await expect(leaseDb(session, {ttlMs: 60_000, from: 3, to: 40})).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/--to: db 40 is out of range: the server offers dbs 0-15/)})
    })

    it('reaps an expired lease on the next lease and empties its db before handing it out again', async () => {
      const first = await leaseDb(session, {ttlMs: 1000, from: 9, to: 9})
      const data = await connectPlane({url: backend.url, db: first.db})
      try {
        await data.command(data.nodeForKey('left:behind'), ['SET', 'left:behind', 'x'])
        await new Promise((resolve) => setTimeout(resolve, 1100))
        const second = await leaseDb(session, {ttlMs: 60_000, from: 9, to: 9})
        expect(second.db).toBe(9)
        expect(second.reaped).toEqual([9])
        expect((await data.dbsize()).total).toBe(0)
        // The old holder's token no longer works.
        await expect(releaseLease(session, {db: 9, token: first.token})).rejects.toThrow(/the lease is not yours/)
      } finally {
        await data.close()
      }
    })

    it('renews and releases only with the token, or --force', async () => {
      const lease = await leaseDb(session, {ttlMs: 5000})
      await expect(renewLease(session, {db: lease.db, ttlMs: 60_000})).rejects.toThrow(/not yours/)
      const renewed = await renewLease(session, {db: lease.db, token: lease.token, ttlMs: 60_000})
      expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.parse(lease.expiresAt))
      await expect(releaseLease(session, {db: lease.db, token: 'wrong'})).rejects.toMatchObject({exitCode: 1, message: expect.stringMatching(/cannot release db \d+: the lease is not yours/)})
      await releaseLease(session, {db: lease.db, force: true})
      await expect(releaseLease(session, {db: lease.db, force: true})).rejects.toThrow(/is not leased/)
      expect((await leaseDb(session, {ttlMs: 5000})).db).toBe(lease.db)
    })

    it('gc releases every expired lease', async () => {
      await leaseDb(session, {ttlMs: 1000})
      await leaseDb(session, {ttlMs: 1000})
      const kept = await leaseDb(session, {ttlMs: 60_000})
      await new Promise((resolve) => setTimeout(resolve, 1100))
      expect((await collectGarbage(session)).sort()).toEqual([3, 4])
      expect((await session.registry.leases()).map((l) => l.db)).toEqual([kept.db])
    })

    it('names: case-insensitive, one name per db, never a leased db, checked input', async () => {
      await nameDb(session, 'Tenant-Acme', 7)
      expect(await session.registry.lookup('tenant-acme')).toBe(7)
      await expect(nameDb(session, 'TENANT-ACME', 8)).rejects.toThrow(/already db 7/)
      await expect(nameDb(session, 'other', 7)).rejects.toThrow(/db 7 is already named "Tenant-Acme"/)
      await expect(nameDb(session, '42', 8)).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/purely numeric/)})
      await expect(nameDb(session, 'x'.repeat(65), 8)).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/1 to 64 characters/)})
      await expect(nameDb(session, 'default', 8)).rejects.toMatchObject({exitCode: 2})
      await expect(nameDb(session, 'far', 99)).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/out of range/)})
      const lease = await leaseDb(session, {ttlMs: 60_000})
      await expect(nameDb(session, 'mine', lease.db)).rejects.toThrow(/is leased/)
      expect(await unnameDb(session, 'TENANT-acme')).toBe(7)
      await expect(unnameDb(session, 'tenant-acme')).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/no db is named/)})
    })

    it('refuses a damaged registry key, naming it', async () => {
      const node = meta.nodeForKey('{flip}')
      await meta.command(node, ['SET', '{flip}:db:free', 'oops'])
      await expect(leaseDb(session, {ttlMs: 60_000})).rejects.toThrow(/metadata db 15 holds a damaged \{flip\}:db:free \(is a string, expected a zset\)/)
      await meta.command(node, ['DEL', '{flip}:db:free'])
      await meta.command(node, ['HSET', '{flip}:db:names', 'bad', 'x1'])
      await expect(session.registry.lookup('bad')).rejects.toThrow(/damaged \{flip\}:db:names \("x1" is not a db number\)/)
      await meta.command(node, ['HSET', '{flip}:db:leases', '5', '{nope'])
      await meta.command(node, ['ZADD', '{flip}:db:expiry', '1', '5'])
      await expect(session.registry.leases()).rejects.toThrow(/damaged \{flip\}:db:leases \(field 5 is not a lease record\)/)
    })
  })
}
