// Issue 12: `flip status` labels the metadata db (where names, leases, manifests and plans live,
// and by default the cutover lock) as the role db it is, `meta`, chosen by the same rule every
// other command uses (chooseMetaDb): before, it showed up as a stray db with no role.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {flip} from '../support/cli-run.js'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {tempDir} from '../support/temp.js'

describe('flip status shows the metadata db with role meta', () => {
  let engine: TestEngine
  let dir: string
  const env = () => ({FLIP_URL: engine.seedUrl})

  beforeAll(async () => {
    engine = await startTestEngine({databases: 16})
    dir = tempDir('flip-status-meta-')
  }, 120_000)
  afterAll(async () => {
    await engine?.stop()
  })

  it('the default metadata db (the highest free one) is labelled meta, in the table and in --json', async () => {
    // A name puts keys in the metadata db, the way it looked before: a non-empty db 15.
    expect((await flip(dir, ['db', 'name', 'prices-live', '6'], env())).code).toBe(0)
    const human = await flip(dir, ['status'], env())
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/^db 15 \(meta\): \d+ keys/m)
    const json = JSON.parse((await flip(dir, ['status', '--json'], env())).stdout)
    expect(json.dbs.find((db: {db: number}) => db.db === 15)).toMatchObject({role: 'meta'})
  })

  it('--meta-db moves the label; a --lock-db apart from it is labelled lock', async () => {
    const json = JSON.parse((await flip(dir, ['status', '--json', '--meta-db', '9', '--lock-db', '8'], env())).stdout)
    const role = (n: number) => json.dbs.find((db: {db: number}) => db.db === n)?.role
    expect(role(9)).toBe('meta')
    expect(role(8)).toBe('lock')
    expect(role(15)).toBeUndefined()
  })
})
