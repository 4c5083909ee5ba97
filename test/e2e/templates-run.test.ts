// Issue 10: every file `flip init --with …` writes runs flip in a way that works on a fresh host or
// runner. For each scheduler, the command lines the generated file contains run as that scheduler
// would run them — the crontab job through sh (its cd, mkdir, flock and log redirection included),
// the systemd ExecStart and the Kubernetes container command as argv, the GitHub and GitLab steps
// through sh, stage + verify + cutover in file order — twice in a row against a fresh bundled
// engine, each time after a stage --replace of a new catalog; both runs exit 0 and switch.
// Two things are replaced: the schedule (`--cron EXPR` becomes `--at` a few seconds ahead; the
// line's --tz and --not-after stay, so a late start on a busy machine still fires) and the
// registry: an `npx` on PATH that accepts exactly the pinned `--yes --package=NAME@VERSION flip`
// of this package.json and runs this checkout's bin/run.js instead of downloading.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {catalog, cliEnv, flip, liveSummary, run, shellWords, withAt, type Run, npxShim, pkg} from '../support/cli-run.js'
import {startTestEngine, type TestEngine} from '../support/engine.js'
import {tempDir} from '../support/temp.js'

const hasFlock = spawnSync('flock', ['--version']).status === 0

/** One command line of a generated file: a shell line (sh -c) or an argv (systemd, Kubernetes). */
type Command = {shell: string} | {argv: string[]}

interface Template {
  scheduler: string
  file: string
  /** The commands the file runs, in order, and where (its working directory). */
  commands(text: string, project: string): {cwd: string; commands: Command[]}
  /** Environment the scheduler gives flip (secrets, volumes), beyond the project's flip.config.json. */
  env(url: string, project: string): NodeJS.ProcessEnv
  /** The server URL goes into flip.config.json (cron has no secret store: the project's config has it). */
  urlInConfig?: boolean
  /** The file stages by itself (the CI templates); otherwise the test stages before it runs. */
  stages?: boolean
  skip?: string
}

/** Lines that are not comments. */
const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))

const TEMPLATES: Template[] = [
  {
    scheduler: 'cron',
    file: 'deploy/cron/flip-cutover.crontab',
    urlInConfig: true,
    skip: hasFlock ? undefined : 'no flock on this machine',
    commands(text) {
      const jobs = lines(text).filter((line) => !/^[A-Z_]+=/.test(line))
      expect(jobs).toHaveLength(1)
      // cron runs what follows the five time fields with sh, from the user's home: the line cds itself.
      return {cwd: tempDir('flip-cron-home-'), commands: [{shell: /^(?:\S+\s+){5}(.*)$/.exec(jobs[0])![1]}]}
    },
    env: () => ({}),
  },
  {
    scheduler: 'systemd',
    file: 'deploy/systemd/flip-cutover.service',
    commands(text) {
      const value = (key: string) => lines(text).find((line) => line.startsWith(`${key}=`))!.slice(key.length + 1)
      return {cwd: value('WorkingDirectory'), commands: [{argv: shellWords(value('ExecStart'))}]}
    },
    // What /etc/flip/env (EnvironmentFile=) holds.
    env: (url) => ({FLIP_URL: url}),
  },
  {
    scheduler: 'k8s',
    file: 'deploy/k8s/flip-cutover-cronjob.yaml',
    commands(text, project) {
      const command = lines(text).find((line) => line.trimStart().startsWith('command:'))!
      // The ConfigMap puts flip.config.json in the working dir: here, the project.
      return {cwd: project, commands: [{argv: JSON.parse(command.slice(command.indexOf('[')))}]}
    },
    // The Secret's url, and the state volume mounted at FLIP_STATE_DIR.
    env: (url, project) => ({FLIP_URL: url, FLIP_STATE_DIR: join(project, 'state-volume')}),
  },
  {
    scheduler: 'github',
    file: '.github/workflows/flip.yml',
    stages: true,
    commands(text, project) {
      const steps = lines(text).flatMap((line) => /^\s*- run: (.*)$/.exec(line)?.[1] ?? [])
      return {cwd: project, commands: steps.map((shell) => ({shell}))}
    },
    env: (url) => ({FLIP_URL: url}),
  },
  {
    scheduler: 'gitlab',
    file: 'ci/flip.gitlab-ci.yml',
    stages: true,
    commands(text, project) {
      const scripts = lines(text).flatMap((line) => /^\s+- (npx .*)$/.exec(line)?.[1] ?? [])
      return {cwd: project, commands: scripts.map((shell) => ({shell}))}
    },
    env: (url) => ({FLIP_URL: url}),
  },
]


/** The command with its schedule moved to `at`: the shell line's `--cron '…'`, or the argv's `--cron EXPR`. */
function scheduledAt(command: Command, at: Date): Command {
  if ('argv' in command) return command.argv.includes('--cron') ? {argv: withAt(command.argv, at)} : command
  return {shell: command.shell.replace(/--cron '[^']*'/, `--at ${at.toISOString()}`)}
}

function runCommand(command: Command, cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  if ('argv' in command) return run(command.argv[0], command.argv.slice(1), {cwd, env})
  return run('/bin/sh', ['-c', command.shell], {cwd, env})
}

const isCutover = (command: Command) => ('argv' in command ? command.argv : shellWords(command.shell)).includes('cutover')

for (const template of TEMPLATES) {
  describe.skipIf(template.skip !== undefined)(`flip init --with ${template.scheduler}${template.skip ? ` (skipped: ${template.skip})` : ''}`, () => {
    let engine: TestEngine
    beforeAll(async () => {
      engine = await startTestEngine()
    }, 120_000)
    afterAll(async () => {
      await engine?.stop()
    })

    it(`the command lines of ${template.file} run twice in a row on a fresh host and switch each time`, async () => {
      const project = tempDir(`flip-${template.scheduler}-`)
      const init = await flip(project, ['init', '--with', template.scheduler, '--tz', 'UTC', ...(template.urlInConfig ? ['--url', engine.seedUrl] : [])])
      expect(init.code, init.stderr).toBe(0)
      const text = readFileSync(join(project, template.file), 'utf8')
      const {cwd, commands} = template.commands(text, project)
      expect(commands.filter(isCutover)).toHaveLength(1)
      // Every flip in the file runs through the pinned launcher (the shim refuses anything else).
      for (const command of commands) expect('argv' in command ? command.argv.join(' ') : command.shell).toContain(`npx --yes --package=${pkg.name}@${pkg.version} flip `)
      if (template.stages) expect(commands.map((command) => ('shell' in command ? shellWords(command.shell)[4] : ''))).toEqual(['stage', 'verify', 'cutover'])

      const env = cliEnv({...template.env(engine.seedUrl, project), PATH: `${npxShim()}${delimiter}${process.env.PATH}`})
      mkdirSync(join(project, 'data'), {recursive: true})
      for (const night of [1, 2]) {
        // The data file the CI templates stage (flip init's default --data).
        writeFileSync(join(project, 'data/prices.ndjson'), catalog(night))
        let manifest: {keys: number; checksum: string} | undefined
        if (!template.stages) {
          const staged = await flip(project, ['stage', 'data/prices.ndjson', '--replace', '--json'], template.env(engine.seedUrl, project))
          expect(staged.code, staged.stdout + staged.stderr).toBe(0)
          manifest = JSON.parse(staged.stdout)
        }
        let result: Record<string, unknown> | undefined
        for (const command of commands) {
          const cutover = isCutover(command)
          const ran = await runCommand(cutover ? scheduledAt(command, new Date(Date.now() + 3000)) : command, cwd, env)
          expect(ran.code, `night ${night}, ${JSON.stringify(command)}: ${ran.stdout}${ran.stderr}`).toBe(0)
          const doc = ran.stdout.trim() === '' ? undefined : JSON.parse(ran.stdout)
          if (!cutover && 'shell' in command && shellWords(command.shell)[4] === 'stage') manifest = doc
          if (cutover) result = doc
        }
        expect(manifest?.keys).toBe(3000 + 250 * night)
        if (template.scheduler === 'cron') {
          // cron's output goes to the state dir's log, which the line creates on the first night.
          const log = readFileSync(join(project, '.flip/cutover.log'), 'utf8')
          expect(log.match(/"keysSwitched"/g)).toHaveLength(night)
        } else {
          expect(result).toMatchObject({keysSwitched: manifest!.keys, verified: {ok: true}})
        }
        expect(await liveSummary(engine.seedUrl)).toEqual({keys: manifest!.keys, checksum: manifest!.checksum})
      }
      if (template.scheduler === 'k8s') expect(existsSync(join(project, '.flip'))).toBe(false) // all state went to the volume
    }, 300_000)
  })
}
