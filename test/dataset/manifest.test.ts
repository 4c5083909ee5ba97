// Manifests: written atomically, incomplete until the stage finishes, found by id, path or age.
import {readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {
  DatasetChecksum,
  ManifestError,
  completeManifest,
  failManifest,
  latestManifest,
  listManifests,
  newManifestId,
  readManifest,
  startManifest,
  writeManifest,
  type TargetIdentity,
} from '../../src/dataset/index.js'
import {tempDir} from '../support/temp.js'

const target: TargetIdentity = {mode: 'cluster', nodes: [{id: 'abc', address: '127.0.0.1:7000', slots: [[0, 16383]]}]}

describe('manifests', () => {
  it('have sortable ids made of the UTC time and a random suffix', () => {
    expect(newManifestId(new Date('2026-11-26T11:22:33Z'))).toMatch(/^20261126-112233-[0-9a-f]{4}$/)
  })

  it('start incomplete, then are rewritten complete with counts, per-slot checksums and source digests', async () => {
    const stateDir = tempDir('flip-state-')
    const started = startManifest({db: 1, sources: [{path: 'prices.ndjson', format: 'ndjson', size: 10}], target, startedAt: new Date('2026-11-26T11:22:33Z')})
    const path = await writeManifest(stateDir, started)
    expect(path).toBe(join(stateDir, 'manifests', `${started.id}.json`))
    expect((await readManifest(stateDir, started.id)).manifest).toMatchObject({complete: false, db: 1, keys: 0})

    const sum = new DatasetChecksum()
    sum.add(Buffer.from('a'), {type: 'string', value: Buffer.from('1')}, false)
    sum.add(Buffer.from('b'), {type: 'set', value: [Buffer.from('x')]}, true)
    const done = completeManifest(started, {checksum: sum, sources: [{size: 12, sha256: 'f'.repeat(64)}], finishedAt: new Date('2026-11-26T11:22:35Z')})
    await writeManifest(stateDir, done)
    const {manifest} = await readManifest(stateDir, path)
    expect(manifest).toMatchObject({
      complete: true,
      keys: 2,
      types: {string: 1, hash: 0, set: 1, zset: 0, list: 0},
      checksum: sum.checksum,
      target,
      sources: [{path: 'prices.ndjson', format: 'ndjson', size: 12, sha256: 'f'.repeat(64), resolved: join(process.cwd(), 'prices.ndjson')}],
      timings: {startedAt: '2026-11-26T11:22:33.000Z', finishedAt: '2026-11-26T11:22:35.000Z', seconds: 2, keysPerSecond: 1},
    })
    expect(manifest.slots).toEqual(sum.slots().map((s) => [s.slot, s.keys, s.checksum]))
    expect(readdirSync(join(stateDir, 'manifests'))).toEqual([`${started.id}.json`]) // no temp files left
  })

  it('a failed stage stays incomplete with its reason; latestManifest can skip it', async () => {
    const stateDir = tempDir('flip-state-')
    const older = completeManifest(startManifest({db: 1, sources: [], target, startedAt: new Date('2026-01-01T00:00:00Z')}), {checksum: new DatasetChecksum(), sources: []})
    await writeManifest(stateDir, older)
    const failed = failManifest(startManifest({db: 1, sources: [], target, startedAt: new Date('2026-01-02T00:00:00Z')}), 'prices.ndjson:42: empty key')
    await writeManifest(stateDir, failed)
    const other = startManifest({db: 3, sources: [], target, startedAt: new Date('2026-01-03T00:00:00Z')})
    await writeManifest(stateDir, other)

    expect((await listManifests(stateDir)).map((m) => m.manifest.id)).toEqual([older.id, failed.id, other.id])
    expect((await latestManifest(stateDir))?.manifest.id).toBe(other.id)
    expect((await latestManifest(stateDir, {db: 1}))?.manifest).toMatchObject({id: failed.id, complete: false, failure: 'prices.ndjson:42: empty key'})
    expect((await latestManifest(stateDir, {db: 1, complete: true}))?.manifest.id).toBe(older.id)
    expect(await latestManifest(tempDir('flip-empty-'))).toBeUndefined()
  })

  it('latestManifest reads newest first and stops at the first match (a year of nightly manifests is not re-read)', async () => {
    const stateDir = tempDir('flip-state-')
    const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + n, 0, 1, 0))
    for (let n = 0; n < 30; n++) await writeManifest(stateDir, startManifest({db: n % 2, sources: [], target, startedAt: day(n)}))
    // Two stages in the same second: the later createdAt wins, whatever the random suffix says.
    const first = startManifest({db: 1, sources: [], target, startedAt: new Date(Date.UTC(2026, 1, 1, 0, 0, 0, 100)), id: '20260201-000000-ffff'})
    const second = startManifest({db: 1, sources: [], target, startedAt: new Date(Date.UTC(2026, 1, 1, 0, 0, 0, 900)), id: '20260201-000000-0000'})
    await writeManifest(stateDir, first)
    await writeManifest(stateDir, second)
    // Older files that are not manifests any more cannot slow it down or confuse it.
    for (let n = 0; n < 5; n++) writeFileSync(join(stateDir, 'manifests', `2025010${n}-000000-aaaa.json`), 'not json')
    expect((await latestManifest(stateDir, {db: 1}))?.manifest.id).toBe(second.id)
    expect((await latestManifest(stateDir, {db: 0}))?.manifest.createdAt).toBe(day(28).toISOString())
    // A manifest renamed by hand has no time in its name: it is still considered, by its createdAt.
    const renamed = startManifest({db: 0, sources: [], target, startedAt: new Date(Date.UTC(2026, 5, 1))})
    writeFileSync(join(stateDir, 'manifests', 'before-black-friday.json'), JSON.stringify(renamed))
    expect((await latestManifest(stateDir, {db: 0}))?.manifest.id).toBe(renamed.id)
  })

  it('reading a missing or foreign manifest is a one-line error', async () => {
    const stateDir = tempDir('flip-state-')
    await expect(readManifest(stateDir, 'nope')).rejects.toThrow(new ManifestError(`no manifest "nope" in ${join(stateDir, 'manifests')}`))
    writeFileSync(join(stateDir, 'x.json'), '{"hello": 1}')
    await expect(readManifest(stateDir, join(stateDir, 'x.json'))).rejects.toThrow(`${join(stateDir, 'x.json')} is not a flip manifest`)
  })
})
