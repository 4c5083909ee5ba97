// The data plane against an external server given by FLIP_TEST_VALKEY_URL (e.g. a scratch
// Valkey 9 cluster with cluster-databases 16). Uses db FLIP_TEST_VALKEY_DB (default 15), which
// must be empty when the test starts, and empties it again at the end.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {connectPlane, type Plane} from '../../src/plane/index.js'
import {byKey, comparable, expectedStored, sampleRecords, stringRecords} from './support/records.js'

const url = process.env.FLIP_TEST_VALKEY_URL
const db = Number(process.env.FLIP_TEST_VALKEY_DB ?? 15)

if (url === undefined || url === '') {
  describe('external server (FLIP_TEST_VALKEY_URL)', () => {
    it.skip('skipped: set FLIP_TEST_VALKEY_URL=valkey://[:password@]host:port to run the plane against a scratch Valkey 9 cluster', () => {})
  })
} else {
  describe(`external server (FLIP_TEST_VALKEY_URL), db ${db}`, () => {
    let plane: Plane
    beforeAll(async () => {
      plane = await connectPlane({url, db})
      const {total} = await plane.dbsize()
      if (total !== 0) throw new Error(`db ${db} of ${plane.displayUrl} holds ${total} keys: point FLIP_TEST_VALKEY_DB at an empty db`)
    })
    afterAll(async () => {
      await plane?.flushdb()
      await plane?.close()
    })

    it('is healthy and knows its databases', async () => {
      expect(await plane.health()).toEqual({ok: true, problems: []})
      expect(await plane.databases()).toBeGreaterThan(db)
    })

    it('writes, scans, reads back and empties its db', async () => {
      const records = [...sampleRecords('flip-test:'), ...stringRecords(5000, 'flip-test:key:')]
      await plane.writeRecords(records)
      expect((await plane.dbsize()).total).toBe(records.length)
      const scanned = []
      for await (const batch of plane.scanValues()) scanned.push(...batch.map(comparable))
      expect(scanned.sort(byKey)).toEqual(records.map(expectedStored).sort(byKey))
      await plane.flushdb()
      expect((await plane.dbsize()).total).toBe(0)
    })
  })
}
