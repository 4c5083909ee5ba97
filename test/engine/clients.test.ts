// The engine driven by clients nobody here wrote: iovalkey (Cluster with a db, and standalone),
// redis-cli -c -n N and redis-benchmark --cluster. Plus the cluster-level promises: one node can
// die while the others keep serving, 10,000,000 databases start fine, a busy port is named.
import {execFile} from 'node:child_process'
import {createServer, type AddressInfo} from 'node:net'
import {promisify} from 'node:util'
import {Cluster, Valkey} from 'iovalkey'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startEngine} from '../../src/engine/index.js'
import {nodeForSlot, startTestEngine, type TestEngine} from '../support/engine.js'
import {RespClient} from './support/resp-client.js'

const run = promisify(execFile)

function clusterClient(engine: TestEngine, db: number): Cluster {
  const cluster = new Cluster(
    engine.nodes.map((n) => ({host: n.host, port: n.port})),
    {redisOptions: {db}, lazyConnect: true},
  )
  cluster.on('error', () => {})
  return cluster
}

describe('3-node engine cluster with real clients', () => {
  let engine: TestEngine
  beforeAll(async () => {
    engine = await startTestEngine({nodes: 3, databases: 16})
  })
  afterAll(() => engine?.stop())

  it('splits the slots like valkey-cli --cluster create', () => {
    expect(engine.mode).toBe('cluster')
    expect(engine.nodes.map((n) => n.slots)).toEqual([[[0, 5460]], [[5461, 10922]], [[10923, 16383]]])
    expect(engine.nodes.every((n) => /^[0-9a-f]{40}$/.test(n.id))).toBe(true)
    expect(engine.seedUrl).toBe('valkey://' + engine.nodes.map((n) => `127.0.0.1:${n.port}`).join(','))
  })

  it('iovalkey Cluster with redisOptions.db writes every node in that db', async () => {
    const cluster = clusterClient(engine, 5)
    await cluster.connect()
    try {
      for (const key of ['a', 'b', 'c']) await cluster.set(key, `v-${key}`)
      expect(await cluster.get('a')).toBe('v-a')
      expect(await cluster.get('c')).toBe('v-c')
      // Each key is in db 5 of its own node, not in db 0.
      const owner = nodeForSlot(engine, 15495) // slot of "a"
      const direct = new Valkey({host: owner.host, port: owner.port, db: 5, lazyConnect: true})
      direct.on('error', () => {})
      await direct.connect()
      expect(await direct.get('a')).toBe('v-a')
      await direct.select(0)
      expect(await direct.get('a')).toBeNull()
      await direct.quit()
    } finally {
      cluster.disconnect()
    }
  })

  it('iovalkey Cluster pipelines per node and reads binary values back intact', async () => {
    const cluster = clusterClient(engine, 2)
    await cluster.connect()
    try {
      const value = Buffer.from([0, 255, 13, 10, 128, 1])
      await cluster.set(Buffer.from('bin\x00key'), value)
      expect((await cluster.getBuffer(Buffer.from('bin\x00key')))!.equals(value)).toBe(true)
      const pipe = cluster.pipeline()
      for (let i = 0; i < 50; i++) pipe.set(`{p}key${i}`, String(i))
      await pipe.exec()
      expect(await cluster.get('{p}key49')).toBe('49')
    } finally {
      cluster.disconnect()
    }
  })

  it('redis-cli -c -n 5 follows MOVED and keeps the db', async () => {
    const port = String(engine.nodes[0].port)
    expect((await run('redis-cli', ['-c', '-p', port, '-n', '5', 'set', 'k', 'v'])).stdout.trim()).toBe('OK')
    expect((await run('redis-cli', ['-c', '-p', port, '-n', '5', 'get', 'k'])).stdout.trim()).toBe('v')
    expect((await run('redis-cli', ['-c', '-p', port, '-n', '6', 'get', 'k'])).stdout.trim()).toBe('')
  })

  it('redis-cli --cluster check sees a healthy cluster', async () => {
    const {stdout} = await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${engine.nodes[0].port}`])
    expect(stdout).toContain('[OK] All 16384 slots covered.')
  })

  it('redis-benchmark --cluster runs SET and GET', async () => {
    const {stdout} = await run('redis-benchmark', ['--cluster', '-p', String(engine.nodes[0].port), '-n', '2000', '-P', '16', '-t', 'set,get', '-q'])
    expect(stdout).toMatch(/SET: [\d.]+ requests per second/)
    expect(stdout).toMatch(/GET: [\d.]+ requests per second/)
  })
})

describe('engine processes', () => {
  it('one killed node leaves the others serving', async () => {
    const engine = await startTestEngine({nodes: 3})
    try {
      await engine.killNode(1)
      const survivor = await RespClient.connect(engine.nodes[0].port)
      expect(await survivor.call('SET', 'b', '1')).toBe('+OK')
      expect(await survivor.call('GET', 'c')).toMatch(new RegExp(`^-MOVED 7365 127.0.0.1:${engine.nodes[1].port}$`))
      survivor.close()
      await expect(RespClient.connect(engine.nodes[1].port)).rejects.toThrow(/ECONNREFUSED/)
    } finally {
      await engine.stop()
    }
    await engine.exited
  })

  it('starts with 10,000,000 databases and serves the last one', async () => {
    const engine = await startTestEngine({nodes: 1, databases: 10_000_000})
    try {
      const c = await RespClient.connect(engine.nodes[0].port)
      expect(await c.call('SELECT', '9999999')).toBe('+OK')
      expect(await c.call('SET', 'k', 'v')).toBe('+OK')
      expect(await c.call('INFO', 'keyspace')).toContain('db9999999:keys=1,expires=0,avg_ttl=0,keys_with_volatile_items=0')
      expect(await c.call('SELECT', '10000000')).toBe('-ERR DB index is out of range')
      c.close()
    } finally {
      await engine.stop()
    }
  })

  it('names a port that is already in use', async () => {
    const blocker = createServer().listen(0, '127.0.0.1')
    await new Promise((r) => blocker.once('listening', r))
    const {port} = blocker.address() as AddressInfo
    try {
      await expect(startEngine({nodes: 1, ports: [port]})).rejects.toThrow(`port ${port} is already in use`)
    } finally {
      blocker.close()
    }
  })

  it('standalone mode: iovalkey Valkey client, SWAPDB', async () => {
    const engine = await startTestEngine({mode: 'standalone'})
    const client = new Valkey({port: engine.nodes[0].port, lazyConnect: true})
    client.on('error', () => {})
    try {
      await client.connect()
      await client.set('k', 'live')
      await client.select(1)
      await client.set('k', 'shadow')
      expect(await client.swapdb(0, 1)).toBe('OK')
      expect(await client.get('k')).toBe('live')
      await client.select(0)
      expect(await client.get('k')).toBe('shadow')
      expect(engine.seedUrl).toBe(`valkey://127.0.0.1:${engine.nodes[0].port}`)
    } finally {
      await client.quit()
      await engine.stop()
    }
  })
})
