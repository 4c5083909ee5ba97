// Runs the conformance tables (conformance/*.ts) against:
//  - the bundled engine as a 3-node cluster (always) and as a standalone node (common and ACL cases),
//  - Debian's redis-server 7.0 (common cases where its wording agrees),
//  - an external Valkey 9 cluster when FLIP_TEST_VALKEY_URL is set. WARNING: that cluster must be
//    a scratch one: each case starts with FLUSHALL on the node serving slot 3300.
//  - or a scratch Valkey 9 cluster this file starts itself when FLIP_TEST_VALKEY_SERVER names a
//    valkey-server binary (e.g. FLIP_TEST_VALKEY_SERVER=/opt/valkey/bin/valkey-server).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {hasRedisServer, startRedisServer, type RedisServer} from '../support/redis-server.js'
import {nodeForSlot, startTestEngine, type TestEngine} from '../support/engine.js'
import {clusterCases} from './conformance/cluster-cases.js'
import {commonCases} from './conformance/common-cases.js'
import {aclCases} from './conformance/acl-cases.js'
import {SLEEP, USE, matches, type Case} from './conformance/types.js'
import {RespClient} from './support/resp-client.js'
import {startValkeyCluster, type ScratchCluster} from './support/valkey-cluster.js'

interface Target {
  host: string
  port: number
  password?: string
}

async function connectAs(target: Target): Promise<RespClient> {
  const client = await RespClient.connect(target.port, target.host)
  if (target.password) expect(await client.call('AUTH', target.password)).toBe('+OK')
  return client
}

async function runCase(target: Target, testCase: Case): Promise<void> {
  const clients = new Map<string, RespClient>()
  try {
    let client = await connectAs(target)
    clients.set('default', client)
    expect(await client.call('FLUSHALL')).toBe('+OK')
    for (const [argv, expected] of testCase.steps) {
      if (argv[0] === SLEEP) {
        await new Promise((r) => setTimeout(r, Number(argv[1])))
        continue
      }
      if (argv[0] === USE) {
        const existing = clients.get(argv[1])
        client = existing ?? (await connectAs(target))
        clients.set(argv[1], client)
        continue
      }
      const actual = await client.call(...argv)
      if (!matches(expected, actual)) {
        // toEqual gives a readable diff naming the command.
        expect({command: argv, reply: actual}).toEqual({command: argv, reply: expected})
      }
    }
  } finally {
    for (const c of clients.values()) c.close()
    if (testCase.cleanup) {
      const admin = await connectAs(target)
      try {
        for (const argv of testCase.cleanup) await admin.call(...argv)
      } finally {
        admin.close()
      }
    }
  }
}

function defineCases(cases: Case[], target: () => Target, filter: (c: Case) => boolean = () => true): void {
  for (const testCase of cases) {
    if (filter(testCase)) it(testCase.name, () => runCase(target(), testCase))
  }
}

describe('conformance: bundled engine, 3-node cluster', () => {
  let engine: TestEngine
  let target: Target
  beforeAll(async () => {
    engine = await startTestEngine({nodes: 3, databases: 16})
    const node = nodeForSlot(engine, 3300)
    target = {host: node.host, port: node.port}
  })
  afterAll(() => engine?.stop())
  defineCases(clusterCases, () => target)
  defineCases(commonCases, () => target)
  defineCases(aclCases, () => target)
})

describe('conformance: bundled engine, standalone', () => {
  let engine: TestEngine
  beforeAll(async () => {
    engine = await startTestEngine({mode: 'standalone', databases: 16})
  })
  afterAll(() => engine?.stop())
  defineCases(commonCases, () => ({host: '127.0.0.1', port: engine.nodes[0].port}))
  defineCases(aclCases, () => ({host: '127.0.0.1', port: engine.nodes[0].port}))
  it('SWAPDB swaps two databases', () =>
    runCase({host: '127.0.0.1', port: engine.nodes[0].port}, {
      name: 'swapdb',
      steps: [
        [['SET', 'k', 'zero'], '+OK'],
        [['SELECT', '1'], '+OK'],
        [['SET', 'k', 'one'], '+OK'],
        [['SWAPDB', '0', '1'], '+OK'],
        [['GET', 'k'], '$zero'],
        [['SELECT', '0'], '+OK'],
        [['GET', 'k'], '$one'],
        [['SWAPDB', '0', '16'], '-ERR DB index is out of range'],
        [['SWAPDB', 'x', '1'], '-ERR invalid first DB index'],
        [['CLUSTER', 'INFO'], '-ERR This instance has cluster support disabled'],
      ],
    }))
})

const redisAvailable = hasRedisServer()
describe.skipIf(!redisAvailable)("conformance: Debian redis-server 7.0 (standalone, where its wording agrees)", () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedisServer()
  })
  afterAll(() => redis?.stop())
  defineCases(commonCases, () => ({host: '127.0.0.1', port: redis.port}), (c) => !c.notOnRedis7)
})

const externalUrl = process.env.FLIP_TEST_VALKEY_URL
const valkeyServer = process.env.FLIP_TEST_VALKEY_SERVER
if (!externalUrl && !valkeyServer) {
  describe('conformance: external Valkey 9 cluster', () => {
    it.skip('skipped: set FLIP_TEST_VALKEY_URL=valkey://[:password@]host:port (a scratch cluster) or FLIP_TEST_VALKEY_SERVER=/path/to/valkey-server to run the suite against Valkey 9', () => {})
  })
} else {
  describe(`conformance: external Valkey 9 cluster (${externalUrl ? 'FLIP_TEST_VALKEY_URL' : 'FLIP_TEST_VALKEY_SERVER'})`, () => {
    let target: Target
    let scratch: ScratchCluster | undefined
    beforeAll(async () => {
      if (!externalUrl) scratch = await startValkeyCluster(valkeyServer!)
      target = await externalNodeForSlot(externalUrl ?? scratch!.url, 3300)
    })
    afterAll(async () => {
      // Leave the shared cluster as empty as each case found it (the last case's keys stay otherwise).
      if (target !== undefined && scratch === undefined) await flushAll(target)
      await scratch?.stop()
    })
    defineCases(clusterCases, () => target, (c) => !c.engineOnly)
    defineCases(commonCases, () => target, (c) => !c.engineOnly)
    defineCases(aclCases, () => target, (c) => !c.engineOnly)
  })
}

async function flushAll(target: Target): Promise<void> {
  const client = await RespClient.connect(target.port, target.host)
  try {
    if (target.password) await client.call('AUTH', target.password)
    await client.call('FLUSHALL')
  } finally {
    client.close()
  }
}

/** Finds the primary serving `slot` from a valkey:// seed URL (CLUSTER SLOTS on the first seed). */
async function externalNodeForSlot(url: string, slot: number): Promise<Target> {
  const parsed = new URL(url.replace(/^(valkey|redis)s?:\/\//, 'http://').split(',')[0])
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined
  const seed = await RespClient.connect(Number(parsed.port || 6379), parsed.hostname)
  try {
    if (password) await seed.call('AUTH', password)
    const slots = (await seed.call('CLUSTER', 'SLOTS')) as Array<[string, string, [string, string]]>
    for (const [from, to, [host, port]] of slots) {
      if (slot >= Number(from.slice(1)) && slot <= Number(to.slice(1))) {
        return {host: host.slice(1) || parsed.hostname, port: Number(port.slice(1)), password}
      }
    }
    throw new Error(`no node of ${parsed.hostname} serves slot ${slot}`)
  } finally {
    seed.close()
  }
}
