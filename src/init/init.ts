// flip init, as a function: writes flip.config.json and, from templates/init/, the files that
// run `flip cutover` on a schedule — a crontab line (with flock), a systemd oneshot service +
// timer, a Kubernetes CronJob, a GitHub Actions workflow and a GitLab CI file — filled with the
// cron expression and time zone (validated by cron-parser); with ci-lease, a GitHub Actions matrix
// job and a GitLab parallel: job that lease a db per CI job (no schedule). The files run flip through npx
// pinned to this package's name and version, so a fresh host or runner needs only Node.js.
// Nothing is written when any target file exists, unless force: the error names the file.
import {existsSync, readFileSync} from 'node:fs'
import {join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {writeFileAtomic} from '../util/atomic-file.js'
import {localTimeZone, nextCronTimes, parseDuration, validateTimeZone, wallClockIn} from '../schedule/index.js'
import {DEFAULT_GUARDS} from '../cutover/guards.js'
import {cronToOnCalendar} from './calendar.js'
import {InitError} from './errors.js'

const SCHEDULERS = ['cron', 'systemd', 'k8s', 'github', 'gitlab'] as const
export type Scheduler = (typeof SCHEDULERS)[number]
/** What --with takes besides schedulers: files that need no schedule. */
const EXTRAS = ['ci-lease'] as const
type Extra = (typeof EXTRAS)[number]
export const WITH_CHOICES = [...SCHEDULERS, ...EXTRAS]

/** 00:01 every day: the moment after midnight a sale starts. */
export const DEFAULT_CRON = '1 0 * * *'

export interface InitOptions {
  /** Project directory to write into (default: the current directory). */
  dir?: string
  /** 5-field cron expression (default DEFAULT_CRON when schedule files are asked for). */
  cron?: string
  /** IANA zone the schedule is read in (default: the machine's zone). */
  tz?: string
  /** Which schedule files to write. */
  with?: string[]
  force?: boolean
  /** Settings for flip.config.json (a URL must not contain a password). */
  config?: {url?: string; stateDir?: string; live?: number; shadow?: number; archive?: number}
  /** How late a triggered cutover may still fire (default 5m). */
  notAfter?: string
  /** Start the scheduled job this many minutes before the moment, for pre-flight (default 5; see triggerCron). */
  leadMinutes?: number
  /** The dataset file the CI templates stage (default data/prices.ndjson). */
  dataFile?: string
  /** Where the templates are (default: the package's templates/init/). */
  templatesDir?: string
  now?: Date
}

export interface InitFile {
  /** Relative to dir. */
  path: string
  what: string
  overwritten: boolean
}

export interface InitResult {
  dir: string
  files: InitFile[]
  schedule: {
    cron: string
    /** When the schedulers start flip: `leadMinutes` before cron when it can be written so, else cron itself. */
    trigger: string
    tz: string
    /** Next three fire times, as instants and as wall-clock times in tz ("2026-11-27 00:01:00"). */
    next: Array<{at: string; local: string}>
  } | null
  config: Record<string, unknown>
}

interface Output {
  path: string
  what: string
  template?: string
  content?: string
}

const OUTPUTS: Record<Scheduler, Array<{path: string; what: string; template: string}>> = {
  cron: [{path: 'deploy/cron/flip-cutover.crontab', what: 'crontab line (with flock)', template: 'flip-cutover.crontab'}],
  systemd: [
    {path: 'deploy/systemd/flip-cutover.service', what: 'systemd oneshot service', template: 'flip-cutover.service'},
    {path: 'deploy/systemd/flip-cutover.timer', what: 'systemd timer', template: 'flip-cutover.timer'},
  ],
  k8s: [{path: 'deploy/k8s/flip-cutover-cronjob.yaml', what: 'Kubernetes CronJob', template: 'flip-cutover-cronjob.yaml'}],
  github: [{path: '.github/workflows/flip.yml', what: 'GitHub Actions workflow', template: 'github-workflow.yml'}],
  gitlab: [{path: 'ci/flip.gitlab-ci.yml', what: 'GitLab CI file (include it from .gitlab-ci.yml)', template: 'gitlab-ci.yml'}],
}

// CI jobs that lease a db each (flip db lease --user), run the tests and always release it.
const EXTRA_OUTPUTS: Record<Extra, Array<{path: string; what: string; template: string}>> = {
  'ci-lease': [
    {path: '.github/workflows/flip-db-lease.yml', what: 'GitHub Actions matrix job: a leased db per job', template: 'github-db-lease.yml'},
    {path: 'ci/flip-db-lease.gitlab-ci.yml', what: 'GitLab parallel: job, a leased db per job (include it from .gitlab-ci.yml)', template: 'gitlab-db-lease.yml'},
  ],
}

export function defaultTemplatesDir(): string {
  return fileURLToPath(new URL('../../templates/init/', import.meta.url))
}

export async function init(options: InitOptions = {}): Promise<InitResult> {
  const dir = resolve(options.dir ?? '.')
  const {schedulers, extras} = parseWith(options.with ?? [])
  const tz = options.tz ? validateTimeZone(options.tz) : localTimeZone()
  const notAfter = options.notAfter ?? '5m'
  parseDuration(notAfter, '--not-after duration')
  const url = options.config?.url
  if (url && /\/\/[^/@]*:[^/@]*@/.test(url)) throw new InitError('the URL must not contain a password (flip.config.json gets committed): set FLIP_PASSWORD instead')

  let schedule: InitResult['schedule'] = null
  const cron = options.cron ?? (schedulers.length > 0 ? DEFAULT_CRON : undefined)
  if (cron !== undefined) {
    const now = options.now ?? new Date()
    const next = nextCronTimes(cron, tz, 3, now).map((at) => ({at: at.toISOString(), local: formatLocal(at, tz)}))
    const normalized = cron.trim().split(/\s+/).join(' ')
    schedule = {cron: normalized, trigger: triggerCron(normalized, options.leadMinutes ?? 5), tz, next}
  }

  const stateDir = options.config?.stateDir ?? '.flip'
  const config: Record<string, unknown> = {
    ...(url ? {url} : {}),
    stateDir,
    live: options.config?.live ?? 0,
    shadow: options.config?.shadow ?? 1,
    archive: options.config?.archive ?? 2,
    tz,
    ...(schedule ? {cron: schedule.cron} : {}),
    // The cutover guards with their defaults, written out so a team sees and tunes them.
    ...DEFAULT_GUARDS,
    guardFields: [],
  }
  const outputs: Output[] = [{path: 'flip.config.json', what: 'flip settings (no secrets)', content: JSON.stringify(config, null, 2) + '\n'}]
  if (schedule && schedulers.length > 0) {
    const lead = schedule.trigger === schedule.cron ? 0 : (options.leadMinutes ?? 5)
    const launcher = ownPackage()
    const values: Record<string, string> = {
      CRON: schedule.cron,
      TRIGGER_CRON: schedule.trigger,
      LEAD: `${lead} minutes`,
      TZ: tz,
      NOT_AFTER: notAfter,
      WORKDIR: dir,
      WORKDIR_SH: shellQuote(dir),
      STATE_DIR: stateDir,
      STATE_DIR_SH: shellQuote(stateDir),
      PACKAGE: launcher.name,
      VERSION: launcher.version,
      DATA_FILE: options.dataFile ?? 'data/prices.ndjson',
      GITLAB_PATH: OUTPUTS.gitlab[0].path,
      NEXT_TIMES: schedule.next.map((time) => `${time.local} ${tz}`).join(', '),
    }
    if (schedulers.includes('systemd')) values.ON_CALENDAR = cronToOnCalendar(schedule.trigger, tz)
    else if (schedule.cron.split(' ').length !== 5) throw new InitError(`the schedule files need a 5-field cron expression (minute hour day month weekday), got "${schedule.cron}"`)
    const templatesDir = options.templatesDir ?? defaultTemplatesDir()
    for (const scheduler of schedulers) {
      for (const output of OUTPUTS[scheduler]) {
        outputs.push({path: output.path, what: output.what, content: fill(readFileSync(join(templatesDir, output.template), 'utf8'), values, output.template)})
      }
    }
  }

  if (extras.length > 0) {
    const launcher = ownPackage()
    const values = {PACKAGE: launcher.name, VERSION: launcher.version, GITLAB_LEASE_PATH: EXTRA_OUTPUTS['ci-lease'][1].path}
    const templatesDir = options.templatesDir ?? defaultTemplatesDir()
    for (const extra of extras) {
      for (const output of EXTRA_OUTPUTS[extra]) {
        outputs.push({path: output.path, what: output.what, content: fill(readFileSync(join(templatesDir, output.template), 'utf8'), values, output.template)})
      }
    }
  }

  // Check every target before writing any: a refused init leaves nothing half-written.
  const existing = outputs.filter((output) => existsSync(join(dir, output.path)))
  if (existing.length > 0 && !options.force) {
    throw new InitError(`${relative(process.cwd(), join(dir, existing[0].path)) || existing[0].path} already exists; pass --force to overwrite${existing.length > 1 ? ` (and ${existing.length - 1} more)` : ''}`)
  }
  const files: InitFile[] = []
  for (const output of outputs) {
    const path = join(dir, output.path)
    await writeFileAtomic(path, output.content!, 0o644)
    files.push({path: output.path, what: output.what, overwritten: existing.includes(output)})
  }
  return {dir, files, schedule, config}
}

/**
 * The job schedulers start flip `leadMinutes` before the moment so that connecting and
 * pre-flight (a full verify of the shadow) are done when it comes; flip's own --cron then
 * fires on the second. Written only for the common shape "M H * * *" (every day at one time),
 * where moving back across midnight changes nothing else; any other expression triggers at
 * the moment itself (flip then fires as soon as pre-flight is done, within --not-after).
 */
export function triggerCron(cron: string, leadMinutes: number): string {
  const fields = cron.split(' ')
  if (leadMinutes <= 0 || fields.length !== 5 || !/^\d+$/.test(fields[0]) || !/^\d+$/.test(fields[1])) return cron
  if (fields.slice(2).some((field) => field !== '*')) return cron
  const minuteOfDay = (((Number(fields[1]) * 60 + Number(fields[0]) - leadMinutes) % 1440) + 1440) % 1440
  return `${minuteOfDay % 60} ${Math.floor(minuteOfDay / 60)} * * *`
}

function parseWith(list: string[]): {schedulers: Scheduler[]; extras: Extra[]} {
  const names = list.flatMap((item) => item.split(',')).map((item) => item.trim().toLowerCase()).filter(Boolean)
  for (const name of names) {
    if (!(WITH_CHOICES as readonly string[]).includes(name)) throw new InitError(`unknown --with "${name}" (choose from ${SCHEDULERS.join(', ')}) for a schedule, or ${EXTRAS.join(', ')} for CI jobs that lease a db each`)
  }
  return {schedulers: SCHEDULERS.filter((scheduler) => names.includes(scheduler)), extras: EXTRAS.filter((extra) => names.includes(extra))}
}

/** Replaces {{NAME}} placeholders (upper case, no spaces, so GitHub's ${{ … }} stays as is). */
export function fill(template: string, values: Record<string, string>, name = 'template'): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`${name}: no value for {{${key}}}`)
    return values[key]
  })
}

/** The name and version the generated files pin (`npx --package=NAME@VERSION flip …`). */
export function ownPackage(): {name: string; version: string} {
  const {name, version} = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {name: string; version: string}
  return {name, version}
}

/** A word for sh: as is when it holds only safe characters, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[\w@+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

function formatLocal(at: Date, tz: string): string {
  const wall = wallClockIn(tz, at.getTime())
  const two = (n: number) => String(n).padStart(2, '0')
  return `${wall.year}-${two(wall.month)}-${two(wall.day)} ${two(wall.hour)}:${two(wall.minute)}:${two(wall.second)}`
}
