// The --json contract, as a script sees it: every command, on every path (success, a check that
// failed, usage error, bad input, unreachable server, unknown command), prints exactly ONE JSON
// document on stdout and exits with the code the document's `error.code` names (0 without one).
// A failed check's document is the command's full result with `error` added.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {connectPlane} from '../../src/plane/index.js'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {freePort} from '../support/redis-server.js'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname

let engine: TestEngine
let dir: string
let closedPort: number

/** Runs flip with --json and returns its exit code and the ONE document it printed (JSON.parse throws on two). */
function flipJson(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [runJs, ...args, '--json'], {
    cwd: dir,
    encoding: 'utf8',
    env: {...process.env, FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: engine.seedUrl, CI: 'true', ...env},
    timeout: 120_000,
  })
  let document: Record<string, unknown> & {error?: {code: number; message: string}}
  try {
    document = JSON.parse(result.stdout)
  } catch {
    throw new Error(`flip ${args.join(' ')} --json did not print one JSON document (exit ${result.status}):\n${result.stdout}\n${result.stderr}`)
  }
  // The exit code and the document agree.
  expect(result.status).toBe(document.error?.code ?? 0)
  return {code: result.status, document}
}

beforeAll(async () => {
  engine = await startTestEngine()
  dir = mkdtempSync(join(tmpdir(), 'flip-json-'))
  closedPort = await freePort()
  const lines = Array.from({length: 200}, (_, i) => JSON.stringify({key: `price:${i}`, value: String(10 + i)}))
  writeFileSync(join(dir, 'prices.ndjson'), lines.join('\n') + '\n')
  writeFileSync(join(dir, 'bad.ndjson'), '{"key": "a", "value": "1"}\n{"key": "b", "type": "sett", "value": []}\n')
})

afterAll(async () => {
  await engine?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('--json prints one document on every path', () => {
  it('stage: the result; bad input (2); a non-empty shadow without --replace (2); an unreachable server (3)', () => {
    expect(flipJson(['stage', 'prices.ndjson']).document).toMatchObject({keys: 200, db: 1})
    expect(flipJson(['stage', 'bad.ndjson', '--shadow', '5']).document.error).toMatchObject({code: 2, message: expect.stringMatching(/bad\.ndjson:2/)})
    expect(flipJson(['stage', 'prices.ndjson']).document.error).toMatchObject({code: 2, message: expect.stringMatching(/not empty/)})
    expect(flipJson(['stage', 'prices.ndjson'], {FLIP_URL: `valkey://127.0.0.1:${closedPort}`}).document.error?.code).toBe(3)
    expect(flipJson(['stage']).document.error).toMatchObject({code: 2, message: expect.stringMatching(/^Missing 1 required arg: file/)})
  })

  it('verify: the report; a mismatch is the full report plus error (1), from a manifest and from --source', async () => {
    expect(flipJson(['verify']).document).toMatchObject({ok: true, keys: 200})
    const shadow = await connectPlane({url: engine.seedUrl, db: 1})
    try {
      await shadow.command(shadow.nodeForKey('price:7'), ['SET', 'price:7', '99'])
      const mismatch = flipJson(['verify']).document
      expect(mismatch).toMatchObject({ok: false, differentCount: 1, different: [{key: 'price:7'}], error: {code: 1, message: expect.stringMatching(/verify failed/)}})
      const fromSource = flipJson(['verify', '--source', 'prices.ndjson']).document
      expect(fromSource).toMatchObject({ok: false, against: 'source', differentCount: 1, error: {code: 1}})
      await shadow.command(shadow.nodeForKey('price:7'), ['SET', 'price:7', '17'])
    } finally {
      await shadow.close()
    }
  })

  it('diff and status: the result; an unreachable server (3)', () => {
    expect(flipJson(['diff']).document).toMatchObject({added: 200, removed: 0})
    expect(flipJson(['status']).document).toMatchObject({dbs: expect.any(Array)})
    expect(flipJson(['diff'], {FLIP_URL: `valkey://127.0.0.1:${closedPort}`}).document.error?.code).toBe(3)
    expect(flipJson(['status'], {FLIP_URL: `valkey://127.0.0.1:${closedPort}`}).document.error?.code).toBe(3)
  })

  it('cutover and rollback: dry run, refusal (2 without --yes), success, and a failed post-check as the full result plus error (1)', async () => {
    expect(flipJson(['cutover', '--dry-run']).document).toMatchObject({dryRun: true})
    expect(flipJson(['cutover']).document.error).toMatchObject({code: 2, message: expect.stringMatching(/--yes/)})
    expect(flipJson(['cutover', '--yes', '--bogus']).document.error?.code).toBe(2)
    expect(flipJson(['cutover', '--yes']).document).toMatchObject({keysSwitched: 200, verified: {ok: true}})
    expect(flipJson(['rollback', '--yes']).document).toMatchObject({keysUnstaged: 200, verified: {ok: true}})
    expect(flipJson(['rollback', '--yes'], {FLIP_URL: `valkey://127.0.0.1:${closedPort}`}).document.error?.code).toBe(3)

    // A cutover that dies after the switch and before its check; live is then changed behind
    // its back, so the resumed cutover's check fails.
    const crashed = spawnSync(process.execPath, [runJs, 'cutover', '--yes', '--json'], {
      cwd: dir,
      encoding: 'utf8',
      env: {...process.env, FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: engine.seedUrl, CI: 'true', FLIP_TEST_CRASH_AT: 'switched'},
    })
    expect(crashed.signal).toBe('SIGKILL')
    const live = await connectPlane({url: engine.seedUrl, db: 0})
    try {
      await live.command(live.nodeForKey('price:3'), ['DEL', 'price:3'])
    } finally {
      await live.close()
    }
    const plan = /"planId": "([^"]+)"/.exec(crashed.stdout)?.[1] ?? latestPlanId()
    const failed = flipJson(['cutover', '--resume', plan, '--yes']).document
    expect(failed).toMatchObject({planId: plan, verified: {ok: false}, error: {code: 1, message: expect.stringMatching(/check failed/)}})

    // history: offline, from the plans above; a bad zone or limit is a usage error.
    const listed = flipJson(['history', '--limit', '2']).document as {entries: Array<Record<string, unknown>>; total: number}
    expect(listed.entries).toHaveLength(2)
    expect(listed.entries[0]).toMatchObject({kind: 'cutover', planId: plan, result: 'failed', canUndo: true})
    expect(listed.total).toBeGreaterThan(2)
    expect(flipJson(['history', '--tz', 'Mars/Olympus']).document.error?.code).toBe(2)
    expect(flipJson(['history', '--limit', '0']).document.error?.code).toBe(2)
  })

  it('init and the engine commands: the result; engine status when nothing runs (3, with the status)', () => {
    const project = mkdtempSync(join(dir, 'init-'))
    expect(flipJson(['init', '--dir', project]).document).toMatchObject({files: expect.any(Array)})
    const engineDir = join(dir, 'no-engine')
    expect(flipJson(['engine', 'status', '--dir', engineDir]).document).toMatchObject({running: false, error: {code: 3}})
    expect(flipJson(['engine', 'stop', '--dir', engineDir]).document).toMatchObject({stopped: false})
    expect(flipJson(['engine', 'start', '--port', '70000']).document.error?.code).toBe(2)
  })

  it('an unknown command is a usage error (2), with a suggestion and no prompt', () => {
    const {document} = flipJson(['stgae', 'prices.ndjson'])
    expect(document).toEqual({error: {code: 2, message: expect.stringMatching(/unknown command "stgae"; did you mean "flip stage"\?/)}})
  })
})

function latestPlanId(): string {
  const listed = spawnSync('ls', ['-t', join(dir, 'state', 'plans')], {encoding: 'utf8'}).stdout.split('\n').filter((name) => name.endsWith('.json'))
  return listed[0].replace(/\.json$/, '')
}
