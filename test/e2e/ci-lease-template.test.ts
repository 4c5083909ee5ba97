// Issue 12: `flip init --with ci-lease` writes a GitHub Actions matrix job and a GitLab parallel:
// job that lease a db per CI job (with its own user), hand it to the tests, and always release
// it. Their lines run here as the CI would run them, against one bundled engine: the GitHub steps
// each through sh with $GITHUB_ENV carried from step to step (as the runner does), the GitLab
// script in one shell and its after_script in a new one. The project's own steps (npm ci, npm
// test) are replaced by a probe that records the environment the tests would get. `npx` is a shim
// that accepts exactly the pinned `--yes --package=NAME@VERSION flip` and runs this checkout.
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {connectPlane} from '../../src/plane/index.js'
import {NodeConnection} from '../../src/plane/connection.js'
import {DbSession, listLeases} from '../../src/registry/db-service.js'
import {keySlot} from '../../src/util/keyslot.js'
import {cliEnv, flip, run, type Run, npxShim, pkg} from '../support/cli-run.js'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {tempDir} from '../support/temp.js'

const pinned = `npx --yes --package=${pkg.name}@${pkg.version} flip `
const GITHUB = '.github/workflows/flip-db-lease.yml'
const GITLAB = 'ci/flip-db-lease.gitlab-ci.yml'
const hasPyYaml = spawnSync('python3', ['-c', 'import yaml']).status === 0


/** KEY=value lines (a $GITHUB_ENV file, `env` output) as an object. */
function envFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const i = line.indexOf('=')
    if (i > 0) vars[line.slice(0, i)] = line.slice(i + 1)
  }
  return vars
}

/** What the probe saw: FLIP_DB and VALKEY_URL reached the tests' programs. Checks the URL works: its user writes and reads its db. */
async function checkSeen(seen: Record<string, string>): Promise<{db: number; user: string; password: string}> {
  expect(seen.FLIP_DB).toMatch(/^\d+$/)
  const url = /^(valkey:\/\/)([^:@]+):([0-9a-f]{64})@([^/]+)\/(\d+)$/.exec(seen.VALKEY_URL)
  expect(url, seen.VALKEY_URL).not.toBeNull()
  const [, scheme, user, password, address, db] = url!
  expect(db).toBe(seen.FLIP_DB)
  const plane = await connectPlane({url: `${scheme}${user}:${password}@${address}`, db: Number(db)})
  try {
    await plane.execute([{argv: ['SET', 'probe', 'seen'], slot: keySlot('probe')}])
    expect((await plane.dbsize()).total).toBe(1)
  } finally {
    await plane.close()
  }
  return {db: Number(db), user, password}
}

async function logsIn(engine: TestEngine, user: {user: string; password: string}): Promise<boolean> {
  const node = engine.nodes[0]
  return NodeConnection.open({host: node.host, port: node.port, username: user.user, password: user.password}).then(
    async (c) => {
      await c.close()
      return true
    },
    () => false,
  )
}

describe('flip init --with ci-lease', () => {
  let engine: TestEngine
  let project: string
  let shim: string
  const sh = (script: string, env: NodeJS.ProcessEnv): Promise<Run> => run('/bin/sh', ['-ec', script], {cwd: project, env})
  // The registry read in-process (a CLI run costs seconds on a busy machine).
  const leases = async () => {
    const session = await DbSession.open({url: engine.seedUrl}, {roles: {live: 0, shadow: 1, archive: 2}})
    try {
      return await listLeases(session)
    } finally {
      await session.close()
    }
  }

  beforeAll(async () => {
    engine = await startTestEngine()
    project = tempDir('flip-ci-lease-')
    shim = npxShim()
    const init = await flip(project, ['init', '--with', 'ci-lease', '--json'])
    expect(init.code, init.stderr).toBe(0)
    expect(JSON.parse(init.stdout)).toMatchObject({schedule: null, files: [{path: 'flip.config.json'}, {path: GITHUB}, {path: GITLAB}]})
  }, 120_000)
  afterAll(async () => {
    await engine?.stop()
  })

  it('both files run every flip through the pinned npx, lease with --user, and release in an always-run step', () => {
    const github = readFileSync(join(project, GITHUB), 'utf8')
    const gitlab = readFileSync(join(project, GITLAB), 'utf8')
    for (const text of [github, gitlab]) {
      const flipLines = text.split('\n').filter((line) => !line.trimStart().startsWith('#') && /\bflip\b/.test(line) && /npx/.test(line))
      expect(flipLines).toHaveLength(2)
      for (const line of flipLines) expect(line).toContain(pinned)
      expect(flipLines[0]).toMatch(/flip db lease .*--user --env/)
      expect(flipLines[1]).toMatch(/flip db release /)
    }
    expect(github).toMatch(/- run: npx .* flip db lease .* >> "\$GITHUB_ENV"\n/)
    expect(github).toMatch(/- if: always\(\).*\n\s+run: npx .* flip db release "\$FLIP_DB"\n/)
    expect(gitlab).toMatch(/after_script:\n\s+- npx .* flip db release --label "gl-\$CI_JOB_ID" --force\n/)
    if (hasPyYaml) {
      const yaml = (text: string) => JSON.parse(spawnSync('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], {input: text, encoding: 'utf8'}).stdout)
      expect(yaml(github).jobs.test.strategy.matrix.shard).toEqual([1, 2, 3, 4])
      expect(yaml(gitlab)['flip-db-test']).toMatchObject({parallel: 4, after_script: [expect.stringContaining('flip db release')]})
    }
  })

  it('GitHub: the lease step fills $GITHUB_ENV (secrets masked), the tests see FLIP_DB and VALKEY_URL, the always() step releases it', async () => {
    const text = readFileSync(join(project, GITHUB), 'utf8')
    // Steps in order: `- run: X`, or `- if: C` with `run: X` on the next line.
    const steps: Array<{run: string; if?: string}> = []
    const lines = text.split('\n')
    lines.forEach((line, i) => {
      const single = /^\s+- run: (.*)$/.exec(line)
      if (single) steps.push({run: single[1]})
      const conditional = /^\s+- if: (.*)$/.exec(line)
      if (conditional) steps.push({if: conditional[1], run: /^\s+run: (.*)$/.exec(lines[i + 1])![1]})
    })
    const expressions: Record<string, string> = {'github.run_id': '777', 'github.run_attempt': '1', 'matrix.shard': '2'}
    const expand = (line: string) => line.replace(/\$\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => expressions[name] ?? `unknown expression ${name}`)
    const githubEnv = join(project, 'github-env')
    writeFileSync(githubEnv, '')
    const base = {FLIP_URL: engine.seedUrl, GITHUB_ACTIONS: 'true', GITHUB_ENV: githubEnv, PATH: `${shim}${delimiter}${process.env.PATH}`}
    const results: Run[] = []
    let user: {db: number; user: string; password: string} | undefined
    for (const step of steps) {
      const env = cliEnv({...base, ...envFile(readFileSync(githubEnv, 'utf8'))})
      if (step.if !== undefined) {
        expect(step.if).toMatch(/^always\(\) && env\.FLIP_DB != ''$/)
        if (!env.FLIP_DB) continue
      }
      let script = expand(step.run)
      if (script === 'npm ci') continue
      if (script.startsWith('npm test')) script = `env > "${join(project, 'github-seen')}"`
      const ran = await sh(script, env)
      expect(ran.code, `${script}: ${ran.stdout}${ran.stderr}`).toBe(0)
      results.push(ran)
      if (script.startsWith('env >')) {
        user = await checkSeen(envFile(readFileSync(join(project, 'github-seen'), 'utf8')))
        expect((await leases()).map((lease) => lease.label)).toEqual(['gh-777-1-2'])
      }
    }
    const written = readFileSync(githubEnv, 'utf8')
    expect(written).not.toMatch(/^export /m) // $GITHUB_ENV takes plain NAME=value lines
    // The lease step told the runner to mask the token and the password.
    expect(results[0].stderr).toContain(`::add-mask::${envFile(written).FLIP_LEASE_TOKEN}`)
    expect(results[0].stderr).toContain(`::add-mask::${user!.password}`)
    expect(results).toHaveLength(3) // lease, the tests, release
    expect(await leases()).toEqual([])
    expect(await logsIn(engine, user!)).toBe(false)
  }, 120_000)

  it('GitLab: the script exports the lease to the tests, after_script (a new shell) releases it by label', async () => {
    const text = readFileSync(join(project, GITLAB), 'utf8')
    const section = (name: string) => {
      const start = text.split('\n').findIndex((line) => line.trim() === `${name}:`)
      const out: string[] = []
      for (const line of text.split('\n').slice(start + 1)) {
        const item = /^\s{4}- (.*)$/.exec(line)
        if (!item) break
        out.push(item[1])
      }
      return out
    }
    const seenFile = join(project, 'gitlab-seen')
    const script = section('script').map((line) => (line.startsWith('npm test') ? `env > "${seenFile}"` : line === 'npm ci' ? ':' : line))
    expect(script).toHaveLength(3)
    const env = cliEnv({FLIP_URL: engine.seedUrl, CI_JOB_ID: '4242', CI_NODE_INDEX: '1', CI_NODE_TOTAL: '4', PATH: `${shim}${delimiter}${process.env.PATH}`})
    const ran = await sh(script.join('\n'), env)
    expect(ran.code, ran.stdout + ran.stderr).toBe(0)
    expect(ran.stderr).not.toContain('::add-mask::') // only under GitHub Actions
    expect((await leases()).map((lease) => lease.label)).toEqual(['gl-4242'])
    const user = await checkSeen(envFile(readFileSync(seenFile, 'utf8')))
    const after = section('after_script')
    expect(after).toHaveLength(1)
    const released = await sh(after[0], env)
    expect(released.code, released.stderr).toBe(0)
    expect(await leases()).toEqual([])
    expect(await logsIn(engine, user)).toBe(false)
  }, 120_000)
})
