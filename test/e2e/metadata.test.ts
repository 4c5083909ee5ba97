// The built CLI with the metadata db: a stage on one machine (state dir A), then cutover and
// rollback on machines whose state dirs are empty (B, C) find the manifest and the plan on the
// server and say so on stderr; --json stays one document on stdout; --meta-db (and FLIP_META_DB,
// flip.config.json "metaDb") equal to a role db is a usage error.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname

let engine: TestEngine
let dir: string

function flip(args: string[], stateDir: string, env: Record<string, string> = {}, cwd = dir) {
  const result = spawnSync(process.execPath, [runJs, ...args], {
    cwd,
    encoding: 'utf8',
    env: {...process.env, FLIP_STATE_DIR: join(dir, stateDir), FLIP_URL: engine.seedUrl, CI: 'true', NO_COLOR: '1', ...env},
    timeout: 60_000,
  })
  return {code: result.status, stdout: result.stdout, stderr: result.stderr}
}

beforeAll(async () => {
  engine = await startTestEngine()
  dir = mkdtempSync(join(tmpdir(), 'flip-metadata-'))
  writeFileSync(join(dir, 'prices.ndjson'), Array.from({length: 300}, (_, i) => JSON.stringify({key: `price:${i}`, value: `${i}.99`})).join('\n') + '\n')
})

afterAll(async () => {
  await engine?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('flip with the metadata db', () => {
  it('cutover and rollback from other state dirs find the manifest and the plan on the server; --json stays one document', () => {
    const staged = flip(['stage', 'prices.ndjson', '--json'], 'a')
    expect(staged.code).toBe(0)
    const stage = JSON.parse(staged.stdout)
    expect(stage.metadata).toEqual({db: 15, warnings: []})

    const cut = flip(['cutover', '--yes', '--json'], 'b')
    expect(cut.code).toBe(0)
    const result = JSON.parse(cut.stdout)
    expect(result.summary.manifest.id).toBe(stage.id)
    expect(result.metadata).toEqual({db: 15, warnings: []})
    expect(cut.stderr).toContain(`manifest ${stage.id} found on the server (metadata db 15)`)

    const back = flip(['rollback', '--yes', '--json'], 'c')
    expect(back.code).toBe(0)
    expect(JSON.parse(back.stdout)).toMatchObject({planId: result.planId, verified: {ok: true}, metadata: {db: 15, warnings: []}})
    expect(back.stderr).toContain(`plan ${result.planId} found on the server (metadata db 15)`)

    const verified = flip(['verify', '--db', '0', '--json', '--manifest', stage.id], 'd')
    expect(verified.code).toBe(1) // live holds the old data again
    expect(JSON.parse(verified.stdout)).toMatchObject({ok: false, manifest: {id: stage.id}})
  })

  it('--meta-db, FLIP_META_DB or "metaDb" naming a role db is a usage error (exit 2)', () => {
    const flag = flip(['stage', 'prices.ndjson', '--replace', '--meta-db', '1'], 'e')
    expect(flag.code).toBe(2)
    expect(flag.stderr).toMatch(/--meta-db 1 is the shadow db/)
    const env = flip(['cutover', '--dry-run', '--json'], 'e', {FLIP_META_DB: '0'})
    expect(env.code).toBe(2)
    expect(JSON.parse(env.stdout).error.message).toMatch(/--meta-db 0 is the live db/)
    const configured = mkdtempSync(join(dir, 'cfg-'))
    writeFileSync(join(configured, 'flip.config.json'), JSON.stringify({metaDb: 2}))
    const config = flip(['rollback', '--yes'], 'e', {}, configured)
    expect(config.code).toBe(2)
    expect(config.stderr).toMatch(/--meta-db 2 is the archive db/)
  })
})
