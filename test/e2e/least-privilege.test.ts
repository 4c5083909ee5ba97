// Issue 13, least privilege: the smallest ACL user flip needs (src/cutover/permissions.ts: the
// commands by name, `~*`, and `db=` live, shadow, archive and the lock/metadata db) runs the
// nightly flow — stage, verify, status, cutover (move and atomic), rollback — with nothing
// refused. Without CONFIG GET flip says so in one warning line and works on; limited by db= to
// other dbs, or without a command the switch needs, it stops with one line naming the database
// or the permission, exit 3, nothing changed. On the bundled engine always, on a scratch Valkey
// 9.1 cluster when FLIP_TEST_VALKEY_SERVER names a valkey-server binary.
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {LEAST_PRIVILEGE_COMMANDS, checkSwitchPermissions, leastPrivilegeUser} from '../../src/cutover/permissions.js'
import {connectPlane, PermissionError, RespError} from '../../src/plane/index.js'
import {catalog, flip, liveSummary, type Run} from '../support/cli-run.js'
import {startTestEngine} from '../support/engine.js'
import {startValkeyCluster} from '../engine/support/valkey-cluster.js'

const valkeyServer = process.env.FLIP_TEST_VALKEY_SERVER
if (!valkeyServer) console.warn('test/e2e/least-privilege.test.ts: the Valkey 9.1 part is skipped (set FLIP_TEST_VALKEY_SERVER to a valkey-server 9.1 binary)')

const PASSWORD = 'least-privilege-test-password'
const DBS = {live: 0, shadow: 1, archive: 2}
/** The default lock and metadata db: the highest of the 16 dbs, none of the roles. */
const META_DB = 15

const targets = [
  {
    name: 'the bundled engine',
    skip: false,
    async start() {
      const engine = await startTestEngine()
      return {url: engine.seedUrl, stop: () => engine.stop()}
    },
  },
  {name: 'Valkey 9.1 (scratch cluster)', skip: !valkeyServer, start: () => startValkeyCluster(valkeyServer!)},
]

/** The last stderr line is the error, and it is the only line that is not progress. */
function expectRefused(run: Run, pattern: RegExp): void {
  expect(run.code, run.stdout + run.stderr).toBe(3)
  expect(run.stderr.trim().split('\n').at(-1)).toMatch(pattern)
  expect(run.stderr).not.toMatch(/\n\s+at /)
}

for (const target of targets) {
  describe.skipIf(target.skip)(`least-privilege user on ${target.name}`, () => {
    let server: {url: string; stop(): Promise<void>}
    let dir: string
    /** Runs flip as `user` (password from FLIP_PASSWORD, never in argv). */
    const as = (user: string, project: string, args: string[]) =>
      flip(project, [...args, '--url', server.url.replace('valkey://', `valkey://${user}@`)], {FLIP_PASSWORD: PASSWORD})

    /** ACL SETUSER on every primary, as the default user (ACL is per node). */
    async function acl(argv: string[]): Promise<void> {
      const admin = await connectPlane({url: server.url, db: 0, env: {}})
      try {
        for (const node of admin.primaries) {
          const [reply] = await admin.pipeline(node, [argv])
          if (reply instanceof RespError) throw new Error(`${argv.slice(0, 3).join(' ')}: ${reply.message}`)
        }
      } finally {
        await admin.close()
      }
    }
    const user = (name: string, dbs: number[], drop: string[] = []) =>
      acl([...leastPrivilegeUser(name, PASSWORD, dbs), ...drop.map((rule) => rule.replace(/^\+/, '-'))])

    beforeAll(async () => {
      server = await target.start()
      dir = mkdtempSync(join(tmpdir(), 'flip-acl-'))
      for (const n of [1, 2]) writeFileSync(join(dir, `night${n}.ndjson`), catalog(n))
      await user('flip', [DBS.live, DBS.shadow, DBS.archive, META_DB])
    }, 120_000)
    afterAll(async () => {
      await server?.stop()
      if (dir) rmSync(dir, {recursive: true, force: true})
    })

    it('runs stage, verify, status, cutover (move, then atomic) and rollback with nothing refused', async () => {
      const project = mkdtempSync(join(dir, 'flow-'))
      const step = async (args: string[]) => {
        const run = await as('flip', project, [...args, '--json'])
        expect(run.code, `${args.join(' ')}: ${run.stdout}${run.stderr}`).toBe(0)
        expect(run.stderr, args.join(' ')).not.toMatch(/warning|NOPERM/i)
        return JSON.parse(run.stdout)
      }
      const night1 = await step(['stage', join(dir, 'night1.ndjson')])
      expect(night1.metadata).toEqual({db: META_DB, warnings: []})
      expect(await step(['verify'])).toMatchObject({ok: true, keys: night1.keys})
      expect((await step(['status'])).dbs).toEqual(expect.arrayContaining([expect.objectContaining({db: DBS.shadow, keys: night1.keys, matchesManifest: true})]))
      expect(await step(['cutover', '--yes'])).toMatchObject({strategy: 'move', keysSwitched: night1.keys, verified: {ok: true}})
      const before = await liveSummary(server.url)
      expect(before).toEqual({keys: night1.keys, checksum: night1.checksum})

      const night2 = await step(['stage', join(dir, 'night2.ndjson'), '--replace'])
      expect(await step(['cutover', '--yes', '--atomic'])).toMatchObject({strategy: 'atomic', keysSwitched: night2.keys, verified: {ok: true}})
      expect(await liveSummary(server.url)).toEqual({keys: night2.keys, checksum: night2.checksum})
      expect(await step(['rollback', '--yes'])).toMatchObject({verified: {ok: true}})
      expect(await liveSummary(server.url)).toEqual(before)
      // The switch probes pass for this user too (what pre-flight can ask before a plan exists).
      const live = await connectPlane({url: server.url.replace('valkey://', 'valkey://flip@'), db: DBS.live, env: {FLIP_PASSWORD: PASSWORD}})
      try {
        await checkSwitchPermissions(live, DBS, 'move')
        await checkSwitchPermissions(live, DBS, 'atomic')
      } finally {
        await live.close()
      }
    }, 300_000)

    it('without CONFIG GET: one warning line saying what it does instead, listed in --json, and the work gets done', async () => {
      await user('flip-noconfig', [DBS.live, DBS.shadow, DBS.archive, META_DB], ['+config|get'])
      const project = mkdtempSync(join(dir, 'noconfig-'))
      const staged = await as('flip-noconfig', project, ['stage', join(dir, 'night1.ndjson'), '--replace', '--json'])
      expect(staged.code, staged.stderr).toBe(0)
      const warnings = staged.stderr.split('\n').filter((line) => /warning/i.test(line))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/^warning: the server refused CONFIG GET \(NOPERM .*'config\|get'.*\).*a cutover locks with a file in the state dir; pass --meta-db and --lock-db, or grant \+config\|get$/)
      expect(JSON.parse(staged.stdout).metadata).toEqual({db: null, warnings: [warnings[0].replace(/^warning: /, '')]})
      const cut = await as('flip-noconfig', project, ['cutover', '--yes', '--json'])
      expect(cut.code, cut.stderr).toBe(0)
      expect(cut.stderr.split('\n').filter((line) => /warning/i.test(line))).toHaveLength(1)
    }, 180_000)

    it('limited by db= to other databases: one line naming the database, exit 3, nothing written', async () => {
      await user('flip-elsewhere', [5, 6])
      const project = mkdtempSync(join(dir, 'elsewhere-'))
      const before = await liveSummary(server.url)
      expectRefused(await as('flip-elsewhere', project, ['status']), /^Error: user flip-elsewhere may not use database 0 on \S+ \(NOPERM No permissions to access database\): add 0 to the user's db= list/)
      expectRefused(await as('flip-elsewhere', project, ['stage', join(dir, 'night2.ndjson'), '--replace']), /may not use database 1 /)
      const cut = await as('flip-elsewhere', project, ['cutover', '--yes', '--json'])
      expect(cut.code).toBe(3)
      expect(JSON.parse(cut.stdout).error).toEqual({code: 3, message: expect.stringMatching(/^user flip-elsewhere may not use database 0 /)})
      expect(await liveSummary(server.url)).toEqual(before)
    }, 120_000)

    it('without a command the switch needs: one line naming the permission, exit 3, nothing changed and no plan', async () => {
      await user('flip-noeval', [DBS.live, DBS.shadow, DBS.archive, META_DB], ['+eval'])
      await user('flip-nomove', [DBS.live, DBS.shadow, DBS.archive, META_DB], ['+move'])
      const project = mkdtempSync(join(dir, 'noeval-'))
      // A shadow to switch, staged by the full user.
      const staged = await as('flip', project, ['stage', join(dir, 'night2.ndjson'), '--replace', '--json'])
      expect(staged.code, staged.stderr).toBe(0)
      const manifestId = JSON.parse(staged.stdout).id as string
      const before = await liveSummary(server.url)
      // The lock's renewals are scripts: refused when the lock is taken, before any plan.
      expectRefused(await as('flip-noeval', project, ['cutover', '--yes', '--lock-db', String(META_DB), '--meta-db', String(META_DB)]), /^Error: cannot keep the cutover lock \(db 15 on \S+\): renewing it runs a script and .*'eval'.*\(NOPERM\); grant \+eval$/)
      // No plan for this manifest (the plans dir holds the earlier test's plans, synced from the metadata db).
      const plansDir = join(project, '.flip/plans')
      const plans = existsSync(plansDir) ? readdirSync(plansDir).filter((file) => file.endsWith('.json')) : []
      expect(plans.filter((file) => readFileSync(join(plansDir, file), 'utf8').includes(manifestId))).toEqual([])
      expect(await liveSummary(server.url)).toEqual(before)

      const probe = async (name: string, strategy: 'move' | 'atomic') => {
        const live = await connectPlane({url: server.url.replace('valkey://', `valkey://${name}@`), db: DBS.live, env: {FLIP_PASSWORD: PASSWORD}})
        try {
          return await checkSwitchPermissions(live, DBS, strategy).then(() => undefined, (error: unknown) => error)
        } finally {
          await live.close()
        }
      }
      const noMove = await probe('flip-nomove', 'move')
      expect(noMove).toBeInstanceOf(PermissionError)
      expect((noMove as PermissionError).exitCode).toBe(3)
      expect((noMove as Error).message).toMatch(/^the move strategy needs \+move, which this user lacks \(NOPERM .*'move'.*\): grant them with ACL SETUSER on every primary; nothing was changed$/)
      expect(((await probe('flip-noeval', 'atomic')) as Error).message).toMatch(/^the atomic strategy needs \+eval, /)
      expect(await probe('flip-noeval', 'move')).toBeUndefined()
      // Through the CLI: pre-flight asks right after taking the lock, so no plan is written.
      expectRefused(await as('flip-nomove', project, ['cutover', '--yes', '--lock-db', String(META_DB), '--meta-db', String(META_DB)]), /^Error: the move strategy needs \+move, which this user lacks /)
      const plansAfter = existsSync(plansDir) ? readdirSync(plansDir).filter((file) => file.endsWith('.json')) : []
      expect(plansAfter.filter((file) => readFileSync(join(plansDir, file), 'utf8').includes(manifestId))).toEqual([])
      expect(await liveSummary(server.url)).toEqual(before)
    }, 180_000)

    it('the documented rule set is what the test user has', () => {
      expect(leastPrivilegeUser('u', 'p', [2, 0, 15, 1]).slice(3)).toEqual(['reset', 'on', '>p', '~*', 'resetchannels', '-@all', ...LEAST_PRIVILEGE_COMMANDS, 'db=0,1,2,15'])
    })
  })
}
