// flip init: flip.config.json plus scheduling files filled with a validated cron expression and
// zone. The systemd files are checked by systemd itself (systemd-analyze), YAML files by a YAML
// parser, when those tools are installed.
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {cronToOnCalendar} from '../../src/init/calendar.js'
import {InitError} from '../../src/init/errors.js'
import {init, ownPackage, shellQuote, triggerCron, type InitOptions} from '../../src/init/init.js'
import {tempDir} from '../support/temp.js'
import {loadConfigFile, resolveConfig} from '../../src/cli/config.js'
import {guardSettings} from '../../src/cutover/guards.js'

const NOW = new Date('2026-11-26T12:00:00Z')
const ALL = ['cron,systemd,k8s,github,gitlab']
const has = (tool: string, args: string[]) => spawnSync(tool, args).status === 0
const hasSystemdAnalyze = has('systemd-analyze', ['--version'])
const hasPyYaml = has('python3', ['-c', 'import yaml'])

function project(): string {
  return tempDir('flip-init-')
}

function read(dir: string, path: string): string {
  return readFileSync(join(dir, path), 'utf8')
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML of any shape: the assertions say what they expect
function yamlOf(text: string): any {
  const parsed = spawnSync('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], {input: text})
  if (parsed.status !== 0) throw new Error(`invalid YAML: ${parsed.stderr}`)
  return JSON.parse(parsed.stdout.toString())
}

describe('flip init', () => {
  it('writes flip.config.json and the five scheduling files, filled with the schedule and its next three fire times in the zone', async () => {
    const dir = project()
    const result = await init({dir, cron: '1 0 * * *', tz: 'America/New_York', with: ALL, now: NOW, config: {url: 'valkey://10.0.0.5:6379'}})
    expect(result.files.map((file) => file.path)).toEqual([
      'flip.config.json',
      'deploy/cron/flip-cutover.crontab',
      'deploy/systemd/flip-cutover.service',
      'deploy/systemd/flip-cutover.timer',
      'deploy/k8s/flip-cutover-cronjob.yaml',
      '.github/workflows/flip.yml',
      'ci/flip.gitlab-ci.yml',
    ])
    expect(result.schedule).toEqual({
      cron: '1 0 * * *',
      // The schedulers start flip 5 minutes early, for pre-flight; flip fires at 00:01:00 itself.
      trigger: '56 23 * * *',
      tz: 'America/New_York',
      next: [
        {at: '2026-11-27T05:01:00.000Z', local: '2026-11-27 00:01:00'},
        {at: '2026-11-28T05:01:00.000Z', local: '2026-11-28 00:01:00'},
        {at: '2026-11-29T05:01:00.000Z', local: '2026-11-29 00:01:00'},
      ],
    })
    expect(JSON.parse(read(dir, 'flip.config.json'))).toEqual({
      url: 'valkey://10.0.0.5:6379',
      stateDir: '.flip',
      live: 0,
      shadow: 1,
      archive: 2,
      tz: 'America/New_York',
      cron: '1 0 * * *',
      // The cutover guards, with their defaults (issue 10).
      minKeys: 'off',
      maxRemoved: '50%',
      maxChanged: 'off',
      maxDrop: '90%',
      maxRise: 'off',
      guardFields: [],
    })
    for (const file of result.files) expect(read(dir, file.path)).not.toMatch(/\{\{[A-Z_]+\}\}/)

    const crontab = read(dir, 'deploy/cron/flip-cutover.crontab')
    expect(crontab).toContain('CRON_TZ=America/New_York\n')
    // flip from the registry, pinned to this version; the state dir (lock, log) made on a fresh host.
    expect(crontab).toMatch(/^56 23 \* \* \* cd .* && mkdir -p \.flip && flock -n \.flip\/cutover\.lock npx --yes --package=valkey-flip@0\.1\.0 flip cutover --yes --cron '1 0 \* \* \*' --tz America\/New_York --not-after 5m --json >> \.flip\/cutover\.log 2>&1$/m)
    expect(crontab).not.toContain('%') // cron would cut the command there

    const timer = read(dir, 'deploy/systemd/flip-cutover.timer')
    expect(timer).toContain('OnCalendar=*-*-* 23:56:00 America/New_York\n')
    expect(timer).toContain('AccuracySec=1s\n')
    expect(timer).not.toMatch(/^Persistent=true/m)
    expect(read(dir, 'deploy/systemd/flip-cutover.service')).toMatch(/^Type=oneshot$/m)
    expect(read(dir, 'deploy/systemd/flip-cutover.service')).toMatch(/^ExecStart=\/usr\/bin\/env npx --yes --package=valkey-flip@0\.1\.0 flip cutover /m)
    // Nothing to install first, nothing carried between jobs (comments aside).
    const code = (path: string) => read(dir, path).split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n')
    for (const file of result.files) expect(code(file.path)).not.toMatch(/--no-install|npm ci|artifact|gh run download/)

    const github = read(dir, '.github/workflows/flip.yml')
    expect(github).toContain('${{ secrets.FLIP_URL }}') // GitHub's own placeholders survive
    if (hasPyYaml) {
      const cronJob = yamlOf(read(dir, 'deploy/k8s/flip-cutover-cronjob.yaml'))
      expect(cronJob).toMatchObject({
        kind: 'CronJob',
        spec: {schedule: '56 23 * * *', timeZone: 'America/New_York', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 120},
      })
      const workflow = yamlOf(github)
      const on = workflow.on ?? workflow.true // YAML 1.1 parsers read the key `on` as true
      expect(on.schedule).toEqual([{cron: '56 23 * * *', timezone: 'America/New_York'}])
      const flip = 'npx --yes --package=valkey-flip@0.1.0 flip'
      // No npm ci and no artifacts: the cutover job finds the manifest on the server.
      expect(workflow.jobs.cutover.steps.map((step: {uses?: string; run?: string}) => step.uses ?? step.run)).toEqual([
        'actions/checkout@v4',
        'actions/setup-node@v4',
        `${flip} cutover --yes --cron '1 0 * * *' --tz America/New_York --not-after 5m --json`,
      ])
      expect(on.push.paths).toEqual(['data/prices.ndjson'])
      expect(workflow.jobs.stage.steps.map((step: {uses?: string; run?: string}) => step.uses ?? step.run)).toEqual([
        'actions/checkout@v4',
        'actions/setup-node@v4',
        `${flip} stage data/prices.ndjson --replace --json`,
        `${flip} verify --json`,
      ])
      expect(workflow.jobs.cutover.if).toBe("github.event_name == 'schedule'")
      const gitlab = yamlOf(read(dir, 'ci/flip.gitlab-ci.yml'))
      expect(gitlab['flip-cutover'].rules).toEqual([{if: '$CI_PIPELINE_SOURCE == "schedule"'}])
      expect(gitlab['flip-stage'].script).toEqual([`${flip} stage data/prices.ndjson --replace --json`, `${flip} verify --json`])
      expect(gitlab['flip-cutover'].script).toEqual([`${flip} cutover --yes --cron '1 0 * * *' --tz America/New_York --not-after 5m --json`])
      expect(gitlab['flip-stage'].artifacts).toBeUndefined()
      expect(gitlab['flip-cutover'].artifacts).toBeUndefined()
      const container = cronJob.spec.jobTemplate.spec.template.spec.containers[0]
      expect(container.command).toEqual([...flip.split(' '), 'cutover', '--yes', '--cron', '1 0 * * *', '--tz', 'America/New_York', '--not-after', '5m', '--json'])
      // flip.config.json from a ConfigMap, not a project checkout on a volume.
      expect(container.volumeMounts).toContainEqual({name: 'config', mountPath: '/work/flip.config.json', subPath: 'flip.config.json', readOnly: true})
    }
  })

  it.runIf(hasSystemdAnalyze)('systemd accepts the unit files and computes the same fire times as cron-parser', async () => {
    const dir = project()
    const result = await init({dir, cron: '*/15 9-17 * * 1-5', tz: 'Europe/Berlin', with: ['systemd'], now: NOW})
    const verify = spawnSync('systemd-analyze', ['verify', 'flip-cutover.timer', 'flip-cutover.service'], {cwd: join(dir, 'deploy/systemd')})
    expect(verify.stderr.toString()).toBe('')
    const onCalendar = /^OnCalendar=(.*)$/m.exec(read(dir, 'deploy/systemd/flip-cutover.timer'))![1]
    expect(onCalendar).toBe('Mon..Fri *-*-* 09..17:00,15,30,45:00 Europe/Berlin')
    const calendar = spawnSync('systemd-analyze', ['calendar', '--iterations=3', '--base-time', '2026-11-26 12:00:00 UTC', onCalendar])
    const elapses = [...calendar.stdout.toString().matchAll(/(?:Next elapse|Iter\. #\d): \w{3} (\S+ \S+) UTC/g)].map((m) => new Date(`${m[1]}Z`).toISOString())
    expect(elapses).toEqual(result.schedule!.next.map((time) => time.at))
  })

  it('without --with writes flip.config.json and nothing else, even with a --cron the schedule files could not take', async () => {
    for (const cron of [undefined, '0 1 0 * * *']) {
      const dir = project()
      const result = await init({dir, cron, tz: 'UTC', now: NOW})
      expect(result.files.map((file) => file.path)).toEqual(['flip.config.json'])
      expect(readdirSync(dir, {recursive: true})).toEqual(['flip.config.json'])
      expect(JSON.parse(read(dir, 'flip.config.json')).cron).toBe(cron)
    }
  })

  it('pins the launcher to the name and version in package.json, and quotes a working dir with spaces for sh', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    expect(ownPackage()).toEqual({name: pkg.name, version: pkg.version})
    expect(pkg.name).toBe('valkey-flip')
    expect(pkg.bin).toEqual({flip: './bin/run.js'})
    const dir = join(project(), "it's a dir")
    await init({dir, tz: 'UTC', with: ['cron'], now: NOW, config: {stateDir: 'var/flip state'}})
    const job = read(dir, 'deploy/cron/flip-cutover.crontab').split('\n').find((line) => line.startsWith('56 23 '))!
    expect(job).toContain(`cd ${shellQuote(dir)} && mkdir -p 'var/flip state' && flock -n 'var/flip state'/cutover.lock `)
    expect(shellQuote(dir)).toBe(`'${dir.replace("'", "'\\''")}'`)
    expect(shellQuote('/srv/prices-2.0')).toBe('/srv/prices-2.0')
  })

  it('never overwrites a file without force; the error names the file and nothing is written', async () => {
    const dir = project()
    writeFileSync(join(dir, 'flip.config.json'), '{"live": 5}\n')
    const refused = init({dir, with: ['k8s'], now: NOW})
    await expect(refused).rejects.toBeInstanceOf(InitError)
    await expect(refused).rejects.toMatchObject({exitCode: 2})
    await expect(refused).rejects.toThrow(/flip\.config\.json already exists; pass --force to overwrite/)
    expect(existsSync(join(dir, 'deploy/k8s/flip-cutover-cronjob.yaml'))).toBe(false)
    expect(read(dir, 'flip.config.json')).toBe('{"live": 5}\n')

    const forced = await init({dir, with: ['k8s'], now: NOW, force: true})
    expect(forced.files.find((file) => file.path === 'flip.config.json')?.overwritten).toBe(true)
    expect(forced.schedule?.cron).toBe('1 0 * * *') // the default: 00:01 every day
  })

  it('refuses bad input with exit 2: cron, zone, scheduler name, a password in the URL', async () => {
    const dir = project()
    for (const [options, message] of [
      [{cron: '61 0 * * *'}, /invalid cron expression "61 0 \* \* \*"/],
      [{cron: '1 0 * * *', tz: 'Atlantis/Capital'}, /unknown time zone "Atlantis\/Capital"/],
      [{with: ['cron,slurm']}, /unknown --with "slurm" \(choose from cron, systemd, k8s, github, gitlab\)/],
      [{config: {url: 'valkey://app:secret@10.0.0.5:6379'}}, /must not contain a password/],
      [{cron: '0 1 0 * * *', with: ['cron']}, /need a 5-field cron expression/],
    ] as Array<[InitOptions, RegExp]>) {
      const attempt = init({dir, ...options, now: NOW})
      await expect(attempt).rejects.toThrow(message)
      await expect(attempt).rejects.toMatchObject({exitCode: 2})
    }
    expect(existsSync(join(dir, 'flip.config.json'))).toBe(false)
  })

  it('starts the scheduled job a few minutes early only where cron can say so simply', () => {
    expect(triggerCron('1 0 * * *', 5)).toBe('56 23 * * *')
    expect(triggerCron('30 14 * * *', 10)).toBe('20 14 * * *')
    expect(triggerCron('1 0 * * 5', 5)).toBe('1 0 * * 5') // the day would change too: trigger at the moment
    expect(triggerCron('*/15 * * * *', 5)).toBe('*/15 * * * *')
  })

  it('converts cron to systemd calendars, refusing what systemd cannot express', () => {
    expect(cronToOnCalendar('1 0 * * *', 'UTC')).toBe('*-*-* 00:01:00 UTC')
    expect(cronToOnCalendar('30 2 1,15 */3 *', 'UTC')).toBe('*-01,04,07,10-01,15 02:30:00 UTC')
    expect(cronToOnCalendar('0 0 * * 0,6', 'UTC')).toBe('Sun,Sat *-*-* 00:00:00 UTC')
    expect(() => cronToOnCalendar('0 0 1 * 1', 'UTC')).toThrow(/restricts both the day of the month and the weekday/)
  })

  it('flip.config.json carries the cutover guards with their defaults, and flip reads them back as those defaults', async () => {
    const dir = project()
    await init({dir, tz: 'UTC', now: NOW})
    const config = resolveConfig({}, {}, loadConfigFile(join(dir, 'flip.config.json')))
    expect(guardSettings(config, config.guardFields)).toEqual(guardSettings({}))
    expect(guardSettings(config, config.guardFields)).toEqual({minKeys: null, maxRemoved: {pct: 50}, maxChanged: null, maxDrop: 90, maxRise: null})
    rmSync(dir, {recursive: true, force: true})
  })
})
