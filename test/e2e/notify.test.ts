// --notify: a run nobody watches still tells someone. The built CLI POSTs its --json document
// (plus a one-line "text") to a local webhook after the work is done, on success, refusal and
// failure; a webhook that fails is a warning, never a failure; the URL's token is never shown.
import {execFile} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {freePort} from '../support/redis-server.js'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname
const TOKEN = 'T0KEN-s3cret-9f8e7d'

let engine: TestEngine
let dir: string
let server: Server
let webhook: string
let received: Array<{path: string; body: Record<string, unknown>}>
/** Status the webhook answers with (500: a failing chat service). */
let answer = 200

async function flip(args: string[], env: Record<string, string> = {}) {
  try {
    const {stdout, stderr} = await promisify(execFile)(process.execPath, [runJs, ...args], {
      cwd: dir,
      env: {...process.env, FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: engine.seedUrl, CI: 'true', FLIP_NOTIFY: '', ...env},
      timeout: 120_000,
    })
    return {code: 0, stdout, stderr}
  } catch (error) {
    const failed = error as {code: number; stdout: string; stderr: string}
    return {code: failed.code, stdout: failed.stdout, stderr: failed.stderr}
  }
}

beforeAll(async () => {
  engine = await startTestEngine()
  dir = mkdtempSync(join(tmpdir(), 'flip-notify-'))
  writeFileSync(join(dir, 'prices.ndjson'), Array.from({length: 50}, (_, i) => JSON.stringify({key: `price:${i}`, value: String(i)})).join('\n') + '\n')
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      received.push({path: request.url ?? '', body: JSON.parse(body)})
      response.writeHead(answer).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  webhook = `http://127.0.0.1:${(server.address() as {port: number}).port}/hooks/${TOKEN}`
})

afterAll(async () => {
  await engine?.stop()
  await new Promise((resolve) => server?.close(resolve))
  if (dir) rmSync(dir, {recursive: true, force: true})
})

beforeEach(() => {
  received = []
  answer = 200
})

describe('flip --notify', () => {
  it('stage notifies only when asked on its command line', async () => {
    const quiet = await flip(['stage', 'prices.ndjson'], {FLIP_NOTIFY: webhook})
    expect(quiet.code).toBe(0)
    expect(received).toEqual([])
    const asked = await flip(['verify', '--notify', webhook])
    expect(asked.code).toBe(0)
    expect(received).toHaveLength(1)
    expect(received[0].body).toMatchObject({ok: true, keys: 50, text: expect.stringMatching(/^flip verify: db 1 matches manifest /)})
  })

  it('cutover and rollback post their result to FLIP_NOTIFY after the switch, and never show the URL', async () => {
    const cut = await flip(['cutover', '--yes'], {FLIP_NOTIFY: webhook})
    expect(cut.code).toBe(0)
    expect(received).toHaveLength(1)
    expect(received[0].path).toBe(`/hooks/${TOKEN}`)
    expect(received[0].body).toMatchObject({keysSwitched: 50, verified: {ok: true}, text: expect.stringMatching(/^flip cutover done: 50 keys now live in db 0 \(plan /)})

    const back = await flip(['rollback', '--yes', '--notify', webhook])
    expect(back.code).toBe(0)
    expect(received[1].body).toMatchObject({keysUnstaged: 50, text: expect.stringMatching(/^flip rollback done: plan .* undone/)})

    const everything = [cut.stdout, cut.stderr, back.stdout, back.stderr, ...filesUnder(join(dir, 'state')).map((file) => readFileSync(file, 'utf8'))].join('\n')
    expect(everything).not.toContain(TOKEN)
  })

  it('a refusal is posted too, with its error and exit code', async () => {
    const refused = await flip(['cutover', '--yes', '--shadow', '7'], {FLIP_NOTIFY: webhook})
    expect(refused.code).not.toBe(0)
    expect(received).toHaveLength(1)
    expect(received[0].body).toMatchObject({error: {code: refused.code}, text: expect.stringMatching(new RegExp(`^flip cutover .*\\(exit ${refused.code}\\)`))})
  })

  it('a failing webhook is retried once and only warned about; the exit code is the command\'s', async () => {
    answer = 500
    const run = await flip(['verify', '--notify', webhook])
    expect(run.code).toBe(0)
    expect(received).toHaveLength(2)
    expect(run.stderr).toMatch(/Warning: notification to http:\/\/127\.0\.0\.1:\d+\/… failed \(HTTP 500, 2 attempts\)/)
    const closed = `http://127.0.0.1:${await freePort()}/hooks/${TOKEN}`
    const unreachable = await flip(['verify', '--notify', closed])
    expect(unreachable.code).toBe(0)
    expect(unreachable.stderr).toMatch(/notification to http:\/\/127\.0\.0\.1:\d+\/… failed \(ECONNREFUSED, 2 attempts\)/)
    expect(unreachable.stderr + unreachable.stdout).not.toContain(TOKEN)
  })

  it('refuses a webhook that is not an http(s) URL before doing anything (exit 2)', async () => {
    const run = await flip(['stage', 'prices.ndjson', '--shadow', '9', '--notify', `ftp://example.invalid/${TOKEN}`])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/only http and https webhooks/)
    expect(run.stderr).not.toContain(TOKEN)
  })
})

function filesUnder(root: string): string[] {
  return readdirSync(root, {recursive: true, withFileTypes: true}).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
}
