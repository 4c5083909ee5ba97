// `flip db` as a CI job runs it: the built CLI in child processes against the bundled engine
// (3-node cluster) and a standalone redis-server: concurrent leases never collide, --env works
// in eval, names work in stage and cutover, bad input has its exit code.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DbSession, releaseLease} from '../../src/registry/db-service.js'
import {startValkeyCluster} from '../engine/support/valkey-cluster.js'
import {startTestEngine} from '../support/engine.js'
import {hasRedisServer, startRedisServer} from '../support/redis-server.js'

const runJs = new URL('../../bin/run.js', import.meta.url).pathname
const valkeyServer = process.env.FLIP_TEST_VALKEY_SERVER

interface Server {
  url: string
  stop(): Promise<void>
}

const servers: Array<{name: string; skip?: string; start(): Promise<Server>}> = [
  {
    name: 'the bundled engine (cluster of 3)',
    async start() {
      const engine = await startTestEngine({databases: 64})
      return {url: engine.seedUrl, stop: () => engine.stop()}
    },
  },
  {name: 'redis-server standalone', skip: hasRedisServer() ? undefined : 'no redis-server', start: () => startRedisServer(['--databases', '64'])},
  {
    name: 'a Valkey 9.1 cluster (FLIP_TEST_VALKEY_SERVER)',
    skip: valkeyServer ? undefined : 'set FLIP_TEST_VALKEY_SERVER',
    start: () => startValkeyCluster(valkeyServer!, 3, {databases: 64}),
  },
]
if (!valkeyServer) console.warn('test/e2e/db.test.ts: the Valkey 9.1 cluster part is skipped (set FLIP_TEST_VALKEY_SERVER to a valkey-server 9.1 binary)')

for (const kind of servers) {
  describe.skipIf(kind.skip !== undefined)(`flip db on ${kind.name}`, () => {
    let server: Server
    let dir: string
    const env = () => ({...process.env, FLIP_STATE_DIR: join(dir, 'state'), FLIP_URL: server.url, CI: 'true', FLIP_LEASE_TOKEN: ''})

    function flip(args: string[], extra: Record<string, string> = {}) {
      const result = spawnSync(process.execPath, [runJs, ...args], {cwd: dir, encoding: 'utf8', env: {...env(), ...extra}, timeout: 150_000})
      return {code: result.status, stdout: result.stdout, stderr: result.stderr}
    }

    function flipAsync(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [runJs, ...args], {cwd: dir, env: env()})
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (chunk) => (stdout += chunk))
        child.stderr.on('data', (chunk) => (stderr += chunk))
        child.on('close', (code) => resolve({code, stdout, stderr}))
      })
    }

    beforeAll(async () => {
      server = await kind.start()
      dir = mkdtempSync(join(tmpdir(), 'flip-db-'))
      writeFileSync(join(dir, 'prices.ndjson'), Array.from({length: 20}, (_, i) => JSON.stringify({key: `price:${i}`, value: String(i)})).join('\n') + '\n')
    })
    afterAll(async () => {
      await server?.stop()
      if (dir) rmSync(dir, {recursive: true, force: true})
    })

    it('gives 50 concurrent `flip db lease` processes 50 distinct dbs', async () => {
      const runs = await Promise.all(Array.from({length: 50}, (_, i) => flipAsync(['db', 'lease', '--json', '--label', `job-${i}`, '--ttl', '10m'])))
      for (const run of runs) expect(run.code, run.stderr).toBe(0)
      const dbs = runs.map((run) => JSON.parse(run.stdout).db as number)
      expect(new Set(dbs).size).toBe(50)
      for (const db of dbs) expect([0, 1, 2, 63]).not.toContain(db)
      const listed = JSON.parse(flip(['db', 'leases', '--json']).stdout)
      expect(listed.leases.map((l: {db: number}) => l.db).sort((a: number, b: number) => a - b)).toEqual([...dbs].sort((a, b) => a - b))
      // Every one released concurrently, each with the token its lease printed (in this process:
      // `flip db release` with a token as a process is the --env case below).
      const tokens = runs.map((run) => JSON.parse(run.stdout).token as string)
      const session = await DbSession.open({url: server.url}, {roles: {live: 0, shadow: 1, archive: 2}})
      try {
        await Promise.all(dbs.map((db, i) => releaseLease(session, {db, token: tokens[i]})))
      } finally {
        await session.close()
      }
      expect(flip(['db', 'leases']).stdout).toMatch(/no leases/)
    }, 600_000)

    it('--env lines work in eval: the job sees its db, and releases it with the token it got', () => {
      // A shell that never had FLIP_LEASE_TOKEN: the job's programs (node -e) and flip's release see the lines only if eval exports them.
      const script = `set -e; eval "$(node ${runJs} db lease --env --ttl 5m --label envjob)"; node -e 'const e = process.env; console.log("db=" + e.FLIP_DB + " url=" + e.VALKEY_URL + " token=" + (e.FLIP_LEASE_TOKEN ?? "").length)'; node ${runJs} db release "$FLIP_DB"`
      const {FLIP_LEASE_TOKEN: _unset, ...shellEnv} = env()
      const result = spawnSync('bash', ['-c', script], {cwd: dir, encoding: 'utf8', env: shellEnv, timeout: 150_000})
      expect(result.status, result.stderr).toBe(0)
      const match = /db=(\d+) url=(\S+) token=48/.exec(result.stdout)
      expect(match, result.stdout).not.toBeNull()
      const firstSeed = server.url.split(',')[0]
      expect(match![2]).toBe(`${firstSeed}/${match![1]}`)
      expect(result.stdout).toMatch(new RegExp(`released db ${match![1]}`))
    })

    it('--env appended to a file ($GITHUB_ENV, .env) writes plain NAME=value lines', () => {
      const file = join(dir, 'github-env')
      const result = spawnSync('bash', ['-c', `node ${runJs} db lease --env --ttl 5m >> ${file}`], {cwd: dir, encoding: 'utf8', env: env(), timeout: 150_000})
      expect(result.status, result.stderr).toBe(0)
      const lines = readFileSync(file, 'utf8').trim().split('\n')
      for (const line of lines) expect(line).toMatch(/^[A-Z_]+=\S+$/)
      const vars = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
      expect(flip(['db', 'release', vars.FLIP_DB, '--token', vars.FLIP_LEASE_TOKEN]).code).toBe(0)
    })

    it('a release without the token is refused (exit 1) unless --force', () => {
      const lease = JSON.parse(flip(['db', 'lease', '--json']).stdout)
      const refused = flip(['db', 'release', String(lease.db)])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/the lease is not yours/)
      expect(flip(['db', 'renew', String(lease.db), '--ttl', '1h'], {FLIP_LEASE_TOKEN: lease.token}).code).toBe(0)
      expect(flip(['db', 'release', String(lease.db), '--token', lease.token]).code).toBe(0)
    })

    it('names resolve in stage --shadow NAME and cutover --live NAME, and status shows them', () => {
      expect(flip(['db', 'name', 'prices-next', '5']).code).toBe(0)
      expect(flip(['db', 'name', 'prices-live', '6']).code).toBe(0)
      const staged = flip(['stage', 'prices.ndjson', '--shadow', 'PRICES-NEXT', '--live', 'prices-live', '--json'])
      expect(staged.code, staged.stderr).toBe(0)
      expect(JSON.parse(staged.stdout).db).toBe(5)
      const cut = flip(['cutover', '--live', 'prices-live', '--shadow', 'prices-next', '--archive', '7', '--yes', '--json'])
      expect(cut.code, cut.stdout + cut.stderr).toBe(0)
      const status = flip(['status', '--live', 'prices-live', '--shadow', 'prices-next'])
      expect(status.stdout).toMatch(/db 6 "prices-live" \(live\): 20 keys/)
      // The role dbs come from the environment (or flip.config.json) for `flip db` too.
      const leased = JSON.parse(flip(['db', 'lease', '--json', '--from', '5', '--to', '8'], {FLIP_ARCHIVE_DB: '7'}).stdout)
      expect(leased.db).toBe(8) // 5 and 6 named, 7 the archive
      flip(['db', 'release', String(leased.db), '--force'])
    })

    it('bad input: unknown name, numeric or long name, db out of range (exit 2); no free db (exit 1)', () => {
      const unknown = flip(['stage', 'prices.ndjson', '--shadow', 'nope'])
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toMatch(/--shadow nope: no db is named "nope" in the metadata db \d+ \(known: .*prices-live=6/)
      expect(flip(['db', 'name', '123', '9']).code).toBe(2)
      expect(flip(['db', 'name', 'n'.repeat(65), '9']).code).toBe(2)
      const range = flip(['db', 'name', 'far', '64'])
      expect(range.code).toBe(2)
      expect(range.stderr).toMatch(/db 64 is out of range: the server offers dbs 0-63/)
      expect(flip(['db', 'lease', '--from', '10', '--to', '10']).code).toBe(0)
      const full = flip(['db', 'lease', '--from', '10', '--to', '10'])
      expect(full.code).toBe(1)
      expect(full.stderr).toMatch(/no free db in 10-10: \d+ leased; the earliest expires at \d{4}-/)
      expect(flip(['db', 'lease', '--ttl', 'soon']).code).toBe(2)
    })
  })
}
