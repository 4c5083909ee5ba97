// The cutover lock on a real redis-server: one holder at a time, named in the refusal; freed by
// release, by expiry, or at once when its holder's process is gone from this machine; and a
// file in the state dir when the server refuses CONFIG (managed services).
import {hostname} from 'node:os'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CutoverRefusedError} from '../../src/cutover/errors.js'
import {LOCK_KEY, acquireLock, chooseLockDb, keptAlive} from '../../src/cutover/lock.js'
import {LockLostError} from '../../src/cutover/errors.js'
import {connectPlane, type Plane} from '../../src/plane/plane.js'
import {hasRedisServer, startRedisServer, type RedisServer} from '../support/redis-server.js'
import {tempDir} from './support.js'

describe.skipIf(!hasRedisServer())('cutover lock', () => {
  let server: RedisServer
  let plane: Plane
  const options = (extra: Record<string, unknown> = {}) => ({plane, dbsInUse: [0, 1, 2], stateDir: tempDir(), purpose: 'cutover test', ...extra})

  beforeAll(async () => {
    server = await startRedisServer()
    plane = await connectPlane({url: server.url, db: 0})
  })
  afterAll(async () => {
    await plane?.close()
    await server?.stop()
  })

  it('lives in the highest db not in use, and only one holder at a time', async () => {
    expect(await chooseLockDb(plane, [0, 1, 2])).toBe(15)
    expect(await chooseLockDb(plane, [0, 1, 15])).toBe(14)
    const first = await acquireLock(options())
    expect(first).toMatchObject({kind: 'server', where: `db 15 on 127.0.0.1:${server.port}`})
    const second = acquireLock(options())
    await expect(second).rejects.toBeInstanceOf(CutoverRefusedError)
    await expect(second).rejects.toThrow(new RegExp(`another cutover holds the lock \\(db 15 on .*\\): cutover test by pid ${process.pid} on ${hostname()} since .*, expires in 30 s unless renewed`))
    expect(await first.renew()).toBe(true)
    await first.release()
    const third = await acquireLock(options())
    await third.release()
  })

  it('expires when its holder stops renewing it', async () => {
    const held = await acquireLock(options({ttlMs: 200}))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const next = await acquireLock(options())
    expect(await held.renew()).toBe(false) // lost: someone else has it now
    await held.release() // does not free the new holder's lock
    await expect(acquireLock(options())).rejects.toThrow(/another cutover holds the lock/)
    await next.release()
  })

  it('notices when the lock is lost (overwritten on the server): its lost signal aborts, ensureHeld throws', async () => {
    const held = await acquireLock(options({ttlMs: 3000}))
    expect(held.lost.aborted).toBe(false)
    await held.ensureHeld()
    const lockPlane = await connectPlane({url: server.url, db: 15})
    await lockPlane.command(lockPlane.primaries[0], ['SET', LOCK_KEY, 'someone else', 'PX', 30_000])
    await lockPlane.close()
    // Renewed every second with this ttl: wait for the renewal that finds it gone.
    await new Promise<void>((resolve) => held.lost.addEventListener('abort', () => resolve(), {once: true}))
    expect(held.lost.reason).toBeInstanceOf(LockLostError)
    expect(String(held.lost.reason.message)).toMatch(/^lost the cutover lock \(db 15 on 127\.0\.0\.1:\d+\): it was no longer ours when renewed/)
    await expect(held.ensureHeld()).rejects.toBeInstanceOf(LockLostError)
    await held.release() // leaves the other holder's key alone
    const check = await connectPlane({url: server.url, db: 15})
    expect(String(await check.command(check.primaries[0], ['GET', LOCK_KEY]))).toBe('someone else')
    await check.command(check.primaries[0], ['DEL', LOCK_KEY])
    await check.close()
  })

  it('a renewal that throws is no unhandled rejection; after a whole ttl without one, the lock counts as lost', async () => {
    let calls = 0
    const failing = keptAlive(
      {
        kind: 'file',
        where: '/nowhere/cutover.lock',
        owner: {owner: 'x', host: hostname(), pid: process.pid, purpose: 'test', since: new Date().toISOString()},
        async renew() {
          calls++
          throw new Error('EIO: disk gone')
        },
        async release() {},
      },
      3000,
    )
    await new Promise<void>((resolve) => failing.lost.addEventListener('abort', () => resolve(), {once: true}))
    expect(calls).toBeGreaterThanOrEqual(3)
    expect(String(failing.lost.reason.message)).toMatch(/renewing it failed for \d+ s \(EIO: disk gone\)/)
    await failing.release()
  })

  it('is taken over at once from a holder on this machine whose process is gone', async () => {
    const lockPlane = await connectPlane({url: server.url, db: 15})
    const dead = {owner: 'x', host: hostname(), pid: 2 ** 22 + 12345, purpose: 'cutover crashed', since: new Date().toISOString()}
    await lockPlane.command(lockPlane.primaries[0], ['SET', LOCK_KEY, JSON.stringify(dead), 'PX', 30_000])
    await lockPlane.close()
    const held = await acquireLock(options())
    expect(held.kind).toBe('server')
    await held.release()
  })

  it('falls back to a file in the state dir when the server refuses CONFIG', async () => {
    const locked = await startRedisServer(['--rename-command', 'CONFIG', '""'])
    const lockedPlane = await connectPlane({url: locked.url, db: 0})
    try {
      const stateDir = tempDir()
      const held = await acquireLock(options({plane: lockedPlane, stateDir}))
      expect(held).toMatchObject({kind: 'file', where: `${stateDir}/cutover.lock`})
      await expect(acquireLock(options({plane: lockedPlane, stateDir}))).rejects.toThrow(/another cutover holds the lock \(.*cutover\.lock\): cutover test by pid/)
      await held.release()
      const again = await acquireLock(options({plane: lockedPlane, stateDir}))
      await again.release()
      // With --lock-db the server is used even without CONFIG.
      const explicit = await acquireLock(options({plane: lockedPlane, lockDb: 9}))
      expect(explicit.where).toBe(`db 9 on 127.0.0.1:${locked.port}`)
      await explicit.release()
    } finally {
      await lockedPlane.close()
      await locked.stop()
    }
  })
})
