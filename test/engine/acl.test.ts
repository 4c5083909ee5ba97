// Engine ACL behaviour the one-connection conformance tables cannot show: the default user made
// from --password, users per node in a cluster (as Valkey: ACL SETUSER runs on every node),
// a leased user driven by iovalkey's Cluster client, and ACL DELUSER dropping live connections.
import {Cluster} from 'iovalkey'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {RespClient} from './support/resp-client.js'

async function onEveryNode(engine: TestEngine, argv: string[], password?: string): Promise<void> {
  for (const node of engine.nodes) {
    const c = await RespClient.connect(node.port, node.host)
    try {
      if (password) expect(await c.call('AUTH', password)).toBe('+OK')
      expect(await c.call(...argv)).toBe('+OK')
    } finally {
      c.close()
    }
  }
}

describe('engine ACL: default user from --password', () => {
  let engine: TestEngine
  beforeAll(async () => {
    engine = await startTestEngine({mode: 'standalone', databases: 16, password: 'top secret'})
  })
  afterAll(() => engine?.stop())

  it('needs AUTH, takes the password in both forms, and shows it only as a hash', async () => {
    const c = await RespClient.connect(engine.nodes[0].port)
    try {
      expect(await c.call('GET', 'k')).toBe('-NOAUTH Authentication required.')
      expect(await c.call('AUTH', 'wrong')).toBe('-WRONGPASS invalid username-password pair or user is disabled.')
      expect(await c.call('AUTH', 'top secret')).toBe('+OK')
      expect(await c.call('AUTH', 'default', 'top secret')).toBe('+OK')
      expect(await c.call('ACL', 'WHOAMI')).toBe('$default')
      const list = (await c.call('ACL', 'LIST')) as string[]
      expect(list).toEqual([expect.stringMatching(/^\$user default on sanitize-payload #[0-9a-f]{64} ~\* &\* alldbs \+@all$/)])
      expect(list[0]).not.toContain('top secret')
      expect(await c.call('ACL', 'SETUSER', 'reader', 'on', '>r', '~*', '+@read', '+select', 'db=1')).toBe('+OK')
      expect(await c.call('RESET')).toBe('+RESET')
      // RESET goes back to default, which needs a password here.
      expect(await c.call('ACL', 'WHOAMI')).toBe('-NOAUTH Authentication required.')
      expect(await c.call('HELLO', '3', 'AUTH', 'reader', 'r')).toEqual(expect.objectContaining({map: expect.any(Array)}))
      expect(await c.call('SELECT', '1')).toBe('+OK')
      expect(await c.call('GET', 'k')).toBe(null)
      expect(await c.call('SET', 'k', 'v')).toBe("-NOPERM User reader has no permissions to run the 'set' command")
    } finally {
      c.close()
    }
  })
})

describe('engine ACL: users in a 3-node cluster', () => {
  let engine: TestEngine
  beforeAll(async () => {
    engine = await startTestEngine({nodes: 3, databases: 16})
  })
  afterAll(() => engine?.stop())

  it('keeps users per node, as Valkey does', async () => {
    const [a, b] = await Promise.all([RespClient.connect(engine.nodes[0].port), RespClient.connect(engine.nodes[1].port)])
    try {
      expect(await a.call('ACL', 'SETUSER', 'only-here', 'on', 'nopass', '~*', '+@all')).toBe('+OK')
      expect(await a.call('ACL', 'USERS')).toEqual(['$default', '$only-here'])
      expect(await b.call('ACL', 'USERS')).toEqual(['$default'])
      expect(await b.call('AUTH', 'only-here', 'x')).toBe('-WRONGPASS invalid username-password pair or user is disabled.')
      expect(await a.call('ACL', 'DELUSER', 'only-here')).toBe(':1')
    } finally {
      a.close()
      b.close()
    }
  })

  it('a leased user set on every node reads and writes its db through iovalkey Cluster, and nothing else', async () => {
    await onEveryNode(engine, ['ACL', 'SETUSER', 'lease-7', 'on', '>pw7', '~*', '+@all', '-@admin', 'db=7'])
    const cluster = new Cluster(
      engine.nodes.map((n) => ({host: n.host, port: n.port})),
      {redisOptions: {username: 'lease-7', password: 'pw7', db: 7}, lazyConnect: true},
    )
    cluster.on('error', () => {})
    await cluster.connect()
    try {
      // Keys of all three nodes.
      for (const key of ['a', 'b', 'c']) await cluster.set(key, `v-${key}`)
      expect(await Promise.all(['a', 'b', 'c'].map((k) => cluster.get(k)))).toEqual(['v-a', 'v-b', 'v-c'])
      await expect(cluster.flushall()).rejects.toThrow('NOPERM No permissions to access database')
      await expect(cluster.config('GET', 'maxmemory')).rejects.toThrow("NOPERM User lease-7 has no permissions to run the 'config|get' command")
      // The default user sees the keys in db 7 and nothing in db 0.
      const admin = await RespClient.connect(engine.nodes[2].port)
      try {
        expect(await admin.call('SELECT', '7')).toBe('+OK')
        expect(await admin.call('GET', 'a')).toBe('$v-a')
        expect(await admin.call('SELECT', '0')).toBe('+OK')
        expect(await admin.call('GET', 'a')).toBe(null)
      } finally {
        admin.close()
      }
    } finally {
      cluster.disconnect()
    }
    // A direct connection of the same user refuses SELECT of another db.
    const c = await RespClient.connect(engine.nodes[0].port)
    try {
      expect(await c.call('AUTH', 'lease-7', 'pw7')).toBe('+OK')
      expect(await c.call('SELECT', '7')).toBe('+OK')
      expect(await c.call('SELECT', '8')).toBe('-NOPERM No permissions to access database')
      expect(await c.call('SELECT', '0')).toBe('-NOPERM No permissions to access database')
    } finally {
      c.close()
    }
  })

  it('ACL DELUSER closes the connections logged in as that user, the caller after its reply', async () => {
    const port = engine.nodes[0].port
    const admin = await RespClient.connect(port)
    const user = await RespClient.connect(port)
    try {
      expect(await admin.call('ACL', 'SETUSER', 'gone', 'on', '>pw', '~*', '+@all')).toBe('+OK')
      expect(await user.call('AUTH', 'gone', 'pw')).toBe('+OK')
      expect(await user.call('PING')).toBe('+PONG')
      expect(await admin.call('ACL', 'DELUSER', 'gone')).toBe(':1')
      await user.untilClosed()
      expect(user.closed).toBe(true)
      // Deleting one's own user answers first, then closes.
      expect(await admin.call('ACL', 'SETUSER', 'self', 'on', '>pw', '~*', '+@all')).toBe('+OK')
      expect(await admin.call('AUTH', 'self', 'pw')).toBe('+OK')
      expect(await admin.call('ACL', 'DELUSER', 'self')).toBe(':1')
      await admin.untilClosed()
      expect(admin.closed).toBe(true)
    } finally {
      admin.close()
      user.close()
    }
  })
})
