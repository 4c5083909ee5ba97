// EVAL end to end on the engine cluster, the way flip's atomic cutover uses it: one script per
// node that SELECTs and MOVEs many keys of many slots at once.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {keySlot} from '../../src/util/keyslot.js'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {RespClient, encodeCommand} from './support/resp-client.js'

const MOVE_ALL = `
local moved = 0
redis.call('SELECT', ARGV[1])
for i = 3, #ARGV do
  moved = moved + redis.call('MOVE', ARGV[i], ARGV[2])
end
return moved`

describe('scripts on the engine cluster', () => {
  let engine: TestEngine
  beforeAll(async () => {
    engine = await startTestEngine({nodes: 3, databases: 16})
  })
  afterAll(() => engine?.stop())

  it('one script moves every staged key of its node from the shadow db to the live db', async () => {
    const node = engine.nodes[0]
    const [from, to] = node.slots[0]
    const keys: string[] = []
    for (let i = 0; keys.length < 5000; i++) {
      const slot = keySlot(`price:${i}`)
      if (slot >= from && slot <= to) keys.push(`price:${i}`)
    }
    const c = await RespClient.connect(node.port)
    await c.call('SELECT', '1')
    c.write(Buffer.concat(keys.map((k) => encodeCommand(['SET', k, `v-${k}`]))))
    for (let i = 0; i < keys.length; i++) await c.next()
    expect(await c.call('DBSIZE')).toBe(':5000')

    const sha = (await c.call('SCRIPT', 'LOAD', MOVE_ALL)) as string
    expect(await c.call('EVALSHA', sha.slice(1), '0', '1', '0', ...keys)).toBe(':5000')
    expect(await c.call('DBSIZE')).toBe(':0')
    await c.call('SELECT', '0')
    expect(await c.call('DBSIZE')).toBe(':5000')
    expect(await c.call('GET', keys[4999])).toBe(`$v-${keys[4999]}`)
    c.close()
  })

  it('a node busy with a long script does not stall the other nodes', async () => {
    const busy = await RespClient.connect(engine.nodes[0].port)
    const other = await RespClient.connect(engine.nodes[1].port)
    busy.write(encodeCommand(['EVAL', 'local t = 0 for i = 1, 4e6 do t = t + i end return 1', '0']))
    let busyDone = false
    const busyReply = busy.next().then((reply) => ((busyDone = true), reply))
    // While node 0 computes, node 1 answers.
    expect(await other.call('PING')).toBe('+PONG')
    expect(busyDone).toBe(false)
    expect(await busyReply).toBe(':1')
    busy.close()
    other.close()
  })

  it('EVAL_RO refuses writes; scripts cannot run MULTI', async () => {
    const c = await RespClient.connect(engine.nodes[0].port)
    expect(await c.call('EVAL_RO', "return redis.call('SET', 'b', '1')", '0')).toMatch(
      /^-ERR Write commands are not allowed from read-only scripts\. script: .*@user_script:1\.$/,
    )
    expect(await c.call('EVAL', "return redis.call('MULTI')", '0')).toMatch(/^-ERR This Redis command is not allowed from script/)
    expect(await c.call('EVAL', "return redis.pcall('GET', 'c')", '0')).toMatch(/^-ERR (Script a|A)ttempted to access a non local key in a cluster node/)
    c.close()
  })

  it('TIME stands still inside a script, as in Valkey 9.1 (os.clock is how a script measures time)', async () => {
    const c = await RespClient.connect(engine.nodes[0].port)
    const busy = "local a = redis.call('TIME'); local c0 = os.clock(); while os.clock() - c0 < 0.05 do end; local b = redis.call('TIME'); return {a[1] == b[1] and a[2] == b[2] and 1 or 0, math.floor((os.clock() - c0) * 1000)}"
    const [same, elapsedMs] = (await c.call('EVAL', busy, '0')) as string[]
    expect(same).toBe(':1')
    expect(Number(elapsedMs.slice(1))).toBeGreaterThanOrEqual(50)
    c.close()
  })
})
