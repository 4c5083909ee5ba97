// `flip engine start|status|stop` through the real CLI, as a child process: the engine runs in
// the background, is found again by a second start, reports itself, and stops cleanly.
import {existsSync, readFileSync} from 'node:fs'
import {createServer, type AddressInfo, type Server} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EngineSandbox, redisCli} from '../engine/persist/cli.js'
import {alive} from '../support/process.js'

describe('flip engine start / status / stop', () => {
  const sandbox = new EngineSandbox()
  let seedUrl = ''

  afterAll(() => sandbox.cleanup())

  it('starts a 3-node cluster in the background and prints its seed URL', async () => {
    const run = await sandbox.start()
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    seedUrl = /(valkey:\/\/\S+)/.exec(run.stdout)![1]
    expect(seedUrl.split(',')).toHaveLength(3)
    expect(run.stdout).toMatch(/^flip engine started \(pid \d+, 3 nodes, 16 databases\): valkey:/)
    // The CLI has exited; the engine still serves.
    expect(redisCli(sandbox.firstPort(), 5, ['set', 'greeting', 'hello'])).toBe('OK')
    expect(redisCli(sandbox.firstPort(), 5, ['get', 'greeting'])).toBe('hello')
  })

  it('records the engine for other flip commands, without any password', () => {
    const record = JSON.parse(readFileSync(join(sandbox.root, 'engine.json'), 'utf8'))
    expect(record).toMatchObject({seedUrl, dir: sandbox.dir, pid: sandbox.state().pid, passwordRequired: false})
    expect(existsSync(join(sandbox.dir, 'engine.pid'))).toBe(true)
    expect(existsSync(join(sandbox.dir, 'engine.log'))).toBe(true)
  })

  it('a second start on the same dir says it is already running (exit 0, same URL)', async () => {
    const run = await sandbox.start()
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`flip engine is already running (pid ${sandbox.state().pid}): ${seedUrl}`)
  })

  it('status shows pid, uptime, nodes with slot ranges and keys per database', async () => {
    const run = await sandbox.status()
    expect(run.code).toBe(0)
    const status = JSON.parse(run.stdout)
    expect(status).toMatchObject({running: true, pid: sandbox.state().pid, seedUrl, mode: 'cluster', databases: 16})
    expect(status.uptimeSeconds).toBeGreaterThanOrEqual(0)
    expect(status.nodes.map((n: {slots: unknown}) => n.slots)).toEqual([[[0, 5460]], [[5461, 10922]], [[10923, 16383]]])
    expect(status.nodes.every((n: {up: boolean}) => n.up)).toBe(true)
    expect(status.keysPerDb).toEqual({5: 1})
    expect(status.usedMemoryBytes).toBeGreaterThan(0)

    const human = await (await import('../engine/persist/cli.js')).flip(['engine', 'status', ...sandbox.args()])
    expect(human.stdout).toMatch(/flip engine: running, pid \d+, up \d+s, cluster, 16 databases/)
    expect(human.stdout).toMatch(/node 0 {2}127\.0\.0\.1:\d+ {2}pid \d+ {2}slots 0-5460/)
    expect(human.stdout).toContain('keys 1: db5=1')
  })

  it('stop is graceful: the processes exit and the pid file and engine record go', async () => {
    const {pid, nodes} = sandbox.state()
    const run = await sandbox.stop()
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^flip engine stopped \(pid \d+, final snapshot written/)
    for (const p of [pid, ...nodes.map((n) => n.pid)]) expect(alive(p)).toBe(false)
    expect(existsSync(join(sandbox.dir, 'engine.pid'))).toBe(false)
    expect(existsSync(join(sandbox.root, 'engine.json'))).toBe(false)
  })

  it('stop when nothing runs says so and exits 0; status says so and exits 3, like a service that is down', async () => {
    const stop = await sandbox.stop()
    expect(stop.code).toBe(0)
    expect(stop.stdout).toContain(`no engine is running from ${sandbox.dir}`)
    const status = await sandbox.status()
    expect(status.code).toBe(3)
    expect(JSON.parse(status.stdout)).toMatchObject({running: false, error: {code: 3}})
  })
})

describe('flip engine start refuses clearly', () => {
  const sandbox = new EngineSandbox()
  let blocker: Server
  let port: number

  beforeAll(async () => {
    // A port the OS gives the blocker, so it is ours for the whole test.
    blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    port = (blocker.address() as AddressInfo).port
  })
  afterAll(async () => {
    blocker.close()
    await sandbox.cleanup()
  })

  it('a port in use is named, exit 1, nothing left running', async () => {
    const run = await sandbox.start(['--port', String(port), '--standalone'])
    expect(run.code).toBe(1)
    expect(run.stderr.trim()).toBe(`Error: port ${port} is already in use`)
    expect(existsSync(join(sandbox.dir, 'engine.pid'))).toBe(false)
  })

  it('a bad --db-maxmemory is a usage error (exit 2)', async () => {
    const run = await sandbox.start(['--db-maxmemory', '5=lots'])
    expect(run.code).toBe(2)
    expect(run.stderr.trim()).toBe("Error: invalid --db-maxmemory '5=lots': invalid size 'lots' (use a number with b, kb, mb or gb, e.g. 64mb)")
  })
})

