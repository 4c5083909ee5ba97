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

  it('the default metadata db (the highest free one) is labelled meta, even while empty', async () => {
    const human = await flip(dir, ['status'], env())
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/^db 15 \(meta\): \d+ keys/m)
  })

  it('--meta-db moves the label (also in --json); a --lock-db apart from it is labelled lock', async () => {
    const ran = await flip(dir, ['status', '--json', '--meta-db', '9', '--lock-db', '8'], env())
    expect(ran.code, ran.stderr).toBe(0)
    const json = JSON.parse(ran.stdout)
    const role = (n: number) => json.dbs.find((db: {db: number}) => db.db === n)?.role
    expect(role(9)).toBe('meta')
    expect(role(8)).toBe('lock')
    expect(role(15)).toBeUndefined()
  })
})
