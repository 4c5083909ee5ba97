// The CLI as a user runs it: the built bin/run.js in a child process, against the bundled
// engine (3-node cluster) started for this file. Covers what every data command promises:
// results on stdout, progress on stderr, --json shapes, exit codes, NO_COLOR, no secrets.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {closedPort} from '../support/redis-server.js'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname

let engine: TestEngine
let dir: string

function flip(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [runJs, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: {...process.env, FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: engine.seedUrl, CI: 'true', ...env},
    timeout: 150_000, // a hung command, not a slow one: a busy machine makes each call many times slower
  })
  return {code: result.status, stdout: result.stdout, stderr: result.stderr}
}

beforeAll(async () => {
  engine = await startTestEngine()
  dir = mkdtempSync(join(tmpdir(), 'flip-cli-'))
  const lines = Array.from({length: 500}, (_, i) => JSON.stringify({key: `price:${i}`, value: String(10 + i / 100)}))
  writeFileSync(join(dir, 'prices.ndjson'), lines.join('\n') + '\n')
  writeFileSync(join(dir, 'bad.ndjson'), '{"key": "a", "value": "1"}\n{"key": "b", "type": "sett", "value": []}\n')
})

afterAll(async () => {
  await engine?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('flip on the command line', () => {
  it('lists every command in its help', () => {
    const {code, stdout} = flip(['--help'])
    expect(code).toBe(0)
    for (const command of ['stage', 'verify', 'diff', 'status', 'cutover', 'rollback', 'init', 'engine', 'demo']) {
      expect(stdout).toContain(command)
    }
  })

  it('stages with results on stdout and plain progress lines on stderr when not a terminal', () => {
    const {code, stdout, stderr} = flip(['stage', 'prices.ndjson'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/staged 500 keys into db 1/)
    expect(stdout).toMatch(/checksum [0-9a-f]{32}/)
    expect(stderr).toMatch(/Staging into db 1/)
    // No spinner control sequences without a terminal.
    expect(stderr).not.toContain('\u001B[?25l')
  })

  it('prints only the result object on stdout with --json', () => {
    const {code, stdout} = flip(['verify', '--json'])
    expect(code).toBe(0)
    const result = JSON.parse(stdout)
    expect(result).toMatchObject({ok: true, keys: 500, db: 1, against: 'manifest'})
    expect(result.checksum).toMatch(/^[0-9a-f]{32}$/)
  })

  it('uses no colour under NO_COLOR, even when colour is forced', () => {
    const {stdout} = flip(['status'], {NO_COLOR: '1', FORCE_COLOR: '3'})
    expect(stdout).toMatch(/db 1 \(shadow\): 500 keys/)
    expect(stdout).not.toContain('\u001B[')
  })

  it('names the file, line and reason of a bad record, exits 2, and leaves live untouched', () => {
    const {code, stderr} = flip(['stage', 'bad.ndjson', '--shadow', '3'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/bad\.ndjson:2: .*unknown type "sett"/)
    expect(stderr.trim().split('\n').filter((l) => l.startsWith('Error')).length).toBe(1)
    const live = JSON.parse(flip(['status', '--json']).stdout)
    expect(live.dbs.find((d: {db: number}) => d.db === 0).keys).toBe(0)
  })

  it('exits 2 on a usage error, with a one-line message (also as JSON)', () => {
    const plain = flip(['stage', 'prices.ndjson', '--no-such-flag'])
    expect(plain.code).toBe(2)
    const json = flip(['cutover', '--at', '25:99', '--json'])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({error: {code: 2, message: expect.stringMatching(/25:99/)}})
  })

  it('exits 3 when the server cannot be reached, naming it', async () => {
    const port = await closedPort()
    const {code, stderr} = flip(['status'], {FLIP_URL: `valkey://127.0.0.1:${port}`})
    expect(code).toBe(3)
    expect(stderr).toContain(`127.0.0.1:${port}`)
  })

  it('never prints a password, not even in errors', async () => {
    const port = await closedPort()
    const {stdout, stderr} = flip(['status', '--json'], {FLIP_URL: `valkey://admin:s3cr3t-pw@127.0.0.1:${port}`})
    expect(stdout + stderr).not.toContain('s3cr3t-pw')
  })

  it('refuses to cut over without --yes when there is no terminal, changing nothing', () => {
    const {code, stderr} = flip(['cutover'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/pass --yes/)
    const status = JSON.parse(flip(['status', '--json']).stdout)
    expect(status.dbs.find((d: {db: number}) => d.db === 0).keys).toBe(0)
  })

  it('cuts over and rolls back, printing the rollback command', () => {
    const cut = flip(['cutover', '--yes', '--json'])
    expect(cut.code).toBe(0)
    const result = JSON.parse(cut.stdout)
    expect(result).toMatchObject({keysSwitched: 500, strategy: 'move', verified: {ok: true}})
    expect(result.rollbackCommand).toMatch(/^flip rollback /)
    const back = flip(['rollback', '--yes', '--json'])
    expect(back.code).toBe(0)
    expect(JSON.parse(back.stdout)).toMatchObject({keysUnstaged: 500, verified: {ok: true}})
  })
})
